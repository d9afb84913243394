using System.Reactive.Linq;
using SaCam.Core;
using SaCam.Video.Overlays;
using SaCam.Video.Sinks;
using SaCam.Video.Sources;

namespace SaCam.Video.Pipeline;

public enum PipelineMode
{
    /// <summary>Newest frame wins: a frame that waits while the explainer is busy is dropped (and counted).</summary>
    Live,
    /// <summary>File processing: every frame (or every Nth with Stride), in order, none dropped.</summary>
    Exact,
}

public sealed record PipelineOptions
{
    public PipelineMode Mode { get; init; } = PipelineMode.Exact;
    /// <summary>Exact mode: explain every Nth frame only.</summary>
    public int Stride { get; init; } = 1;
    public long? MaxFrames { get; init; }
    /// <summary>Exact mode: frames before this index are read and dropped unexplained (a fleet shard's frame range
    /// starts here; decoding them costs a fraction of explaining them).</summary>
    public long StartFrame { get; init; }
    /// <summary>Frames waiting between stages in exact mode (memory stays bounded by this).</summary>
    public int QueueCapacity { get; init; } = 4;
    /// <summary>Live mode on a file: deliver frames at the file's frame rate, as a camera would.</summary>
    public bool PaceFilesInLiveMode { get; init; } = true;
}

public readonly record struct PipelineProgress(long FramesDone, long? FramesTotal, double Fps);

/// <summary>How a run ended: frames written, and the source or stage error that ended it early, if any.</summary>
public sealed record PipelineRunResult(long FramesWritten, long FramesDropped, Exception? Error, bool Cancelled);

/// <summary>
/// capture (its own thread) -> explain (its own thread, drop or wait policy) -> overlay + sinks (its own thread).
/// The threads and the drop policy are visible here, in the composition; each stage is a small operator.
/// </summary>
public sealed class VideoPipeline(IFrameSource source, IFrameExplainer explainer, FrameRenderer renderer, PipelineOptions options)
{
    public PipelineStatistics Statistics { get; } = new();
    public PipelineOptions Options { get; } = options;

    /// <summary>Frames expected out of a file source (for progress), after stride and the frame cap.</summary>
    public long? ExpectedFrames
    {
        get
        {
            if (source.FrameCount is not long total) return Options.MaxFrames;
            long n = Math.Max(0, total - Options.StartFrame);
            long strided = Options.Mode == PipelineMode.Exact ? (n + Options.Stride - 1) / Options.Stride : n;
            return Options.MaxFrames is long cap ? Math.Min(cap, strided) : strided;
        }
    }

    /// <param name="cancellation">Also ends a frame being explained, between two perturbation batches.</param>
    public IObservable<AnnotatedFrame> Frames(CancellationToken cancellation = default)
    {
        bool live = Options.Mode == PipelineMode.Live;
        var frames = source.Frames().Do(_ => Statistics.OnCaptured());
        if (Options.StartFrame > 0)
        {
            long start = Options.StartFrame;
            frames = frames.Do(f => { if (f.Index < start) f.Dispose(); }).Where(f => f.Index >= start);
        }
        if (live && !source.IsLive && Options.PaceFilesInLiveMode) frames = frames.PacedToTimestamps();
        if (!live && Options.Stride > 1) frames = frames.EveryNth(Options.Stride);
        if (Options.MaxFrames is long max) frames = frames.Take((int)Math.Min(max, int.MaxValue));

        var step = new ExplainStep(explainer, Statistics);
        var explained = live
            ? frames.ExplainNewest(step, cancellation)
            : frames.ObserveOnWorker("explain", Options.QueueCapacity, onDiscarded: f => f.Dispose())
                .Select(frame => step.Explain(frame, cancellation));
        return explained
            .ObserveOnWorker("render", Options.QueueCapacity, onDiscarded: a => a.Dispose())
            .Select(Render);
    }

    /// <summary>Runs to the end of the source (or cancellation), writing every frame to every sink, and always
    /// finishes the sinks, so outputs hold every frame done so far and are closed.</summary>
    public PipelineRunResult Run(IReadOnlyList<IFrameSink> sinks, CancellationToken cancellation = default, IProgress<PipelineProgress>? progress = null)
    {
        Exception? error = null;
        var done = new ManualResetEventSlim();
        var subscription = Frames(cancellation).Subscribe(
            frame =>
            {
                using (frame)
                {
                    try
                    {
                        foreach (var sink in sinks) sink.Write(frame);
                        Statistics.OnWritten();
                    }
                    catch (Exception e)
                    {
                        error ??= e;
                        done.Set();
                    }
                }
                progress?.Report(new PipelineProgress(Statistics.Written, ExpectedFrames, Statistics.Fps));
            },
            e =>
            {
                // A stop that lands inside a frame's explanation ends that frame; it is a cancellation, not an error.
                if (!(e is OperationCanceledException && cancellation.IsCancellationRequested)) error ??= e;
                done.Set();
            },
            () => done.Set());
        try
        {
            WaitHandle.WaitAny([done.WaitHandle, cancellation.WaitHandle]);
        }
        finally
        {
            subscription.Dispose();
            foreach (var sink in sinks)
            {
                try { sink.Dispose(); }
                catch (Exception e) { error ??= e; }
            }
        }
        return new PipelineRunResult(Statistics.Written, Statistics.Dropped, error, cancellation.IsCancellationRequested && error is null);
    }

    private AnnotatedFrame Render(AnnotatedFrame frame)
    {
        // Latency: capture to the start of rendering (the HUD draws it; rendering itself adds a few ms).
        frame.LatencyMs = StopwatchTimeSource.Shared.NowMs - frame.Frame.CapturedAtMs;
        frame.Overlay = renderer.Render(frame, Statistics);
        return frame;
    }
}

/// <summary>Small frame operators.</summary>
public static class FrameOperators
{
    /// <summary>Keeps frames whose index is a multiple of n; the others are disposed at once.</summary>
    public static IObservable<VideoFrame> EveryNth(this IObservable<VideoFrame> frames, int n) =>
        frames.Where(f =>
        {
            if (f.Index % n == 0) return true;
            f.Dispose();
            return false;
        });

    /// <summary>Delays each frame (on the capture thread) until its timestamp, measured from the first frame: a file
    /// played as a camera would deliver it.</summary>
    public static IObservable<VideoFrame> PacedToTimestamps(this IObservable<VideoFrame> frames) =>
        Observable.Defer(() =>
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            return frames.Do(f =>
            {
                var wait = f.Timestamp - clock.Elapsed;
                if (wait > TimeSpan.Zero) Thread.Sleep(wait);
            });
        });
}
