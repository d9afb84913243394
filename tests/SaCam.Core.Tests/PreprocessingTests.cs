using OpenCvSharp;
using SaCam.Core.Preprocessing;
using SaCam.Imaging;
using static TorchSharp.torch;
using Size = OpenCvSharp.Size;
using Scalar = OpenCvSharp.Scalar;

namespace SaCam.Tests;

[TestFixture]
public class PreprocessingTests
{
    public static IEnumerable<ReferenceCase> Cases() => ReferenceCase.All().DistinctBy(c => c.Image);

    /// <summary>OpenCV decoding + the model's metadata preprocessing reproduce input.npy within 1/128 per element.
    /// (The fixtures used (p - 128) / 128; the metadata says mean 0.5, std 0.5, i.e. (p - 127.5) / 127.5.)</summary>
    [NeedsSharedData]
    [TestCaseSource(nameof(Cases))]
    public void Image_file_preprocesses_to_the_fixture_input(ReferenceCase c)
    {
        using var scope = NewDisposeScope();
        using var image = ImageFile.ReadBgr(c.ImagePath);
        var spec = SharedModels.MobileNetV2.Preprocess.WithResize("stretch");
        var (x, _) = ImagePreprocessor.ToTensor(image, spec);
        var expected = c.Load("input");
        Compare.ShapesEqual(x, expected, c.Name);
        Assert.That(Compare.MaxAbsDiff(x, expected), Is.LessThanOrEqualTo(1.0 / 128), $"{c}: max abs diff per element");
    }

    [Test]
    public void Center_crop_takes_the_middle_of_the_shorter_side()
    {
        var spec = PreprocessSpec.ImageNet with { Resize = ResizeMode.CenterCrop, CropFraction = 0.875f };
        var g = ImagePreprocessor.Fit(new Size(640, 480), spec);
        Assert.That(g.SourceRect, Is.EqualTo(new Rect(110, 30, 420, 420)));
    }

    [Test]
    public void Letterbox_keeps_aspect_and_pads_with_the_mean_colour()
    {
        using var scope = NewDisposeScope();
        var spec = PreprocessSpec.ImageNet with { Resize = ResizeMode.Letterbox };
        using var wide = new Mat(100, 200, MatType.CV_8UC3, Scalar.All(255));
        var (x, g) = ImagePreprocessor.ToTensor(wide, spec);
        Assert.Multiple(() =>
        {
            Assert.That(g.TargetRect, Is.EqualTo(new Rect(0, 56, 224, 112)));
            Assert.That(x[0, .., 0, 0].abs().max().item<float>(), Is.LessThan(0.02f), "padding normalizes to ~0");
            Assert.That(x[0, 0, 112, 112].item<float>(), Is.GreaterThan(2f), "white content normalizes high");
        });
    }

    [Test]
    public void Rgb_and_bgr_models_see_swapped_channels()
    {
        using var scope = NewDisposeScope();
        using var red = new Mat(224, 224, MatType.CV_8UC3, new Scalar(0, 0, 255)); // BGR red
        var rgb = PreprocessSpec.ImageNet with { Mean = [0, 0, 0], Std = [1, 1, 1] };
        var (xr, _) = ImagePreprocessor.ToTensor(red, rgb);
        var (xb, _) = ImagePreprocessor.ToTensor(red, rgb with { Channels = ChannelOrder.Bgr });
        Assert.Multiple(() =>
        {
            Assert.That(xr[0, 0, 0, 0].item<float>(), Is.EqualTo(1f), "RGB: red is channel 0");
            Assert.That(xb[0, 2, 0, 0].item<float>(), Is.EqualTo(1f), "BGR: red is channel 2");
        });
    }
}
