using SaCam.Core.Models;
using SaCam.Core.Targets;
using SaCam.Evaluation;
using SaCam.Video.Pipeline;
using static TorchSharp.torch;

namespace SaCam.App.Building;

/// <summary>
/// The quality check `sacam video --quality-every N` runs on its sampled frames: the evaluation layer's RISE deletion
/// and insertion (<see cref="DeletionInsertion"/>), at a few coarse steps instead of the evaluation's 224 pixels, so
/// a check costs one batched forward pass of 2 x <see cref="Steps"/> + 1 images (both curves; insertion's last point,
/// every pixel restored, is the input, deletion's first) rather than hundreds.
/// The areas keep their meaning (x in [0, 1], the target's confidence as y); a coarse curve only samples it sparser.
/// Its cost is that of 2 x steps + 1 full forward passes, whatever the method (docs/benchmarks.md, "Map quality checks").
/// </summary>
public sealed class DeletionInsertionCheck(IExplainableModel model, int steps = DeletionInsertionCheck.DefaultSteps) : IMapQualityCheck
{
    /// <summary>Steps per curve by default: each removes (or restores) a third of the pixels, so each curve has four
    /// points (0, 33, 67, 100%), two of which depend on the map, and a check is 7 images. Chosen by cost (2026-12-03,
    /// docs/benchmarks.md "Map quality checks"): at 4 steps (9 images) a check every 10th frame cost 1.28x the run
    /// without on the default model, over the 1.25x the issue allows; 8 steps cost 1.8x as much as 4.</summary>
    public const int DefaultSteps = 3;

    public int Steps { get; } = steps >= 1 ? steps : throw new ArgumentOutOfRangeException(nameof(steps), steps, "A curve needs at least one step.");

    public MapQuality Check(Tensor input, Tensor map, IExplanationTarget target, CancellationToken cancellation)
    {
        long pixels = input.shape[2] * input.shape[3];
        int stepPixels = (int)((pixels + Steps - 1) / Steps);
        // Both curves in one batch: one forward pass a check.
        var metric = new DeletionInsertion(model, stepPixels, batchSize: 2 * Steps + 1);
        var result = metric.Evaluate(input, map, target.Confidence, cancellation);
        return new MapQuality(result.DeletionAuc, result.InsertionAuc);
    }
}
