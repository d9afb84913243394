using System.Globalization;
using SaCam.Core.Methods;
using SaCam.Core.Realtime;

namespace SaCam.App.Building;

/// <summary>A method of an evaluation, with the label it has in the report (sacam-rt@40~0.5 keeps its settings in it).</summary>
public sealed record EvalMethod(ICamMethod Method, string Label) : IDisposable
{
    public void Dispose() => (Method as IDisposable)?.Dispose();
}

/// <summary>Method ids as `sacam eval --methods` takes them: a plain id, or sacam-rt@BUDGET[~SMOOTHING].</summary>
public static class EvalMethods
{
    public static EvalMethod Create(string id)
    {
        if (id.StartsWith("sacam-rt@", StringComparison.Ordinal))
        {
            var parts = id[9..].Split('~');
            double? budget = null;
            if (parts.Length > 2 || !TryParseBudget(parts[0], out budget) ||
                !double.TryParse(parts.Length == 2 ? parts[1] : "0", CultureInfo.InvariantCulture, out double smoothing))
                throw new ArgumentException($"'{id}' is not sacam-rt@BUDGET_MS or sacam-rt@BUDGET_MS~SMOOTHING (e.g. sacam-rt@40~0.5, sacam-rt@auto).");
            var options = new RealtimeSaCamOptions { BudgetMs = budget, TemporalSmoothing = smoothing };
            options.Validate();
            return new EvalMethod(new RealtimeSaCam(options), id);
        }
        return new EvalMethod(MethodRegistry.Create(id), id);
    }

    private static bool TryParseBudget(string text, out double? budget)
    {
        try { budget = RealtimeSaCamOptions.ParseBudget(text); return true; }
        catch (ArgumentException) { budget = null; return false; }
    }
}
