using SaCam.Core.Methods;
using SaCam.Core.Models;
using SaCam.Core.Preprocessing;
using SaCam.Evaluation;
using TorchSharp;
using static TorchSharp.torch;

namespace SaCam.Tests;

/// <summary>ROAD and its noisy linear imputation against values worked out from the definition: by hand, and by
/// Reference/road_reference.py (exact rational arithmetic, dense elimination, written apart from this code).</summary>
[TestFixture]
public class RoadTests
{
    private static readonly Random Unused = new(0);

    [Test]
    public void Two_removed_pixels_in_a_row_are_the_linear_interpolation_of_their_ends()
    {
        // 1x4 row [1, ?, ?, 4]: only left and right neighbours exist (weight 1/6 each), so x1 = (1 + x2) / 2 and
        // x2 = (x1 + 4) / 2: x1 = 2, x2 = 3.
        var result = new NoisyLinearImputation(noise: 0).Impute([1, 9, 9, 4], 1, 1, 4, [false, true, true, false], Unused);
        Assert.That(result, Is.EqualTo(new[] { 1f, 2f, 3f, 4f }).Within(1e-5));
    }

    [Test]
    public void A_removed_centre_is_the_weighted_mean_of_its_eight_neighbours()
    {
        // 3x3, centre removed: weights 1/6 beside and 1/12 diagonal sum to 1.
        // Beside: 2, 4, 6, 8 -> 20/6; diagonal: 1, 3, 7, 9 -> 20/12; total 5.
        float[] image = [1, 2, 3, 4, 100, 6, 7, 8, 9];
        var removed = new bool[9];
        removed[4] = true;
        var result = new NoisyLinearImputation(noise: 0).Impute(image, 1, 3, 3, removed, Unused);
        Assert.That(result[4], Is.EqualTo(5f).Within(1e-5));
        Assert.That(result.Where((_, i) => i != 4), Is.EqualTo(image.Where((_, i) => i != 4)), "kept pixels unchanged");
    }

    [Test]
    public void A_removed_corner_weighs_only_its_neighbours_inside_the_image()
    {
        // 2x2, top-left removed: right 2 (1/6), below 3 (1/6), diagonal 4 (1/12); (2/6 + 3/6 + 4/12) / (5/12) = 2.8.
        var result = new NoisyLinearImputation(noise: 0).Impute([0, 2, 3, 4], 1, 2, 2, [true, false, false, false], Unused);
        Assert.That(result[0], Is.EqualTo(2.8f).Within(1e-5));
    }

    [Test]
    public void Noise_goes_on_the_imputed_pixels_only_with_its_standard_deviation_and_is_seeded()
    {
        int h = 64, w = 64;
        var image = Enumerable.Repeat(0.5f, h * w).ToArray();
        var removed = Enumerable.Range(0, h * w).Select(p => p % 3 == 0).ToArray();
        var imputation = new NoisyLinearImputation(noise: 0.01);
        var a = imputation.Impute(image, 1, h, w, removed, new Random(4));
        var b = imputation.Impute(image, 1, h, w, removed, new Random(4));
        var deviations = a.Where((_, p) => removed[p]).Select(v => v - 0.5).ToArray();
        double sd = Math.Sqrt(deviations.Average(d => d * d));
        Assert.Multiple(() =>
        {
            Assert.That(a, Is.EqualTo(b), "same seed, same noise");
            Assert.That(a.Where((_, p) => !removed[p]), Is.All.EqualTo(0.5f), "kept pixels untouched");
            Assert.That(sd, Is.EqualTo(0.01).Within(0.001), "imputing a constant gives the constant; what is left is the noise");
        });
    }

    [Test]
    public void Everything_removed_leaves_the_mean_of_a_normalized_input()
    {
        var result = new NoisyLinearImputation(noise: 0).Impute([1, 2, 3, 4], 1, 2, 2, [true, true, true, true], Unused);
        Assert.That(result, Is.All.EqualTo(0f));
    }

    /// <summary>The case of Reference/road_reference.py: image v = 0..15 row by row, map (5 p) mod 16.</summary>
    [Test]
    public void Morf_lerf_and_combined_match_the_exact_reference()
    {
        using var scope = NewDisposeScope();
        using var model = new CornerMeanModel(side: 4, corner: 2, channels: 1);
        var x = arange(16, dtype: ScalarType.Float32).reshape(1, 1, 4, 4);
        var map = tensor(Enumerable.Range(0, 16).Select(p => (float)(5 * p % 16)).ToArray(), [4, 4]);
        var r = new Road(model, new NoisyLinearImputation(noise: 0, tolerance: 1e-12)).Evaluate(x, map, o => o[.., 0], seed: 0);
        double[] morf = [2.5, 2.5, 2.5, 2.5, 2.6018808777, 2.5695829959, 3.677193459, 4.5406001188, 4.2522546998];
        double[] lerf = [3.25, 3.25, 3.7361111111, 5.3240740741, 5.3240740741, 6.6783837478, 7.7148893017, 7.1434119552, 5.5026986709];
        Assert.Multiple(() =>
        {
            Assert.That(r.Original, Is.EqualTo(2.5).Within(1e-6));
            Assert.That(r.Morf, Is.EqualTo(morf).Within(1e-4));
            Assert.That(r.Lerf, Is.EqualTo(lerf).Within(1e-4));
            Assert.That(r.MorfMean, Is.EqualTo(0.5712791279).Within(1e-4));
            Assert.That(r.LerfMean, Is.EqualTo(2.824849215).Within(1e-4));
            Assert.That(r.Combined, Is.EqualTo(1.1267850435).Within(1e-4));
            Assert.That(r.FlatMap, Is.False);
        });
    }

    [Test]
    public void A_flat_map_is_flagged_and_scores_exactly_zero_even_with_noise()
    {
        using var scope = NewDisposeScope();
        using var model = new CornerMeanModel(side: 4, corner: 2, channels: 1);
        var x = arange(16, dtype: ScalarType.Float32).reshape(1, 1, 4, 4);
        var r = new Road(model).Evaluate(x, zeros(4, 4), o => o[.., 0], seed: 9);
        Assert.That(r.FlatMap);
        Assert.That(r.Combined, Is.EqualTo(0).Within(1e-12), "both orders remove the same pixels with the same noise");
    }

    [Test]
    public void The_same_seed_gives_the_same_scores()
    {
        using var scope = NewDisposeScope();
        using var model = new CornerMeanModel(side: 4, corner: 2, channels: 1);
        var x = arange(16, dtype: ScalarType.Float32).reshape(1, 1, 4, 4);
        var map = tensor(Enumerable.Range(0, 16).Select(p => (float)(5 * p % 16)).ToArray(), [4, 4]);
        var a = new Road(model).Evaluate(x, map, o => o[.., 0], seed: 3);
        var b = new Road(model).Evaluate(x, map, o => o[.., 0], seed: 3);
        var c = new Road(model).Evaluate(x, map, o => o[.., 0], seed: 4);
        Assert.That(a.Morf.Concat(a.Lerf), Is.EqualTo(b.Morf.Concat(b.Lerf)));
        Assert.That(a.Morf.Concat(a.Lerf), Is.Not.EqualTo(c.Morf.Concat(c.Lerf)));
    }
}
