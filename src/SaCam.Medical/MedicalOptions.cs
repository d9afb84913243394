using System.Globalization;
using OpenCvSharp;

namespace SaCam.Medical;

/// <summary>What `--window`, `--windows`, `--series`, `--mask` and `--fps` ask of a DICOM source.</summary>
public sealed record MedicalOptions
{
    /// <summary>One window for all three channels (grey to RGB): a preset, dicom, minmax or C,W.</summary>
    public string? Window { get; init; }
    /// <summary>Three windows stacked as the three input channels (e.g. brain,blood,bone): overrides Window.</summary>
    public string? Windows { get; init; }
    /// <summary>1-based index of the series to review when a folder holds several.</summary>
    public int? Series { get; init; }
    /// <summary>Regions blacked out (frame pixels) before anything is explained or written.</summary>
    public IReadOnlyList<Rect> Masks { get; init; } = [];
    /// <summary>The values (HU after rescale) that map to the model's 0 and 1 before its normalization, for models
    /// trained on raw scaled values: the model gets them at full precision, unclamped; the window still draws the picture.</summary>
    public (double Low, double High)? InputRange { get; init; }

    /// <summary>Parses --input-range LO,HI.</summary>
    public static (double Low, double High) ParseInputRange(string text)
    {
        var parts = text.Split(',');
        if (parts.Length == 2 && double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double lo)
            && double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double hi) && hi > lo)
            return (lo, hi);
        throw new ArgumentException($"--input-range '{text}': use LOW,HIGH in HU with LOW < HIGH, e.g. -1024,1024.");
    }

    /// <summary>Slices per second of a series in video outputs (a cine keeps its own frame time).</summary>
    public double SeriesFramesPerSecond { get; init; } = 5;

    public IReadOnlyList<WindowChoice> WindowChoices()
    {
        if (Windows is not null)
        {
            var parts = Windows.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 3) throw new ArgumentException($"--windows '{Windows}': give three windows, one per input channel, e.g. brain,blood,bone.");
            return parts.Select(p => DicomWindow.Parse(p == "bone" ? "bone-rsna" : p)).ToList();
        }
        return [DicomWindow.Parse(Window)];
    }

    /// <summary>Parses --mask x,y,w,h (repeatable).</summary>
    public static Rect ParseMask(string text)
    {
        var parts = text.Split(',');
        if (parts.Length == 4 && parts.All(p => int.TryParse(p, NumberStyles.Integer, CultureInfo.InvariantCulture, out _)))
        {
            var v = parts.Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
            if (v[2] > 0 && v[3] > 0 && v[0] >= 0 && v[1] >= 0) return new Rect(v[0], v[1], v[2], v[3]);
        }
        throw new ArgumentException($"--mask '{text}': use x,y,w,h in frame pixels (w and h positive), e.g. 0,0,300,40.");
    }
}
