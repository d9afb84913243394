using SaCam.Core.Methods;
using static TorchSharp.torch;

namespace SaCam.Tests;

/// <summary>Channels with the same normalized map share their perturbed images; nothing else is merged.</summary>
public class DuplicateChannelsTests
{
    [Test]
    public void Channels_equal_up_to_a_positive_scale_are_one_group_and_faint_ones_stay_apart()
    {
        using var scope = NewDisposeScope();
        var pattern = rand(3, 3, generator: new Generator(7));
        var oneHot = zeros(3, 3);
        oneHot[1, 1] = tensor(1f);
        // Scaling by a power of two is exact in float32, so the normalized maps have the same bits.
        var a = stack([oneHot * 5, pattern, oneHot * 0.75, pattern * 4, oneHot * 1e-5f, pattern.flip(0)]).unsqueeze(0);
        var found = DuplicateChannels.Find(a, arange(6, dtype: ScalarType.Int64));
        Assert.Multiple(() =>
        {
            Assert.That(found.Distinct.data<long>().ToArray(), Is.EqualTo(new long[] { 0, 1, 4, 5 }));
            Assert.That(found.RepresentativeOf.data<long>().ToArray(), Is.EqualTo(new long[] { 0, 1, 0, 1, 2, 3 }),
                "the faint one-hot channel (span 1e-5) is not merged: its mask differs through the normalization's eps");
            Assert.That(found.GroupMaximum(tensor(new[] { 1f, 2, 9, 0, 3, 4 })).data<float>().ToArray(), Is.EqualTo(new[] { 9f, 2, 3, 4 }));
        });
    }

    [Test]
    public void A_subset_of_channels_is_grouped_in_its_own_order()
    {
        using var scope = NewDisposeScope();
        var oneHot = zeros(2, 2);
        oneHot[0, 1] = tensor(1f);
        var a = stack([rand(2, 2, generator: new Generator(1)), oneHot * 2, oneHot * 3, rand(2, 2, generator: new Generator(2))]).unsqueeze(0);
        var found = DuplicateChannels.Find(a, tensor(new long[] { 2, 0, 1 }));
        Assert.Multiple(() =>
        {
            Assert.That(found.Distinct.data<long>().ToArray(), Is.EqualTo(new long[] { 2, 0 }));
            Assert.That(found.RepresentativeOf.data<long>().ToArray(), Is.EqualTo(new long[] { 0, 1, 0 }));
        });
    }
}

/// <summary>The blur as banded matrix products gives the numbers of the reflect-padded separable convolution.</summary>
public class GaussianBlurTests
{
    [TestCase(224, 224, 10.0, null)]
    [TestCase(40, 64, 3.0, null)]
    [TestCase(8, 12, 10.0, null)]   // pad past the reflect limit: the edge is replicated
    [TestCase(60, 60, 50.0, 51)]
    public void Matrix_products_equal_the_convolution(int height, int width, double sigma, int? kernel)
    {
        using var scope = NewDisposeScope();
        var x = randn(2, 3, height, width, generator: new Generator(5));
        var byProducts = GaussianBlur.Apply(x, sigma, kernel);
        var byConvolution = GaussianBlur.Convolve(x, sigma, kernel is int k ? k / 2 : (int)Math.Ceiling(3 * sigma));
        Assert.That((byProducts - byConvolution).abs().max().item<float>(), Is.LessThan(1e-5f));
    }
}
