using SaCam.Core;
using SaCam.Core.Models;
using static TorchSharp.torch;

namespace SaCam.Tests;

[TestFixture]
public class MobileNetParityTests
{
    internal static OnnxCnnModel Model => SharedModels.MobileNetV2;

    public static IEnumerable<ReferenceCase> Cases() => ReferenceCase.All();

    [NeedsSharedData]
    [TestCaseSource(nameof(Cases))]
    public void Logits_and_features_equal_the_fixture(ReferenceCase c)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = c.Load("input");
        var run = Model.ForwardWithActivation(x, "features");
        Compare.RelativeWithin(run.Output, c.Load("logits"), 1e-3, $"{c} logits");
        Compare.RelativeWithin(run.Activation, c.Load("features"), 1e-3, $"{c} features");
    }

    [NeedsSharedData]
    [Test]
    public void Reads_metadata_labels_and_finds_the_default_layer()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Model.DefaultLayer, Is.EqualTo("features"));
            Assert.That(Model.OutputKind, Is.EqualTo(OutputKind.Logits));
            Assert.That(Model.OutputSize, Is.EqualTo(1001));
            Assert.That(Model.Labels?.Count, Is.EqualTo(1001));
            Assert.That(Model.Labels![244], Is.EqualTo("bull mastiff"));
            Assert.That(Model.Preprocess.Mean, Is.EqualTo(new[] { 0.5f, 0.5f, 0.5f }));
            Assert.That(Model.Layers.Single(l => l.Name == "features").Shape, Is.EqualTo(new long[] { 1, 1280, 7, 7 }));
        });
    }
}
