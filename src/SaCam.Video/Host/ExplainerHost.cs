using OpenCvSharp;
using SaCam.Core;
using SaCam.Video.Overlays;
using SaCam.Video.Pipeline;

namespace SaCam.Video.Host;

/// <summary>An explained frame as an engine wants it: the overlay as RGBA bytes, plus what the model said.</summary>
public sealed record HostResult(long FrameId, byte[] OverlayRgba, int Width, int Height, int ClassIndex, string? Label, float Score,
    double LatencyMs, IReadOnlyDictionary<string, double> Diagnostics);

/// <summary>
/// For engines that call once a frame (Unity's Update, a game loop, a UI timer): <see cref="Submit"/> copies an
/// RGBA frame and returns at once; a worker thread explains the newest submitted frame (older waiting ones are
/// dropped and counted); <see cref="TryGetLatest"/> returns the newest finished result without waiting. No thread
/// affinity: any thread may call either method.
/// </summary>
public sealed class ExplainerHost : IDisposable
{
    private readonly FrameExplainer _explainer;
    private readonly FrameRenderer _renderer;
    private readonly PipelineStatistics _statistics = new();
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _pendingSignal = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _worker;
    private (byte[] Rgba, int Width, int Height, long Id, double SubmittedMs)? _pending;
    private HostResult? _latest;
    private long _nextId;
    private Exception? _failure;
    private volatile bool _disposed;

    private readonly IReadOnlyList<IDisposable> _owned;

    /// <param name="owned">Disposed with the host, after its worker stopped (the explainer and model a factory made
    /// for it, say); whoever passes nothing keeps ownership of what they passed.</param>
    public ExplainerHost(FrameExplainer explainer, FrameRenderer renderer, IEnumerable<IDisposable>? owned = null)
    {
        _explainer = explainer;
        _renderer = renderer;
        _owned = owned?.ToList() ?? [];
        _worker = new Thread(Work) { IsBackground = true, Name = "sacam host explainer" };
        _worker.Start();
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
        if (_failure is not null) throw new InvalidOperationException($"The explainer stopped: {_failure.Message}", _failure);
        if (width <= 0 || height <= 0 || rgba.Length != width * height * 4)
            throw new ArgumentException($"Expected {width}x{height}x4 = {Math.Max(0, width * height * 4)} RGBA bytes, got {rgba.Length}.");
        var copy = rgba.ToArray();
        long id = Interlocked.Increment(ref _nextId) - 1;
        lock (_gate)
        {
            if (_pending is not null) _statistics.OnDropped();
            _pending = (copy, width, height, id, StopwatchTimeSource.Shared.NowMs);
        }
        if (_pendingSignal.CurrentCount == 0)
        {
            try { _pendingSignal.Release(); } catch (SemaphoreFullException) { }
        }
        return id;
    }

    /// <summary>The newest finished result, if any; never waits.</summary>
    public bool TryGetLatest(out HostResult? result)
    {
        lock (_gate) result = _latest;
        return result is not null;
    }

    private void Work()
    {
        while (!_stop.IsCancellationRequested)
        {
            try { _pendingSignal.Wait(_stop.Token); }
            catch (OperationCanceledException) { return; }
            (byte[] Rgba, int Width, int Height, long Id, double SubmittedMs) job;
            lock (_gate)
            {
                if (_pending is null) continue;
                job = _pending.Value;
                _pending = null;
            }
            try
            {
                Explain(job);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return; // disposed mid-frame: the explanation stopped between two perturbation batches
            }
            catch (Exception e)
            {
                _failure = e;
                return;
            }
        }
    }

    private HostResult Explain((byte[] Rgba, int Width, int Height, long Id, double SubmittedMs) job)
    {
        using var rgba = Mat.FromPixelData(job.Height, job.Width, MatType.CV_8UC4, job.Rgba);
        var bgr = new Mat();
        Cv2.CvtColor(rgba, bgr, ColorConversionCodes.RGBA2BGR);
        using var frame = new VideoFrame(job.Id, TimeSpan.Zero, bgr);
        var explanation = _explainer.Explain(frame, _stop.Token);
        _statistics.OnExplained(StopwatchTimeSource.Shared.NowMs);
        using var annotated = new AnnotatedFrame(frame, explanation) { DroppedSoFar = _statistics.Dropped };
        annotated.LatencyMs = StopwatchTimeSource.Shared.NowMs - job.SubmittedMs;
        using var overlay = _renderer.Render(annotated, _statistics);
        using var outRgba = new Mat();
        Cv2.CvtColor(overlay, outRgba, ColorConversionCodes.BGR2RGBA);
        var bytes = new byte[outRgba.Total() * 4];
        System.Runtime.InteropServices.Marshal.Copy(outRgba.Data, bytes, 0, bytes.Length);
        var result = new HostResult(job.Id, bytes, outRgba.Width, outRgba.Height, explanation.ClassIndex, explanation.Label,
            explanation.Score, annotated.LatencyMs, explanation.Diagnostics);
        lock (_gate) _latest = result;
        return result;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _stop.Cancel();
        _worker.Join(TimeSpan.FromSeconds(30));
        _stop.Dispose();
        _pendingSignal.Dispose();
        foreach (var d in _owned) d.Dispose();
    }
}
