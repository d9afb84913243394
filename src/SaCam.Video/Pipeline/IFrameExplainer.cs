using SaCam.Core.Models;

namespace SaCam.Video.Pipeline;

/// <summary>The explain stage of a pipeline: one frame in, what was learned about it out. <see cref="FrameExplainer"/>
/// explains one target per frame; an object explainer (the application layer's) explains each tracked object.</summary>
public interface IFrameExplainer : IDisposable
{
    string MethodId { get; }
    IExplainableModel Model { get; }

    /// <param name="cancellation">A stop: a perturbation method ends between two batches (OperationCanceledException).</param>
    FrameExplanation Explain(VideoFrame frame, CancellationToken cancellation = default);
}
