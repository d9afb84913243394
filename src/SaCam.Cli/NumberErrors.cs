using System.CommandLine.Parsing;
using System.Globalization;

namespace SaCam.Cli;

/// <summary>
/// The message for a numeric option whose text is not a number of its type ("--max-frames 'ten' is not a whole
/// number"), in place of the parser's, which names a .NET type ('System.Nullable`1[System.Int64]'): the user
/// needs the flag, the text and what would do.
/// </summary>
internal static class NumberErrors
{
    /// <summary>The message for <paramref name="error"/> when it is a numeric option's value that did not convert; else null.</summary>
    public static string? Describe(ParseError error)
    {
        var option = error.SymbolResult switch
        {
            OptionResult o => o,
            ArgumentResult { Parent: OptionResult o } => o,
            _ => null,
        };
        if (option is null || option.Tokens.Count == 0) return null;
        var type = Nullable.GetUnderlyingType(option.Option.ValueType) ?? option.Option.ValueType;
        var name = option.Option.Name;
        foreach (var token in option.Tokens)
        {
            var text = token.Value;
            var what = type == typeof(int) ? Whole(text, int.MinValue, int.MaxValue)
                : type == typeof(long) ? Whole(text, long.MinValue, long.MaxValue)
                : type == typeof(double) || type == typeof(float) ? Real(text)
                : null;
            if (what is not null) return $"{name} '{text}' is not {what}.";
        }
        return null;
    }

    private static string? Whole(string text, long min, long max)
    {
        if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) && v >= min && v <= max) return null;
        bool looksWhole = text.TrimStart('-', '+').Length > 0 && text.TrimStart('-', '+').All(char.IsAsciiDigit);
        return looksWhole ? $"a whole number in {min.ToString(CultureInfo.InvariantCulture)}..{max.ToString(CultureInfo.InvariantCulture)}"
            : "a whole number";
    }

    private static string? Real(string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _) ? null : "a number";
}
