using System.Globalization;

namespace SaCam.Core.Preprocessing;

/// <summary>How an image is fitted to the model's input size.</summary>
public enum ResizeMode
{
    /// <summary>Resize to the input size, ignoring aspect ratio: nothing of the frame is lost (the video default).</summary>
    Stretch,
    /// <summary>Crop the centre (CropFraction of the shorter side, as ImageNet evaluation does), then resize.</summary>
    CenterCrop,
    /// <summary>Resize keeping aspect ratio and pad the rest with the mean colour.</summary>
    Letterbox,
}

public enum ChannelOrder { Rgb, Bgr }

/// <summary>
/// Per-model preprocessing: value = (pixel / 255 - Mean[c]) / Std[c] in the model's channel order, at
/// Width x Height. Read from ONNX metadata_props <c>sacam.*</c> when present; every field can be overridden.
/// </summary>
public sealed record PreprocessSpec(
    int Width,
    int Height,
    float[] Mean,
    float[] Std,
    ChannelOrder Channels,
    ResizeMode Resize,
    float CropFraction = 0.875f)
{
    /// <summary>Channels the model takes: 3 (colour, in <see cref="Channels"/> order) or 1 (grayscale: a colour frame
    /// is converted to luminance first).</summary>
    public int InputChannels { get; init; } = 3;

    /// <summary>Mean and std for one grayscale channel: the single value given, else the average of the three.</summary>
    public (float Mean, float Std) GrayNormalization => (Mean.Length == 1 ? Mean[0] : Mean.Average(), Std.Length == 1 ? Std[0] : Std.Average());

    /// <summary>torchvision's ImageNet convention: RGB, 224x224, ImageNet mean and std.</summary>
    public static PreprocessSpec ImageNet { get; } = new(224, 224, [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f], ChannelOrder.Rgb, ResizeMode.Stretch);

    /// <summary>Reads <c>sacam.input_size</c> (WxH), <c>sacam.color</c> (RGB|BGR), <c>sacam.mean</c>, <c>sacam.std</c>
    /// (three comma-separated numbers on a 0..1 scale), <c>sacam.resize</c> (stretch|center-crop[:fraction]|letterbox).</summary>
    public static PreprocessSpec FromMetadata(IReadOnlyDictionary<string, string> metadata, PreprocessSpec fallback)
    {
        var spec = fallback;
        if (metadata.TryGetValue("sacam.input_size", out var size))
        {
            var parts = size.ToLowerInvariant().Split('x');
            if (parts.Length == 2 && int.TryParse(parts[0], out int w) && int.TryParse(parts[1], out int h))
                spec = spec with { Width = w, Height = h };
        }
        if (metadata.TryGetValue("sacam.color", out var color))
            spec = spec with { Channels = color.Equals("BGR", StringComparison.OrdinalIgnoreCase) ? ChannelOrder.Bgr : ChannelOrder.Rgb };
        if (metadata.TryGetValue("sacam.mean", out var mean)) spec = spec with { Mean = ParseTriple(mean, "sacam.mean") };
        if (metadata.TryGetValue("sacam.std", out var std)) spec = spec with { Std = ParseTriple(std, "sacam.std") };
        if (metadata.TryGetValue("sacam.resize", out var resize)) spec = spec.WithResize(resize);
        return spec;
    }

    /// <summary>Parses stretch | center-crop[:fraction] | letterbox.</summary>
    public PreprocessSpec WithResize(string text)
    {
        var parts = text.Trim().ToLowerInvariant().Split(':');
        return parts[0] switch
        {
            "stretch" => this with { Resize = ResizeMode.Stretch },
            "letterbox" => this with { Resize = ResizeMode.Letterbox },
            "center-crop" or "centre-crop" or "crop" => this with
            {
                Resize = ResizeMode.CenterCrop,
                CropFraction = parts.Length > 1 ? ParseFraction(parts[1], text) : CropFraction,
            },
            _ => throw new ArgumentException($"Unknown resize mode '{text}': use stretch, center-crop[:fraction] or letterbox."),
        };
    }

    private static float ParseFraction(string value, string text) =>
        float.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out float f) && f > 0 && f <= 1
            ? f
            : throw new ArgumentException($"Resize mode '{text}': the crop fraction is the share of the shorter side kept, in (0, 1].");

    private static float[] ParseTriple(string text, string key)
    {
        var values = text.Split(',').Select(s => float.Parse(s.Trim(), CultureInfo.InvariantCulture)).ToArray();
        if (values.Length is not (1 or 3)) throw new FormatException($"{key} must hold three numbers (or one, for a grayscale model), got '{text}'");
        return values.Length == 1 ? [values[0], values[0], values[0]] : values;
    }
}
