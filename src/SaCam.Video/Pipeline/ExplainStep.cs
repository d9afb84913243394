using SaCam.Core;

namespace SaCam.Video.Pipeline;

/// <summary>
/// The one step every "explain the newest frame" loop takes (live video, the in-process host, a server session):
/// explain the frame, count it in the statistics, and stamp it with the drops so far. The frame is disposed when
/// its explanation fails, so no caller leaks one on an error.
/// </summary>
public sealed class ExplainStep(IFrameExplainer explainer, PipelineStatistics statistics)
{
    public IFrameExplainer Explainer => explainer;
    public PipelineStatistics Statistics => statistics;

    /// <param name="cancellation">A stop: a perturbation method ends between two batches (OperationCanceledException).</param>
    public AnnotatedFrame Explain(VideoFrame frame, CancellationToken cancellation)
    {
        try
        {
            var explanation = explainer.Explain(frame, cancellation);
            statistics.OnExplained(StopwatchTimeSource.Shared.NowMs);
            return new AnnotatedFrame(frame, explanation) { DroppedSoFar = statistics.Dropped };
        }
        catch
        {
            frame.Dispose();
            throw;
        }
    }

    /// <summary>A frame that was replaced by a newer one before it was explained: counted and disposed.</summary>
    public void Drop(VideoFrame frame)
    {
        statistics.OnDropped();
        frame.Dispose();
    }
}
