using SaCam.Core.Models;
using static TorchSharp.torch;

namespace SaCam.Core.Methods;

/// <summary>How far a run of perturbed images has come: images done of the total asked for in this run.</summary>
public readonly record struct PerturbationProgress(long Done, long Total);

/// <summary>
/// Runs perturbed copies of the input through the model in batches and returns one score per copy, as a tensor on
/// the model's device: no host synchronization per image or per channel. Perturbation methods only say how to
/// build a batch and which score to read.
/// </summary>
public sealed class PerturbationRunner
{
    private readonly IExplainableModel _model;

    private readonly CancellationToken _cancellation;
    private readonly IProgress<PerturbationProgress>? _progress;

    /// <param name="cancellation">Checked before every batch: a stop lands within one batch (a few hundred ms), not
    /// after the thousands of images SA-CAM or Score-CAM run for one image.</param>
    /// <param name="progress">Told after every batch how many of the run's images are done.</param>
    public PerturbationRunner(IExplainableModel model, int batchSize, CancellationToken cancellation = default, IProgress<PerturbationProgress>? progress = null)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batch size must be at least 1");
        _model = model;
        BatchSize = batchSize;
        _cancellation = cancellation;
        _progress = progress;
    }

    /// <summary>The most images per forward pass.</summary>
    public int BatchSize { get; }

    /// <summary>The longest a batch should take: a stop lands after the batch in flight.</summary>
    public const double StopBudgetMs = 250;

    /// <summary>Raised after each batch with the number of images it held.</summary>
    public event Action<long>? BatchRun;

    /// <summary>How many perturbed images have been run (for budgets and benchmarks).</summary>
    public long ImagesRun { get; private set; }

    /// <summary>
    /// Scores <paramref name="count"/> perturbed inputs. <paramref name="buildBatch"/>(start, length) returns
    /// [length, C, H, W]; <paramref name="score"/> maps the model output [length, K] to [length].
    /// <paramref name="granularity"/>: batches start and end on multiples of it (images that belong together).
    /// </summary>
    public Tensor Run(long count, Func<long, long, Tensor> buildBatch, Func<Tensor, Tensor> score, int granularity = 1)
    {
        long largest = Math.Max(granularity, BatchSize - BatchSize % granularity);
        // Batches start at 16 (at most BatchSize), grow up to BatchSize while a doubled batch would stay inside the
        // stop budget, and halve when one runs past it: a heavy model (the embedded ResNet18, ~25 ms an image) keeps a
        // stop under a second, a light one (MobileNetV2 on ONNX Runtime, ~4 ms) reaches the large batch that runs
        // fastest. At BatchSize 16 (video, sacam-rt) batches stay 16 unless one is slow, so budgets stay reproducible.
        // Each image's score is the same whatever batch it ran in.
        long batchSize = Math.Min(largest, Math.Max(granularity, 16 - 16 % granularity));
        if (count == 0) return empty(0, device: _model.Device);
        using var noGrad = no_grad();
        var parts = new List<Tensor>();
        using var keep = NewDisposeScope();
        var clock = new System.Diagnostics.Stopwatch();
        for (long start = 0, length; start < count; start += length) // advance by the batch just run: the next may differ
        {
            _cancellation.ThrowIfCancellationRequested();
            length = Math.Min(batchSize, count - start);
            clock.Restart();
            using var scope = NewDisposeScope();
            var batch = buildBatch(start, length);
            var output = _model.Predict(batch);
            parts.Add(score(output).MoveToOuterDisposeScope());
            ImagesRun += length;
            BatchRun?.Invoke(length);
            _progress?.Report(new PerturbationProgress(start + length, count));
            double ms = clock.Elapsed.TotalMilliseconds;
            if (ms > StopBudgetMs && batchSize > granularity) batchSize = Math.Max(granularity, batchSize / 2 - batchSize / 2 % granularity);
            else if (ms * 2 < StopBudgetMs && batchSize < largest) batchSize = Math.Min(largest, batchSize * 2);
        }
        return cat(parts).MoveToOuterDisposeScope();
    }
}
