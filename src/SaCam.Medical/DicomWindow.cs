using System.Globalization;

namespace SaCam.Medical;

/// <summary>
/// A window (centre and width, in modality units after rescale: Hounsfield units for CT) that maps values to grey
/// levels, as the reference viewers do. Presets carry OHIF's values, and the three windows of haemorrhage models.
/// </summary>
public sealed record DicomWindow(string Name, double Center, double Width)
{
    public static readonly IReadOnlyDictionary<string, DicomWindow> Presets = new Dictionary<string, DicomWindow>(StringComparer.OrdinalIgnoreCase)
    {
        ["soft"] = new("soft", 40, 400),
        ["mediastinum"] = new("mediastinum", 40, 400),
        ["lung"] = new("lung", -600, 1500),
        ["liver"] = new("liver", 90, 150),
        ["bone"] = new("bone", 480, 2500),
        ["brain"] = new("brain", 40, 80),
        // RSNA 2019 intracranial haemorrhage inputs: brain 40/80, blood (subdural) 75/215, bone 600/2800.
        ["blood"] = new("blood", 75, 215),
        ["subdural"] = new("subdural", 75, 215),
        ["bone-rsna"] = new("bone-rsna", 600, 2800),
    };

    public const string Help = "lung, mediastinum, soft, bone, brain, liver, blood, dicom (the file's own), minmax, or C,W in HU";

    /// <summary>Parses --window: a preset, "dicom", "minmax", or "C,W". Null stands for dicom-else-minmax and minmax.</summary>
    public static WindowChoice Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return WindowChoice.FileElseMinMax;
        if (text.Equals("dicom", StringComparison.OrdinalIgnoreCase)) return WindowChoice.File;
        if (text.Equals("minmax", StringComparison.OrdinalIgnoreCase)) return WindowChoice.MinMax;
        if (Presets.TryGetValue(text, out var preset)) return WindowChoice.Fixed(preset);
        var parts = text.Split(',');
        if (parts.Length == 2 && double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double c)
            && double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double w))
        {
            // NaN or infinity would pass every comparison below and map every value to black.
            if (!double.IsFinite(c) || !double.IsFinite(w))
                throw new ArgumentException($"--window '{text}': the centre and width must be finite numbers in HU (e.g. 40,400).");
            if (w <= 0) throw new ArgumentException($"--window {text}: the width must be positive.");
            return WindowChoice.Fixed(new DicomWindow($"{c:G},{w:G}", c, w));
        }
        throw new ArgumentException($"--window '{text}': use {Help}.");
    }
}

/// <summary>How a frame's window is chosen: fixed, the file's own, min-max of the frame, or the file's own else min-max.</summary>
public sealed record WindowChoice(string Kind, DicomWindow? Window = null)
{
    public static readonly WindowChoice File = new("dicom");
    public static readonly WindowChoice MinMax = new("minmax");
    public static readonly WindowChoice FileElseMinMax = new("dicom-else-minmax");
    public static WindowChoice Fixed(DicomWindow window) => new("fixed", window);

    public string Name => Window?.Name ?? Kind;

    /// <summary>The window for a frame with these values; null means min-max of the frame.</summary>
    public DicomWindow? For(DicomHeader header) => Kind switch
    {
        "fixed" => Window,
        "minmax" => null,
        _ when header.WindowCenter is double c && header.WindowWidth is double w && w > 0 => new DicomWindow("dicom", c, w),
        "dicom" => throw new DicomException("--window dicom: the file has no window of its own (WindowCenter/WindowWidth); use a preset, C,W or minmax."),
        _ => null,
    };
}
