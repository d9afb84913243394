using SaCam.Core.Realtime;

namespace SaCam.App.Specs;

/// <summary>How each frame or image is explained: a method id (built-in or a plugin's), and for sacam-rt its time
/// budget and smoothing. The id "none" classifies without explaining (the baseline of every speed figure).</summary>
public sealed record MethodSpec
{
    public const string ClassifyOnly = "none";
    /// <summary>The frame-budgeted SA-CAM: the one id whose method takes options of its own (budget, smoothing).</summary>
    public const string Realtime = "sacam-rt";

    public string Id { get; init; } = Realtime;
    /// <summary>sacam-rt's per-frame budget in milliseconds; null: automatic (measured from the gradient pass).</summary>
    public double? BudgetMs { get; init; }
    /// <summary>sacam-rt: share of the previous map kept, in [0, 1).</summary>
    public double Smoothing { get; init; }

    public bool Explains => Id != ClassifyOnly;

    public RealtimeSaCamOptions RealtimeOptions => new() { BudgetMs = BudgetMs, TemporalSmoothing = Smoothing };

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Id)) throw new ArgumentException("The method is empty: see `sacam methods`.");
        if (BudgetMs is double b && !(b > 0 && double.IsFinite(b)))
            throw new ArgumentException($"'{b.ToString(System.Globalization.CultureInfo.InvariantCulture)}' is not a budget: give auto or a positive number of milliseconds.");
        if (Smoothing is < 0 or >= 1 || double.IsNaN(Smoothing))
            throw new ArgumentException($"--smoothing must lie in [0, 1): the share of the previous map kept (got {Smoothing.ToString(System.Globalization.CultureInfo.InvariantCulture)}).");
    }

    /// <summary>The one budget parser of every front-end: "auto" (null) or a positive, finite number of milliseconds.</summary>
    public static double? ParseBudget(string text) => RealtimeSaCamOptions.ParseBudget(text);
}
