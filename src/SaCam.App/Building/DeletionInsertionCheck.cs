using SaCam.Core.Models;
using SaCam.Core.Targets;
using SaCam.Evaluation;
using SaCam.Video.Pipeline;
using static TorchSharp.torch;

namespace SaCam.App.Building;

/// <summary>
/// The quality check `sacam video --quality-every N` runs on its sampled frames: the evaluation layer's RISE deletion
/// and insertion (<see cref="DeletionInsertion"/>), at a few coarse steps instead of the evaluation's 224 pixels, so
/// a check costs two batched forward passes of <see cref="Steps"/> + 1 images (one per curve) rather than hundreds.
/// The areas keep their meaning (x in [0, 1], the target's confidence as y); a coarse curve only samples it sparser.
/// Its cost is that of 2 x (steps + 1) full forward passes, whatever the method: on a 2-core CPU a check at the
/// default 4 steps costs four to five sacam-rt frames of the default model (docs/benchmarks.md, "Map quality checks").
/// </summary>
public sealed class DeletionInsertionCheck(IExplainableModel model, int steps = DeletionInsertionCheck.DefaultSteps) : IMapQualityCheck
{
    /// <summary>Steps per curve by default: each removes (or restores) a quarter of the pixels, so each curve has five
    /// points (0, 25, 50, 75, 100%). Eight steps cost 1.9 times as much (docs/benchmarks.md); two leave one point per
    /// curve that depends on the map.</summary>
    public const int DefaultSteps = 4;

    public int Steps { get; } = steps >= 1 ? steps : throw new ArgumentOutOfRangeException(nameof(steps), steps, "A curve needs at least one step.");

    public MapQuality Check(Tensor input, Tensor map, IExplanationTarget target, CancellationToken cancellation)
    {
        long pixels = input.shape[2] * input.shape[3];
        int stepPixels = (int)((pixels + Steps - 1) / Steps);
        // Steps + 1 points per curve in one batch: one forward pass per curve.
        var metric = new DeletionInsertion(model, stepPixels, batchSize: Steps + 1);
        var result = metric.Evaluate(input, map, target.Confidence, cancellation);
        return new MapQuality(result.DeletionAuc, result.InsertionAuc);
    }
}
