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
/// </summary>
public sealed class DeletionInsertionCheck(IExplainableModel model) : IMapQualityCheck
{
    /// <summary>Steps per curve: each removes (or restores) an eighth of the pixels. Eight keeps the check under the
    /// cost goal (docs/benchmarks.md) while its areas still order maps as the fine curves do (docs/evaluation.md).</summary>
    public const int Steps = 8;

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
