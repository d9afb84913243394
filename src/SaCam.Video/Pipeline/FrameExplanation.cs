using OpenCvSharp;
using SaCam.Imaging;
using static TorchSharp.torch;

namespace SaCam.Video.Pipeline;

/// <summary>What the explain stage learned about one frame. Map is a CPU tensor [H, W] in [0, 1] at model input size
/// (null for method "none"); disposing the explanation frees it.</summary>
public sealed class FrameExplanation : IDisposable
{
    public required string MethodId { get; init; }
    public required int ClassIndex { get; init; }
    public string? Label { get; init; }
    public required float Score { get; init; }
    public required IReadOnlyList<(int Index, string? Label, float Probability)> Top5 { get; init; }
    public Tensor? Map { get; init; }
    public required FrameGeometry Geometry { get; init; }
    public MapStatistics? Statistics { get; init; }
    public required double ExplainMs { get; init; }
    public IReadOnlyDictionary<string, double> Diagnostics { get; init; } = new Dictionary<string, double>();

    /// <summary>The map's faithfulness check, on the frames `--quality-every` samples; null on the others and for
    /// object targets (each object carries its own).</summary>
    public MapQuality? Quality { get; init; }

    /// <summary>For an object target (det:, seg:): each object explained on this frame (empty when the model found
    /// none); null for a frame explained for one class or exemplar. <see cref="Map"/> is then the largest of their maps.</summary>
    public IReadOnlyList<ObjectExplanation>? Objects { get; init; }

    public void Dispose()
    {
        Map?.Dispose();
        if (Objects is not null) foreach (var o in Objects) o.Dispose();
    }
}

/// <summary>Where the map points, in frame pixels: its peak, the box around the attended area (map >= 0.5), and its
/// entropy (of map / sum(map), divided by log(pixels): 0 = one point, 1 = uniform).</summary>
public sealed record MapStatistics(Point Peak, Rect AttendedBox, double Entropy)
{
    public static MapStatistics Of(Tensor map, FrameGeometry geometry)
    {
        using var scope = NewDisposeScope();
        var m = map.detach().cpu();
        long w = m.shape[1];
        long flatPeak = m.flatten().argmax().item<long>();
        var peak = ToFrame(new Point2d(flatPeak % w + 0.5, flatPeak / w + 0.5), geometry);
        var attended = (m >= 0.5f).nonzero();
        Rect box = default;
        if (attended.shape[0] > 0)
        {
            var lo = attended.amin(0).data<long>().ToArray();
            var hi = attended.amax(0).data<long>().ToArray();
            var a = ToFrame(new Point2d(lo[1], lo[0]), geometry);
            var b = ToFrame(new Point2d(hi[1] + 1, hi[0] + 1), geometry);
            box = new Rect(a.X, a.Y, Math.Max(1, b.X - a.X), Math.Max(1, b.Y - a.Y));
        }
        var p = m.flatten() / (m.sum() + 1e-12);
        double entropy = -(p * (p + 1e-12).log()).sum().item<float>() / Math.Log(m.numel());
        return new MapStatistics(peak, box, Math.Clamp(entropy, 0, 1));
    }

    /// <summary>Model-input pixel coordinates to frame pixel coordinates, through the preprocessing geometry.</summary>
    public static Point ToFrame(Point2d input, FrameGeometry g)
    {
        double x = g.SourceRect.X + (input.X - g.TargetRect.X) * g.SourceRect.Width / (double)g.TargetRect.Width;
        double y = g.SourceRect.Y + (input.Y - g.TargetRect.Y) * g.SourceRect.Height / (double)g.TargetRect.Height;
        return new Point((int)Math.Round(Math.Clamp(x, 0, g.FrameSize.Width - 1)), (int)Math.Round(Math.Clamp(y, 0, g.FrameSize.Height - 1)));
    }
}

/// <summary>A frame on its way through the pipeline: the captured frame, what was learned, and the rendered overlay.</summary>
public sealed class AnnotatedFrame(VideoFrame frame, FrameExplanation explanation) : IDisposable
{
    public VideoFrame Frame { get; } = frame;
    public FrameExplanation Explanation { get; } = explanation;
    public Mat? Overlay { get; set; }

    /// <summary>Capture to overlay done, in ms (set by the overlay stage).</summary>
    public double LatencyMs { get; set; }

    /// <summary>Frames dropped before this one (live mode), as counted when it was rendered.</summary>
    public long DroppedSoFar { get; set; }

    public void Dispose()
    {
        Frame.Dispose();
        Explanation.Dispose();
        Overlay?.Dispose();
    }
}
