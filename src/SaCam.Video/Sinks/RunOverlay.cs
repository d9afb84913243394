using System.Text.Json;
using OpenCvSharp;
using SaCam.Imaging;

namespace SaCam.Video.Sinks;

/// <summary>
/// How a run's maps are drawn over its original frames: where the model's input came from in the frame (the
/// preprocessing geometry) and the overlay's colour table, blend weight and outline level. Written once per run as
/// <c>maps/overlay.json</c>; with it, <c>original.avi</c> and the 8-bit maps are the whole picture, and the review
/// page draws each method's overlay itself instead of storing a second, annotated video (a sixth of the bytes of a
/// dashcam run folder; docs/review.md, "Size").
/// </summary>
public sealed record RunOverlay(int[] FrameSize, int[] InputSize, int[] SourceRect, int[] TargetRect, string ColorMap, double Alpha,
    double? ContourLevel, bool PeakMarker, int[][] ColorTableRgb)
{
    public const string FileName = "overlay.json";

    public static RunOverlay Of(FrameGeometry g, OverlayOptions options)
    {
        var table = ColorMaps.Table(options.ColorMap);
        var rgb = new int[256][];
        for (int i = 0; i < 256; i++)
        {
            var bgr = table.At<Vec3b>(0, i);
            rgb[i] = [bgr.Item2, bgr.Item1, bgr.Item0];
        }
        return new RunOverlay([g.FrameSize.Width, g.FrameSize.Height], [g.InputSize.Width, g.InputSize.Height],
            [g.SourceRect.X, g.SourceRect.Y, g.SourceRect.Width, g.SourceRect.Height],
            [g.TargetRect.X, g.TargetRect.Y, g.TargetRect.Width, g.TargetRect.Height],
            ColorMaps.NameOf(options.ColorMap), options.Alpha, options.ContourLevel, options.PeakMarker, rgb);
    }

    public FrameGeometry Geometry => new(new Size(FrameSize[0], FrameSize[1]), new Size(InputSize[0], InputSize[1]),
        new Rect(SourceRect[0], SourceRect[1], SourceRect[2], SourceRect[3]), new Rect(TargetRect[0], TargetRect[1], TargetRect[2], TargetRect[3]));

    public void Write(string mapsFolder) =>
        Core.IO.AtomicFile.WriteAllText(Path.Combine(mapsFolder, FileName), JsonSerializer.Serialize(this, Json));

    /// <summary>The overlay of a run folder's maps, or null for a run written before maps carried one.</summary>
    public static RunOverlay? Read(string mapsFolder)
    {
        var file = Path.Combine(mapsFolder, FileName);
        if (!File.Exists(file)) return null;
        try
        {
            var overlay = JsonSerializer.Deserialize<RunOverlay>(File.ReadAllText(file), Json) ?? throw new InvalidDataException("empty");
            overlay.Validate();
            return overlay;
        }
        catch (Exception e) when (e is JsonException or InvalidDataException)
        {
            throw new InvalidDataException($"{file} is not a run's overlay description ({e.Message}); write the run again with: sacam video SOURCE --run DIR.", e);
        }
    }

    private void Validate()
    {
        bool Positive(int[]? pair, int n) => pair is not null && pair.Length == n && pair.Skip(n - 2).All(v => v > 0) && pair.All(v => v >= 0);
        if (!Positive(FrameSize, 2) || !Positive(InputSize, 2) || !Positive(SourceRect, 4) || !Positive(TargetRect, 4))
            throw new InvalidDataException("sizes and rectangles must be positive");
        if (ColorTableRgb is null || ColorTableRgb.Length != 256 || ColorTableRgb.Any(c => c is null || c.Length != 3 || c.Any(v => v is < 0 or > 255)))
            throw new InvalidDataException("the colour table must have 256 RGB entries of 0-255");
        if (double.IsNaN(Alpha) || Alpha is < 0 or > 1) throw new InvalidDataException("alpha must be in [0, 1]");
    }

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
}
