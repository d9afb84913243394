using System.CommandLine;
using System.CommandLine.Parsing;
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
            if (!TryValue(r, out T v)) return;
            if (v < min) r.AddError($"{option.Name} must be at least {Text(min)} (got {Text(v)}).");
        });
        return option;
    }

    public static Option<T?> AtLeast<T>(this Option<T?> option, T min) where T : struct, INumber<T>
    {
        option.Validators.Add(r =>
        {
            if (TryValue(r, out T? value) && value is T v && v < min) r.AddError($"{option.Name} must be at least {Text(min)} (got {Text(v)}).");
        });
        return option;
    }

    /// <summary>min &lt;= value &lt; max (or &lt;= max when inclusive), and a number (no NaN).</summary>
    public static Option<double> Within(this Option<double> option, double min, double max, bool maxInclusive, string meaning)
    {
        option.Validators.Add(r =>
        {
            if (!TryValue(r, out double v)) return;
            if (double.IsNaN(v) || v < min || (maxInclusive ? v > max : v >= max))
                r.AddError($"{option.Name} must lie in [{Text(min)}, {Text(max)}{(maxInclusive ? "]" : ")")}: {meaning} (got {Text(v)}).");
        });
        return option;
    }

    /// <summary>min &lt;= value &lt;= max, for whole numbers (a port, say).</summary>
    public static Option<int> Between(this Option<int> option, int min, int max)
    {
        option.Validators.Add(r =>
        {
            if (TryValue(r, out int v) && (v < min || v > max)) r.AddError($"{option.Name} must lie in {min}..{max} (got {v}).");
        });
        return option;
    }

    /// <summary>
    /// Makes every option validator under <paramref name="command"/> skip a value that did not convert: the parser
    /// already reports that as a usage error naming the option, and a validator that read it would throw out of the
    /// parse (a crash with a stack trace). Done once over the whole tree, so validators written anywhere are covered.
    /// </summary>
    public static void SkipUnconvertedValues(Command command)
    {
        foreach (var option in command.Options)
        {
            for (int i = 0; i < option.Validators.Count; i++)
            {
                var validate = option.Validators[i];
                option.Validators[i] = r =>
                {
                    if (TryValue(r, out object? _)) validate(r);
                };
            }
        }
        foreach (var sub in command.Subcommands) SkipUnconvertedValues(sub);
    }

    /// <summary>
    /// The option's value, or false when its text did not convert ("ten" for a number, 1e99 for an int). The parser
    /// reports that itself as a usage error naming the option; reading the value here would throw out of the parse
    /// and crash the process with a stack trace instead.
    /// </summary>
    public static bool TryValue<T>(OptionResult result, out T value)
    {
        try
        {
            value = result.GetValueOrDefault<T>();
            return true;
        }
        catch (InvalidOperationException)
        {
            value = default!;
            return false;
        }
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
