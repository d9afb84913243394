using System.Globalization;
using OpenCvSharp;
using SaCam.Imaging;
using SaCam.Video.Pipeline;

namespace SaCam.Video.Overlays;

/// <summary>How frames are drawn: colour map and blend, contour, peak, caption, HUD, and side-by-side layout.</summary>
public sealed record RenderOptions
{
    public OverlayOptions Overlay { get; init; } = new() { ContourLevel = 0.5, PeakMarker = true };
    public bool Hud { get; init; } = true;
    /// <summary>Original | overlay, side by side.</summary>
    public bool SideBySide { get; init; }
    /// <summary>Drawn over the heat map, under the HUD, in this order (plugins add theirs here).</summary>
    public IReadOnlyList<IFrameOverlay> Extra { get; init; } = [];
}

/// <summary>The overlay stage: map over frame, caption (class, score), HUD (fps, latency, budget, drops).</summary>
public sealed class FrameRenderer(RenderOptions options)
{
    public RenderOptions Options { get; } = options;

    // Frames this renderer drew: frames render in order, so the n-th one was explained after at least n - 1
    // intervals, and the HUD can tell a frame explained during start-up even when it is drawn later.
    private long _rendered;

    public Mat Render(AnnotatedFrame frame, PipelineStatistics statistics)
    {
        var e = frame.Explanation;
        string caption = e.Label is null ? e.MethodId : $"{e.Label} {e.Score.ToString("F2", CultureInfo.InvariantCulture)}";
        Mat overlay = e.Map is null
            ? DrawCaptionOnly(frame.Frame.Image, caption)
            : HeatmapOverlay.Render(frame.Frame.Image, e.Map, e.Geometry, Options.Overlay with { Caption = caption });
        foreach (var extra in Options.Extra) extra.Draw(overlay, frame);
        long rendered = Interlocked.Increment(ref _rendered);
        if (Options.Hud) DrawHud(overlay, HudText(frame, statistics, rendered));
        if (!Options.SideBySide) return overlay;
        var both = new Mat();
        Cv2.HConcat([frame.Frame.Image, overlay], both);
        overlay.Dispose();
        return both;
    }

    /// <summary>Several methods' overlays of one frame in a grid (2 columns), each captioned with its method.</summary>
    public static Mat Grid(IReadOnlyList<Mat> tiles)
    {
        int columns = Math.Min(2, tiles.Count), rows = (tiles.Count + columns - 1) / columns;
        var size = tiles[0].Size();
        var grid = new Mat(new Size(size.Width * columns, size.Height * rows), MatType.CV_8UC3, Scalar.Black);
        for (int i = 0; i < tiles.Count; i++)
        {
            using var cell = new Mat(grid, new Rect(i % columns * size.Width, i / columns * size.Height, size.Width, size.Height));
            tiles[i].CopyTo(cell);
        }
        return grid;
    }

    /// <summary>The HUD's line: fps and latency once the pipeline has measured enough frames to know them (before
    /// that, "fps measuring"), the frame's budget and cache figures when the method has them, and the drops.
    /// <paramref name="renderedFrames"/> counts this frame: the first frames show no rates even when drawn after the
    /// pipeline has measured enough, because their own latency still carries start-up.</summary>
    internal static string HudText(AnnotatedFrame frame, PipelineStatistics stats, long renderedFrames)
    {
        var d = frame.Explanation.Diagnostics;
        var parts = new List<string>();
        if (stats.RatesKnown && renderedFrames > PipelineStatistics.IntervalsBeforeRatesKnown)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{stats.Fps:F1} fps"));
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"latency {frame.LatencyMs:F0} ms"));
        }
        else
        {
            parts.Add("fps measuring");
        }
        if (d.TryGetValue("budget_ms", out var budget) && d.TryGetValue("used_ms", out var used))
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"budget {used:F0}/{budget:F0} ms"));
        if (d.TryGetValue("cache_coverage", out var coverage))
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"cache {coverage * 100:F0}%"));
        parts.Add($"dropped {frame.DroppedSoFar}");
        return string.Join("  ", parts);
    }

    private static Mat DrawCaptionOnly(Mat image, string caption)
    {
        var output = image.Clone();
        Cv2.PutText(output, caption, new Point(8, 24), HersheyFonts.HersheySimplex, 0.7, Scalar.White, 2, LineTypes.AntiAlias);
        return output;
    }

    private static void DrawHud(Mat image, string text)
    {
        double scale = Math.Max(0.4, image.Width / 1400.0);
        var size = Cv2.GetTextSize(text, HersheyFonts.HersheySimplex, scale, 1, out int baseline);
        int y = image.Height - 8;
        Cv2.Rectangle(image, new Rect(0, y - size.Height - 6, size.Width + 12, size.Height + baseline + 10), Scalar.Black, -1);
        Cv2.PutText(image, text, new Point(6, y), HersheyFonts.HersheySimplex, scale, Scalar.White, 1, LineTypes.AntiAlias);
    }
}
