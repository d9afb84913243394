using SaCam.Core;
using SaCam.Core.Methods;
using SaCam.Core.Models;
using SaCam.Core.Targets;
using static TorchSharp.torch;

namespace SaCam.Tests;

/// <summary>Every kind of bad input gives a managed error that names the input and what is wrong, never a native abort.</summary>
[TestFixture]
public class BadInputTests
{
    private static OnnxCnnModel Model => SharedModels.MobileNetV2;

    [Test]
    public void Missing_model_file()
    {
        var e = Assert.Throws<ModelLoadException>(() => OnnxCnnModel.Load("/nowhere/model.onnx"));
        Assert.That(e!.Message, Does.Contain("/nowhere/model.onnx").And.Contain("does not exist"));
    }

    [Test]
    public void A_file_that_is_not_onnx()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory().FullName, "notes.onnx");
        File.WriteAllText(path, "this is not a protobuf file at all, just some text that goes on for a while");
        var e = Assert.Throws<ModelLoadException>(() => OnnxCnnModel.Load(path));
        Assert.That(e!.Message, Does.Contain("notes.onnx").And.Contain("not a valid ONNX model"));
    }

    [Test]
    public void An_unsupported_op_is_named_with_its_node()
    {
        var path = new OnnxBuilder().Input("x", 1, 3, 8, 8).Output("y", 4)
            .Node("Erf", ["x"], ["y"], "the_erf_node").Save("erf.onnx");
        var e = Assert.Throws<ModelLoadException>(() => OnnxCnnModel.Load(path));
        Assert.That(e!.Message, Does.Contain("erf.onnx").And.Contain("'Erf' is not supported").And.Contain("the_erf_node"));
    }

    [Test]
    public void A_model_that_is_not_a_cnn()
    {
        var path = new OnnxBuilder().Input("x", 1, 10).Output("y", 2)
            .Initializer("w", [10, 4], new float[40]).Node("MatMul", ["x", "w"], ["y"]).Save("mlp.onnx");
        var e = Assert.Throws<ModelLoadException>(() => OnnxCnnModel.Load(path));
        Assert.That(e!.Message, Does.Contain("mlp.onnx").And.Contain("not a CNN"));
    }

    [NeedsSharedData]
    [Test]
    public void An_unknown_layer_lists_the_candidates()
    {
        using var x = zeros(1, 3, 224, 224);
        var e = Assert.Throws<ArgumentException>(() => new CamEngine(Model).Explain(x, new GradCam(), layer: "conv99"));
        Assert.That(e!.Message, Does.Contain("'conv99' does not exist").And.Contain("features [1x1280x7x7]"));
    }

    [NeedsSharedData]
    [Test]
    public void A_class_index_out_of_range()
    {
        using var x = zeros(1, 3, 224, 224);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new CamEngine(Model).Explain(x, new GradCam(), new ClassTarget(5000)));
        Assert.That(e!.Message, Does.Contain("5000").And.Contain("1001 classes"));
    }

    [NeedsSharedData]
    [TestCase(new long[] { 1, 3, 100, 100 })]
    [TestCase(new long[] { 3, 224, 224 })]
    [TestCase(new long[] { 2, 3, 224, 224 })]
    public void An_input_tensor_of_the_wrong_shape(long[] shape)
    {
        using var x = zeros(shape);
        var e = Assert.Throws<ArgumentException>(() => new CamEngine(Model).Explain(x, new GradCam()));
        Assert.That(e!.Message, Does.Contain($"[{string.Join(", ", shape)}]").And.Contain("[1, 3, 224, 224]"));
    }

    [NeedsSharedData]
    [Test]
    public void NaN_in_the_input()
    {
        using var x = zeros(1, 3, 224, 224);
        x[0, 1, 5, 5] = tensor(float.NaN);
        var e = Assert.Throws<ArgumentException>(() => new CamEngine(Model).Explain(x, new GradCam()));
        Assert.That(e!.Message, Does.Contain("NaN"));
    }

    [Test]
    public void Cuda_on_a_cpu_build_names_the_build_switch()
    {
        if (cuda.is_available()) Assert.Ignore("This build has CUDA: the error path does not apply.");
        var e = Assert.Throws<DeviceUnavailableException>(() => DeviceSelector.Parse("cuda:0"));
        Assert.That(e!.Message, Does.Contain("cuda:0").And.Contain("SaCamTorchBackend=cuda"));
    }

    [Test]
    public void An_unknown_device_or_method()
    {
        Assert.That(Assert.Throws<ArgumentException>(() => DeviceSelector.Parse("tpu"))!.Message, Does.Contain("'tpu'"));
        Assert.That(Assert.Throws<ArgumentException>(() => MethodRegistry.Create("magiccam"))!.Message, Does.Contain("'magiccam'").And.Contain("sacam"));
    }

    [Test]
    public void A_corrupt_image_names_the_file()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory().FullName, "broken.png");
        File.WriteAllBytes(path, [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3, 4, 5]);
        var e = Assert.Throws<InvalidDataException>(() => SaCam.Imaging.ImageFile.ReadBgr(path));
        Assert.That(e!.Message, Does.Contain("broken.png").And.Contain("cannot be decoded"));
    }
}
