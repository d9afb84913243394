using OpenCvSharp;
using SaCam.Core;
using SaCam.Video.Overlays;
using SaCam.Video.Pipeline;

namespace SaCam.Video.Host;

/// <summary>An explained frame as an engine wants it: the overlay as RGBA bytes, plus what the model said. Object
/// targets (det:, seg:) add each explained object; other targets give an empty list.</summary>
public sealed record HostResult(long FrameId, byte[] OverlayRgba, int Width, int Height, int ClassIndex, string? Label, float Score,
    double LatencyMs, IReadOnlyDictionary<string, double> Diagnostics)
{
    public IReadOnlyList<HostObject> Objects { get; init; } = [];
}

/// <summary>One explained object of a frame, in the submitted frame's pixels: its track (stable across frames for
/// detections), what it is, its box, where its map peaks and the share of its map's mass inside the box. Its map
/// is part of the frame's overlay (the largest of the objects' maps at each pixel).</summary>
public sealed record HostObject(int Track, int? Class, string? Label, float Score, Rect Box, Point Peak, double EnergyInBox, double ExplainMs)
{
    public static HostObject Of(ObjectExplanation o) => new(o.Track, o.Class, o.Label, o.Score, o.Box, o.Peak, o.EnergyInBox, o.ExplainMs);
}

/// <summary>
/// For engines that call once a frame (Unity's Update, a game loop, a UI timer): <see cref="Submit"/> copies an
/// RGBA frame and returns at once; a worker thread explains the newest submitted frame (older waiting ones are
/// dropped and counted: <see cref="NewestWins{T}"/>, the same step as live video); <see cref="TryGetLatest"/> returns
/// the newest finished result without waiting. No thread affinity: any thread may call either method. Made from a
/// spec by the application layer (SaCam.App.Hosting.ExplainerHosts), or from an explainer and renderer directly.
/// </summary>
public sealed class ExplainerHost : IDisposable
{
    private readonly ExplainStep _step;
    private readonly FrameRenderer _renderer;
    private readonly PipelineStatistics _statistics = new();
    private readonly NewestWins<Job> _worker;
    private readonly Lock _gate = new();
    private readonly IReadOnlyList<IDisposable> _owned;
    private HostResult? _latest;
    private long _nextId;
    private volatile Exception? _failure;
    private volatile bool _disposed;

    /// <summary>A submitted frame: a copy of its bytes, until the worker converts it.</summary>
    private sealed record Job(byte[] Rgba, int Width, int Height, long Id, double SubmittedMs);

    /// <param name="owned">Disposed with the host, after its worker stopped (the explainer and model a factory made
    /// for it, say); whoever passes nothing keeps ownership of what they passed.</param>
    public ExplainerHost(IFrameExplainer explainer, FrameRenderer renderer, IEnumerable<IDisposable>? owned = null)
    {
        _step = new ExplainStep(explainer, _statistics);
        _renderer = renderer;
        _owned = owned?.ToList() ?? [];
        _worker = new NewestWins<Job>(Process, _ => _statistics.OnDropped(), name: "sacam host explainer", discard: _ => { });
    }

    public long Submitted => Interlocked.Read(ref _nextId);
    public long Dropped => _statistics.Dropped;
    public long Completed => _statistics.Explained;

    /// <summary>The error that stopped the worker, if any (a bad model input, say); Submit then refuses frames.</summary>
    public Exception? Failure => _failure;

    /// <summary>Copies the frame (width * height * 4 bytes, RGBA, rows top to bottom) and returns its id. Never blocks on the explainer.</summary>
    public long Submit(ReadOnlySpan<byte> rgba, int width, int height)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_failure is { } failure) throw new InvalidOperationException($"The explainer stopped: {failure.Message}", failure);
        if (width <= 0 || height <= 0 || rgba.Length != width * height * 4)
            throw new ArgumentException($"Expected {width}x{height}x4 = {Math.Max(0, width * height * 4)} RGBA bytes, got {rgba.Length}.");
        long id = Interlocked.Increment(ref _nextId) - 1;
        _worker.Submit(new Job(rgba.ToArray(), width, height, id, StopwatchTimeSource.Shared.NowMs));
        return id;
    }

    /// <summary>The newest finished result, if any; never waits.</summary>
    public bool TryGetLatest(out HostResult? result)
    {
        lock (_gate) result = _latest;
        return result is not null;
    }

    /// <summary>Explains one job on the worker thread; a failure stops the worker (and is kept in <see cref="Failure"/>).</summary>
    private bool Process(Job job, CancellationToken stop)
    {
        try
        {
            var result = Explain(job, stop);
            lock (_gate) _latest = result;
            return true;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            throw; // disposed mid-frame: the explanation stopped between two perturbation batches
        }
        catch (Exception e)
        {
            _failure = e;
            return false;
        }
    }

    private HostResult Explain(Job job, CancellationToken stop)
    {
        using var rgba = Mat.FromPixelData(job.Height, job.Width, MatType.CV_8UC4, job.Rgba);
        var bgr = new Mat();
        Cv2.CvtColor(rgba, bgr, ColorConversionCodes.RGBA2BGR);
        using var annotated = _step.Explain(new VideoFrame(job.Id, TimeSpan.Zero, bgr), stop);
        annotated.LatencyMs = StopwatchTimeSource.Shared.NowMs - job.SubmittedMs;
        using var overlay = _renderer.Render(annotated, _statistics);
        using var outRgba = new Mat();
        Cv2.CvtColor(overlay, outRgba, ColorConversionCodes.BGR2RGBA);
        var bytes = new byte[outRgba.Total() * 4];
        System.Runtime.InteropServices.Marshal.Copy(outRgba.Data, bytes, 0, bytes.Length);
        var explanation = annotated.Explanation;
        return new HostResult(job.Id, bytes, outRgba.Width, outRgba.Height, explanation.ClassIndex, explanation.Label,
            explanation.Score, annotated.LatencyMs, explanation.Diagnostics)
        {
            Objects = explanation.Objects?.Select(HostObject.Of).ToList() ?? [],
        };
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _worker.Dispose();
        foreach (var d in _owned) d.Dispose();
    }
}
