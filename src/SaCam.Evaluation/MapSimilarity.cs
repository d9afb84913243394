using TorchSharp;
using static TorchSharp.torch;

namespace SaCam.Evaluation;

/// <summary>How alike two maps are: Spearman rank correlation and SSIM (the measures of Adebayo et al. 2018).</summary>
public static class MapSimilarity
{
    /// <summary>Spearman's rho: Pearson correlation of the ranks, tied values sharing their average rank (so a flat map
    /// correlates 0 with anything, instead of by pixel position).</summary>
    public static double Spearman(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        return Pearson(Ranks(a.flatten()), Ranks(b.flatten()));
    }

    public static double Pearson(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        var x = a.flatten().to_type(ScalarType.Float64).cpu();
        var y = b.flatten().to_type(ScalarType.Float64).cpu();
        x = x - x.mean();
        y = y - y.mean();
        double denominator = (x.norm() * y.norm()).item<double>();
        return denominator == 0 ? 0 : (x * y).sum().item<double>() / denominator;
    }

    /// <summary>
    /// Structural similarity of two [H, W] maps with values in [0, 1]: Gaussian window 11, sigma 1.5,
    /// C1 = 0.01^2, C2 = 0.03^2 (Wang et al. 2004), averaged over the map.
    /// </summary>
    public static double Ssim(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        var x = a.detach().cpu().to_type(ScalarType.Float64).reshape(1, 1, a.shape[^2], a.shape[^1]);
        var y = b.detach().cpu().to_type(ScalarType.Float64).reshape(1, 1, b.shape[^2], b.shape[^1]);
        var t = arange(-5, 6, dtype: ScalarType.Float64);
        var g = exp(-(t * t) / (2 * 1.5 * 1.5));
        g = g / g.sum();
        var window = outer(g, g).reshape(1, 1, 11, 11);
        Tensor Blur(Tensor v) => nn.functional.conv2d(v, window);
        var mx = Blur(x);
        var my = Blur(y);
        var sxx = Blur(x * x) - mx * mx;
        var syy = Blur(y * y) - my * my;
        var sxy = Blur(x * y) - mx * my;
        const double c1 = 0.01 * 0.01, c2 = 0.03 * 0.03;
        var ssim = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2));
        return ssim.mean().item<double>();
    }

    private static Tensor Ranks(Tensor v)
    {
        var (sorted, order) = v.sort();
        var (_, inverse, counts) = unique_consecutive(sorted, return_inverse: true, return_counts: true);
        var ends = counts!.cumsum(0);
        var average = (ends - counts + ends - 1).to_type(ScalarType.Float64) / 2; // mean of positions start..end-1
        var ranks = empty(v.shape[0], dtype: ScalarType.Float64, device: v.device);
        ranks.index_put_(average.index_select(0, inverse!), order);
        return ranks;
    }
}
