using SaCam.Core.Methods;
using SaCam.Core.Models;
using SaCam.Imaging;
using static TorchSharp.torch;

namespace SaCam.Tests;

/// <summary>The embedded default (ML.NET's ResNet18 backbone, a CNTK opset-8 export) loads offline and explains.</summary>
[TestFixture]
public class EmbeddedModelTests
{
    [Test]
    public void The_default_model_loads_with_its_layers_and_preprocessing()
    {
        using var model = ModelCatalog.Load(ModelCatalog.DefaultModelId);
        Assert.Multiple(() =>
        {
            Assert.That(model.OutputKind, Is.EqualTo(OutputKind.Embedding));
            Assert.That(model.OutputSize, Is.EqualTo(512));
            Assert.That(model.Layers.Single(l => l.Name == model.DefaultLayer).Shape, Is.EqualTo(new long[] { 1, 512, 7, 7 }),
                "the default layer is the last 7x7 activation before the average pool");
            Assert.That(model.Preprocess.Channels, Is.EqualTo(SaCam.Core.Preprocessing.ChannelOrder.Bgr));
        });
    }

    /// <summary>Self-similarity of the pooled embedding: the map must be a real map (not flat) and lie on the scene's
    /// objects rather than the empty sky of the project's own street scene.</summary>
    [Test]
    public void Self_similarity_map_is_not_flat_and_avoids_the_empty_sky()
    {
        using var scope = NewDisposeScope();
        using var model = ModelCatalog.Load(ModelCatalog.DefaultModelId);
        using var image = ImageFile.ReadBgr(Path.Combine(SharedData.RepoRoot, "media", "street_scene.png"));
        var (x, _) = ImagePreprocessor.ToTensor(image, model.Preprocess);
        using var result = new CamEngine(model).Explain(x, new GradCam());
        var map = result.Map;
        float sky = map[..40, 60..164].mean().item<float>();   // top rows: plain sky
        float scene = map[112.., ..].mean().item<float>();      // lower half: road, car, grass
        Assert.Multiple(() =>
        {
            Assert.That(map.max().item<float>() - map.min().item<float>(), Is.GreaterThan(0.9f));
            Assert.That(scene, Is.GreaterThan(sky), "more attention on the scene than on the empty sky");
        });
    }
}
