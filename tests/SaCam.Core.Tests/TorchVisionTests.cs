using SaCam.Core.Models;
using SaCam.Core.Methods;
using SaCam.Core.Tensors;
using static TorchSharp.torch;

namespace SaCam.Tests;

/// <summary>PyTorch 1.13 state dicts (fixtures/torchvision) loaded into TorchVision .NET architectures reproduce PyTorch's logits.</summary>
[TestFixture]
public class TorchVisionTests
{
    private static string Fixture(string file) => SharedData.Path_("fixtures", "torchvision", file);

    [NeedsSharedData]
    [TestCase("resnet18", "layer4")]
    [TestCase("mobilenet_v2", "features")]
    public void State_dict_reproduces_pytorch_logits(string arch, string camLayer)
    {
        using var scope = NewDisposeScope();
        using var model = TorchVisionZoo.Load(arch, Fixture($"{arch}_random.pth"));
        var x = NpyFile.Read(Fixture($"{arch}_input.npy"));
        var expected = NpyFile.Read(Fixture($"{arch}_logits.npy"));
        Tensor logits;
        using (no_grad()) logits = model.Predict(x);
        Assert.Multiple(() =>
        {
            Assert.That(Compare.MaxAbsDiff(logits, expected), Is.LessThanOrEqualTo(1e-3), $"{arch}: max abs diff of the logits");
            Assert.That(model.DefaultLayer, Is.EqualTo(camLayer));
        });
    }

    [NeedsSharedData]
    [Test]
    public void GradCam_runs_through_a_hooked_torchvision_layer_and_leaves_no_hook_behind()
    {
        using var scope = NewDisposeScope();
        using var model = TorchVisionZoo.Load("resnet18", Fixture("resnet18_random.pth"));
        var x = NpyFile.Read(Fixture("resnet18_input.npy"))[..1];
        var engine = new CamEngine(model);
        using var first = engine.Explain(x, new GradCam());
        using var second = engine.Explain(x, new GradCam());
        Assert.Multiple(() =>
        {
            Assert.That(first.Map.shape, Is.EqualTo(new long[] { 224, 224 }));
            Assert.That(first.ChannelWeights!.shape, Is.EqualTo(new long[] { 512 }), "layer4 of resnet18 has 512 channels");
            Assert.That(first.ChannelWeights.abs().sum().item<float>(), Is.GreaterThan(0f), "gradients reached layer4");
            Assert.That(Compare.MaxAbsDiff(first.Map, second.Map), Is.LessThan(1e-6), "a second run gives the same map (no stale hook)");
            Assert.That(model.Module.parameters().All(p => p.grad is null), "parameter gradients are never touched");
        });
    }

    [Test]
    public void Legacy_or_foreign_weights_give_an_error_naming_the_file()
    {
        var bogus = Path.Combine(TestContext.CurrentContext.WorkDirectory, "bogus.pth");
        File.WriteAllText(bogus, "not a pytorch file");
        var e = Assert.Throws<SaCam.Core.ModelLoadException>(() => TorchVisionZoo.Load("resnet18", bogus));
        Assert.That(e!.Message, Does.Contain("bogus.pth").And.Contain("legacy"));
    }

    /// <summary>TorchSharp's own format: a model saved with module.save loads back and gives the same logits.</summary>
    [NeedsSharedData]
    [Test]
    public void TorchSharp_format_weights_round_trip()
    {
        using var scope = NewDisposeScope();
        var x = NpyFile.Read(Fixture("resnet18_input.npy"));
        var saved = Path.Combine(Directory.CreateTempSubdirectory("sacam-dat-").FullName, "resnet18.dat");
        Tensor expected;
        using (var original = TorchVisionZoo.Load("resnet18", Fixture("resnet18_random.pth")))
        {
            original.Module.save(saved);
            using (no_grad()) expected = original.Predict(x);
        }
        using var reloaded = TorchVisionZoo.Load("resnet18", saved);
        Tensor actual;
        using (no_grad()) actual = reloaded.Predict(x);
        Assert.That(Compare.MaxAbsDiff(actual, expected), Is.LessThanOrEqualTo(1e-5));
        File.Delete(saved);
    }
}
