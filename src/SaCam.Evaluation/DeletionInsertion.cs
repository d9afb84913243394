using SaCam.Core.Methods;
using SaCam.Core.Models;
using static TorchSharp.torch;

namespace SaCam.Evaluation;

/// <summary>The two RISE curves of one map and their areas.</summary>
public sealed record DeletionInsertionResult(double[] Deletion, double[] Insertion)
{
    /// <summary>Area under the deletion curve, x normalized to [0, 1] (lower is better).</summary>
    public double DeletionAuc => Auc(Deletion);
    /// <summary>Area under the insertion curve (higher is better).</summary>
    public double InsertionAuc => Auc(Insertion);
    /// <summary>Insertion minus deletion, as the SA-CAM paper's Table 3 (higher is better).</summary>
    public double Overall => InsertionAuc - DeletionAuc;

    /// <summary>Trapezoid rule over equally spaced points, x in [0, 1]: (sum - first/2 - last/2) / (n - 1).</summary>
    public static double Auc(IReadOnlyList<double> curve) =>
        curve.Count < 2 ? 0 : (curve.Sum() - curve[0] / 2 - curve[^1] / 2) / (curve.Count - 1);
}

/// <summary>
/// Deletion and insertion (Petsiuk et al., RISE, 2018). Pixels are ranked by saliency (all channels of a pixel
/// together). Deletion sets them, most salient first, to 0 in normalized space (the mean colour); insertion starts
/// from a blurred copy (Gaussian, kernel 11, sigma 5) and restores them. After each step of <see cref="StepPixels"/>
/// pixels the score is read: y = Score(output) for the class, by default the softmax probability.
/// Every curve point is one image; they run as batches.
/// </summary>
public sealed class DeletionInsertion(IExplainableModel model, int stepPixels = 224, int batchSize = 16)
{
    public int StepPixels { get; } = stepPixels;
    public int BatchSize { get; } = batchSize;

    /// <param name="input">[1, C, H, W] normalized.</param>
    /// <param name="saliency">[H, W] (any scale; only the order matters).</param>
    /// <param name="score">Maps model output [N, K] to [N]; e.g. softmax probability of the class.</param>
    /// <param name="cancellation">Checked before every batch of curve points.</param>
    public DeletionInsertionResult Evaluate(Tensor input, Tensor saliency, Func<Tensor, Tensor> score, CancellationToken cancellation = default)
    {
        using var scope = NewDisposeScope();
        var x = input.to(model.Device);
        long h = x.shape[2], w = x.shape[3];
        if (saliency.shape.Length != 2 || saliency.shape[0] != h || saliency.shape[1] != w)
            throw new ArgumentException($"The saliency map has shape [{string.Join(", ", saliency.shape)}]; the input needs [{h}, {w}].");
        var rank = PixelRanks(saliency.to(model.Device));                          // [H, W]: 0 = most salient
        long pixels = h * w;
        int steps = (int)((pixels + StepPixels - 1) / StepPixels);
        var blurred = GaussianBlur.Apply(x, 5, 11);
        // Both curves as one run of images: deletion's steps + 1 points, then insertion's first steps points. The last
        // insertion point restores every pixel, so it is the input itself, deletion's first point: run once, used twice.
        Tensor Step(int k) => tensor(new float[] { k }, device: model.Device);
        var points = Curve(2 * steps + 1, j => j < steps + 1
            ? x * (1 - Revealed(rank, Step(j)))
            : InsertionImage(x, blurred, rank, Step(j - (steps + 1))), score, cancellation);
        var deletion = points[..(steps + 1)];
        var insertion = points[(steps + 1)..].Append(points[0]).ToArray();
        return new DeletionInsertionResult(deletion, insertion);
    }

    private Tensor InsertionImage(Tensor x, Tensor blurred, Tensor rank, Tensor ks)
    {
        var m = Revealed(rank, ks);
        return blurred * (1 - m) + x * m;
    }

    /// <summary>The same curves one image at a time: the slow path the batched one is tested against.</summary>
    public DeletionInsertionResult EvaluateUnbatched(Tensor input, Tensor saliency, Func<Tensor, Tensor> score) =>
        new DeletionInsertion(model, StepPixels, 1).Evaluate(input, saliency, score);

    /// <summary>Masks [n, 1, H, W] of the pixels whose rank is below k * step, for each k in ks.</summary>
    private Tensor Revealed(Tensor rank, Tensor ks) =>
        (rank.unsqueeze(0) < (ks * StepPixels).reshape(-1, 1, 1)).to_type(ScalarType.Float32).unsqueeze(1);

    /// <summary>Scores of <paramref name="count"/> images, run a batch at a time: <paramref name="imagesFor"/> builds
    /// the image [1, C, H, W] at position j (a batch may hold points of both curves).</summary>
    private double[] Curve(int count, Func<int, Tensor> imagesFor, Func<Tensor, Tensor> score, CancellationToken cancellation)
    {
        var parts = new List<Tensor>();
        using var noGrad = no_grad();
        for (int start = 0; start < count; start += BatchSize)
        {
            cancellation.ThrowIfCancellationRequested();
            int n = Math.Min(BatchSize, count - start);
            using var batchScope = NewDisposeScope();
            var images = cat(Enumerable.Range(start, n).Select(imagesFor).ToArray());
            parts.Add(score(model.Predict(images)).MoveToOuterDisposeScope());
        }
        using var all = cat(parts).cpu().to_type(ScalarType.Float64);
        return all.data<double>().ToArray();
    }

    /// <summary>Rank of every pixel by saliency, descending; ties broken by position (a stable sort).</summary>
    private static Tensor PixelRanks(Tensor saliency)
    {
        var flat = saliency.flatten();
        var order = flat.sort(0, descending: true, stable: true).Indices;
        var rank = empty_like(order);
        rank.index_put_(arange(order.shape[0], dtype: ScalarType.Int64, device: order.device), order);
        return rank.to_type(ScalarType.Float32).reshape(saliency.shape);
    }
}
