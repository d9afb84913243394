using SaCam.Core.Models;
using static TorchSharp.torch;

namespace SaCam.Evaluation;

/// <summary>ROAD of one map: the target's score after removing each fraction of pixels in the two orders.</summary>
/// <param name="Original">The score on the untouched input.</param>
/// <param name="Fractions">Fractions of the pixels removed (0.1 .. 0.9).</param>
/// <param name="Morf">Score with that fraction of the most relevant pixels removed and imputed.</param>
/// <param name="Lerf">Score with that fraction of the least relevant pixels removed and imputed.</param>
/// <param name="FlatMap">The map ranks no pixel above another: both orders are the same (position order), so the
/// combined score is exactly 0, a map that says nothing.</param>
public sealed record RoadResult(double Original, double[] Fractions, double[] Morf, double[] Lerf, bool FlatMap)
{
    /// <summary>Mean over the fractions of score(MoRF) - original (lower, a faster drop, is better).</summary>
    public double MorfMean => Morf.Average() - Original;
    /// <summary>Mean over the fractions of score(LeRF) - original (higher, closer to 0, is better).</summary>
    public double LerfMean => Lerf.Average() - Original;
    /// <summary>(LeRF - MoRF) / 2, as pytorch-grad-cam's ROADCombined (higher is better).</summary>
    public double Combined => (LerfMean - MorfMean) / 2;
}

/// <summary>
/// ROAD, RemOve And Debias (Rong et al., ICML 2022): the pixels a map ranks highest (MoRF) or lowest (LeRF) are
/// removed and filled in by <see cref="NoisyLinearImputation"/> instead of a constant, which keeps the perturbed
/// images near the data and stops the shape of the removed area from telling the model what was there. At each
/// removal fraction 10%, 20%, .., 90% (the percentiles pytorch-grad-cam's ROAD averages over) the target's score is
/// read; MoRF and LeRF are the mean changes from the original score, and the combined score is (LeRF - MoRF) / 2.
/// Pixels are ranked by the map, ties by position (a stable sort), and exactly round(fraction * pixels) are removed:
/// the same count for every method (pytorch-grad-cam thresholds at a percentile, which removes more under ties).
/// </summary>
public sealed class Road(IExplainableModel model, NoisyLinearImputation? imputation = null, int batchSize = 9)
{
    public static readonly IReadOnlyList<double> DefaultFractions = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

    public NoisyLinearImputation Imputation { get; } = imputation ?? new NoisyLinearImputation();
    public IReadOnlyList<double> Fractions { get; init; } = DefaultFractions;

    /// <param name="input">[1, C, H, W] in the model's input space.</param>
    /// <param name="saliency">[H, W].</param>
    /// <param name="score">Model output [N, K] to [N], e.g. the class's softmax probability.</param>
    /// <param name="seed">Seeds the imputation noise: each removal count has its own stream, so the same seed gives the
    /// same images (and a flat map the same images in both orders).</param>
    public RoadResult Evaluate(Tensor input, Tensor saliency, Func<Tensor, Tensor> score, int seed, CancellationToken cancellation = default)
    {
        using var scope = NewDisposeScope();
        int c = (int)input.shape[1], h = (int)input.shape[2], w = (int)input.shape[3];
        if (saliency.shape.Length != 2 || saliency.shape[0] != h || saliency.shape[1] != w)
            throw new ArgumentException($"The saliency map has shape [{string.Join(", ", saliency.shape)}]; the input needs [{h}, {w}].");
        var image = input.detach().cpu().to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
        var map = saliency.detach().cpu().to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
        int pixels = h * w;
        bool flat = map.Max() - map.Min() <= 0;
        // Most relevant first; a stable sort keeps ties in position order.
        var order = Enumerable.Range(0, pixels).OrderByDescending(p => map[p]).ToArray();
        var fractions = Fractions.ToArray();
        var morfImages = new List<float[]>();
        var lerfImages = new List<float[]>();
        foreach (var f in fractions)
        {
            cancellation.ThrowIfCancellationRequested();
            int k = (int)Math.Round(f * pixels, MidpointRounding.AwayFromZero);
            morfImages.Add(Removed(image, c, h, w, order.Take(k), seed, k));
            // A flat map has no least relevant pixels: LeRF takes the same order, so it removes what MoRF removes.
            lerfImages.Add(Removed(image, c, h, w, flat ? order.Take(k) : order.Skip(pixels - k), seed, k));
        }
        var scores = Scores([image, .. morfImages, .. lerfImages], c, h, w, score, input.device, cancellation);
        int m = fractions.Length;
        return new RoadResult(scores[0], fractions, scores[1..(1 + m)], scores[(1 + m)..], flat);
    }

    private float[] Removed(float[] image, int c, int h, int w, IEnumerable<int> pixelsToRemove, int seed, int count)
    {
        var removed = new bool[h * w];
        foreach (var p in pixelsToRemove) removed[p] = true;
        return Imputation.Impute(image, c, h, w, removed, new Random(unchecked(seed * 1_000_003 + count)));
    }

    private double[] Scores(List<float[]> images, int c, int h, int w, Func<Tensor, Tensor> score, Device device, CancellationToken cancellation)
    {
        var result = new List<double>();
        using var noGrad = no_grad();
        for (int start = 0; start < images.Count; start += batchSize)
        {
            cancellation.ThrowIfCancellationRequested();
            using var batchScope = NewDisposeScope();
            var batch = images.Skip(start).Take(batchSize).ToList();
            var x = tensor(batch.SelectMany(i => i).ToArray(), [batch.Count, c, h, w]).to(device);
            result.AddRange(score(model.Predict(x)).cpu().to_type(ScalarType.Float64).data<double>().ToArray());
        }
        return [.. result];
    }
}
