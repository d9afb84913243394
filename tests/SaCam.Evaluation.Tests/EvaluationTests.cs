using SaCam.Core.Methods;
using SaCam.Core.Models;
using SaCam.Core.Preprocessing;
using SaCam.Core.Targets;
using SaCam.Evaluation;
using SaCam.Imaging;
using TorchSharp;
using static TorchSharp.torch;

namespace SaCam.Tests;

[TestFixture]
public class EvaluationTests
{

    private static Tensor Region() { var m = zeros(16, 16); m[..8, ..8] = tensor(1f); return m; }

    [Test]
    public void Deletion_auc_of_a_perfect_and_an_inverted_map_are_known_exactly()
    {
        using var scope = NewDisposeScope();
        using var model = new CornerMeanModel(side: 16, corner: 8);
        var metric = new DeletionInsertion(model, stepPixels: 16, batchSize: 5);
        var x = ones(1, 3, 16, 16);
        Func<Tensor, Tensor> score = o => o[.., 0];
        var perfect = metric.Evaluate(x, Region(), score);
        var inverted = metric.Evaluate(x, 1 - Region(), score);
        // 17 points (0..16 steps of 16 pixels). Perfect: region pixels are ranked in row order, 4 steps of 16 pixels
        // delete 64 pixels: scores 1, 0.75, 0.5, 0.25, 0, then 0: AUC = (1 + .75 + .5 + .25 - 1/2) / 16 = 2 / 16.
        Assert.That(perfect.Deletion.Take(6), Is.EqualTo(new[] { 1, 0.75, 0.5, 0.25, 0, 0 }).Within(1e-6));
        Assert.That(perfect.DeletionAuc, Is.EqualTo(2.0 / 16).Within(1e-9));
        // Inverted: 12 steps delete the 192 other pixels (score stays 1), then 4 steps delete the region.
        Assert.That(inverted.DeletionAuc, Is.EqualTo((12 + 0.5 + 0.75 + 0.5 + 0.25) / 16).Within(1e-9));
    }

    [NeedsSharedData]
    [Test]
    public void Batched_and_unbatched_curves_agree_on_a_real_model()
    {
        using var scope = NewDisposeScope();
        var c = ReferenceCase.All().First(r => r.Name == "both_c283");
        var x = c.Load("input");
        var map = c.Load("gradcam_cam");
        var metric = new DeletionInsertion(SharedModels.MobileNetV2, stepPixels: 224 * 28, batchSize: 4);
        Func<Tensor, Tensor> score = o => o.softmax(1)[.., 283];
        var batched = metric.Evaluate(x, map, score);
        var single = metric.EvaluateUnbatched(x, map, score);
        Assert.That(batched.Deletion, Is.EqualTo(single.Deletion).Within(1e-4));
        Assert.That(batched.Insertion, Is.EqualTo(single.Insertion).Within(1e-4));
        Assert.That(batched.Deletion[0], Is.EqualTo(batched.Insertion[^1]).Within(1e-5), "nothing deleted = everything inserted = the original score");
    }

    private static readonly BoxAnnotations BothBoxes = BoxAnnotations.Read(Path.Combine(AppContext.BaseDirectory, "Data", "both.png.boxes.json"));

    /// <summary>On both.png, the tiger-cat map puts most of its energy on the cat and the bull-mastiff map on the dog.</summary>
    [NeedsSharedData]
    [TestCase("gradcam")]
    [TestCase("scorecam", Category = "Slow")]
    [TestCase("sacam", Category = "Slow")]
    public void Each_class_map_points_at_its_own_animal(string methodId)
    {
        using var scope = NewDisposeScope();
        using var image = ImageFile.ReadBgr(SharedData.Path_("media", "images", "both.png"));
        var model = SharedModels.MobileNetV2;
        var (x, _) = ImagePreprocessor.ToTensor(image, model.Preprocess.WithResize("stretch"));
        var engine = new CamEngine(model);
        var dog = BothBoxes.Objects.Single(o => o.ClassIndex == 244);
        var cat = BothBoxes.Objects.Single(o => o.ClassIndex == 283);
        using var dogMap = engine.Explain(x, MethodRegistry.Create(methodId), new ClassTarget(244));
        using var catMap = engine.Explain(x, MethodRegistry.Create(methodId), new ClassTarget(283));
        Assert.Multiple(() =>
        {
            Assert.That(Pointing.EnergyInBox(catMap.Map, cat), Is.GreaterThan(Pointing.EnergyInBox(catMap.Map, dog)), $"{methodId}: cat map energy, cat box vs dog box");
            Assert.That(Pointing.EnergyInBox(dogMap.Map, dog), Is.GreaterThan(Pointing.EnergyInBox(dogMap.Map, cat)), $"{methodId}: dog map energy, dog box vs cat box");
            Assert.That(Pointing.EnergyInBox(catMap.Map, cat), Is.GreaterThan(0.5), $"{methodId}: most of the cat map's energy is on the cat");
            Assert.That(Pointing.PeakInBox(catMap.Map, cat), $"{methodId}: the cat map's peak is on the cat");
            Assert.That(Pointing.PeakInBox(dogMap.Map, dog), $"{methodId}: the dog map's peak is on the dog");
        });
    }
}
