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
}
