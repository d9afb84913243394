using static TorchSharp.torch;

namespace SaCam.Tests;

/// <summary>Numerical comparisons with messages that say how far off a result is, and where.</summary>
public static class Compare
{
    public static double MaxAbsDiff(Tensor a, Tensor b) => (a.cpu().to_type(ScalarType.Float64) - b.cpu().to_type(ScalarType.Float64)).abs().max().item<double>();

    /// <summary>Max |a - b| relative to max |b| (a scale-free test for vectors with a few large values).</summary>
    public static double RelativeMaxDiff(Tensor actual, Tensor expected)
    {
        double scale = expected.cpu().abs().max().item<float>();
        return MaxAbsDiff(actual, expected) / Math.Max(scale, 1e-30);
    }

    public static double Pearson(Tensor a, Tensor b) => SaCam.Evaluation.MapSimilarity.Pearson(a, b);

    public static void ShapesEqual(Tensor actual, Tensor expected, string what) =>
        Assert.That(actual.shape, Is.EqualTo(expected.shape), $"{what}: shape");

    public static void RelativeWithin(Tensor actual, Tensor expected, double tolerance, string what)
    {
        var a = actual.reshape(expected.shape);
        double rel = RelativeMaxDiff(a, expected);
        Assert.That(rel, Is.LessThanOrEqualTo(tolerance),
            $"{what}: max |actual - expected| / max |expected| = {rel:E3} (tolerance {tolerance:E1}); max abs diff {MaxAbsDiff(a, expected):E3}");
    }

    /// <summary>A final map against the reference: max |diff| at most 0.01 and Pearson r at least 0.999.</summary>
    public static void MapMatches(Tensor actual, Tensor expected, string what)
    {
        Compare.ShapesEqual(actual, expected, what);
        double diff = Compare.MaxAbsDiff(actual, expected);
        double r = Compare.Pearson(actual, expected);
        Assert.Multiple(() =>
        {
            Assert.That(diff, Is.LessThanOrEqualTo(1e-2), $"{what}: max abs diff of the final map");
            Assert.That(r, Is.GreaterThanOrEqualTo(0.999), $"{what}: Pearson correlation of the final map");
        });
    }
}
