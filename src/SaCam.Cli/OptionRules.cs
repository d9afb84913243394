using System.CommandLine;
using System.Globalization;
using System.Numerics;

namespace SaCam.Cli;

/// <summary>
/// Range rules on option values, checked while the command line is parsed: a bad value is a usage error (exit 2)
/// whose message names the flag, before any model is loaded or output opened.
/// </summary>
internal static class OptionRules
{
    public static Option<T> AtLeast<T>(this Option<T> option, T min) where T : struct, INumber<T>
    {
        option.Validators.Add(r =>
        {
            var v = r.GetValueOrDefault<T>();
            if (v < min) r.AddError($"{option.Name} must be at least {Text(min)} (got {Text(v)}).");
        });
        return option;
    }

    public static Option<T?> AtLeast<T>(this Option<T?> option, T min) where T : struct, INumber<T>
    {
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<T?>() is T v && v < min) r.AddError($"{option.Name} must be at least {Text(min)} (got {Text(v)}).");
        });
        return option;
    }

    /// <summary>min &lt;= value &lt; max (or &lt;= max when inclusive), and a number (no NaN).</summary>
    public static Option<double> Within(this Option<double> option, double min, double max, bool maxInclusive, string meaning)
    {
        option.Validators.Add(r =>
        {
            var v = r.GetValueOrDefault<double>();
            if (double.IsNaN(v) || v < min || (maxInclusive ? v > max : v >= max))
                r.AddError($"{option.Name} must lie in [{Text(min)}, {Text(max)}{(maxInclusive ? "]" : ")")}: {meaning} (got {Text(v)}).");
        });
        return option;
    }

    /// <summary>The value must be one of <paramref name="choices"/> (case-insensitive); the message lists them.</summary>
    public static Option<string> OneOf(this Option<string> option, params string[] choices)
    {
        option.Validators.Add(r =>
        {
            var v = r.GetValueOrDefault<string>();
            if (v is not null && !choices.Contains(v, StringComparer.OrdinalIgnoreCase))
                r.AddError($"{option.Name} '{v}' is not one of: {string.Join(", ", choices)}.");
        });
        return option;
    }

    /// <summary>A file the command writes must have one of these extensions (the format follows it).</summary>
    public static Option<string?> Extensions(this Option<string?> option, string kind, params string[] extensions)
    {
        option.Validators.Add(r =>
        {
            var v = r.GetValueOrDefault<string?>();
            if (v is null) return;
            var ext = Path.GetExtension(v).ToLowerInvariant();
            if (!extensions.Contains(ext))
                r.AddError($"{option.Name} '{v}': {kind} is written as {string.Join(", ", extensions)} (the format follows the extension).");
        });
        return option;
    }

    private static string Text<T>(T v) where T : INumber<T> => v.ToString(null, CultureInfo.InvariantCulture);
}
