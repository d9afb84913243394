using SaCam.Core.Methods;
using SaCam.Core.Models;
using SaCam.Core.Targets;
using SaCam.Evaluation;
using static TorchSharp.torch;

namespace SaCam.Tests;

[TestFixture]
public class SanityAndTemporalTests
{
    private static OnnxCnnModel Model => SharedModels.MobileNetV2;

    /// <summary>Randomizing a layer changes every parameter of that layer and nothing else; restoring is exact.</summary>
    [NeedsSharedData]
    [Test]
    public void Randomization_changes_exactly_the_layers_it_claims_and_restores_them()
    {
        using var scope = NewDisposeScope();
        var layers = Model.ParameterizedLayers();
        Assert.That(layers, Has.Count.EqualTo(53), "MobileNetV2's 52 convolutions and its 1x1-conv classifier");
        var before = layers.SelectMany(l => l.Parameters).Select(p => p.detach().clone()).ToList();
        var top = layers[^1];
        using (var randomizer = new ParameterRandomizer(seed: 7))
        {
            randomizer.Randomize(top);
            var all = layers.SelectMany(l => l.Parameters.Select(p => (Layer: l.Name, Parameter: p))).ToList();
            Assert.Multiple(() =>
            {
                for (int i = 0; i < all.Count; i++)
                {
                    bool changed = !(all[i].Parameter == before[i]).all().item<bool>();
                    Assert.That(changed, Is.EqualTo(all[i].Layer == top.Name), $"{all[i].Layer}: changed = {changed}");
                }
            });
        }
        var after = layers.SelectMany(l => l.Parameters).ToList();
        Assert.That(after.Select((p, i) => (p == before[i]).all().item<bool>()).All(e => e), "every parameter restored exactly");
    }

    /// <summary>Grad-CAM depends on the model: with every layer randomized its map no longer resembles the original.</summary>
    [NeedsSharedData]
    [Test]
    public void GradCam_maps_decorrelate_as_layers_are_randomized()
    {
        using var scope = NewDisposeScope();
        var c = ReferenceCase.All().First(r => r.Name == "both_c244");
        var x = c.Load("input");
        var points = new SanityCheck(Model).Run(x, new GradCam(), new ClassTarget(244), steps: 4);
        using var check = Model.ForwardWithActivation(x, "features").Output;
        Assert.Multiple(() =>
        {
            Assert.That(points.Select(p => p.LayersRandomized), Is.EqualTo(new[] { 13, 26, 40, 53 }));
            var curve = string.Join("; ", points.Select(p => $"{p.LayersRandomized}: rho {p.SpearmanAbs:F3} ssim {p.Ssim:F3}"));
            Assert.That(points[^1].SpearmanAbs, Is.LessThan(0.5), "after all layers: " + curve);
            Compare.RelativeWithin(check.detach(), c.Load("logits"), 1e-3, "the model is restored afterwards");
        });
    }

    [NeedsSharedData]
    [Test]
    public void A_still_frame_has_no_map_change_and_a_moving_clip_has_some()
    {
        using var scope = NewDisposeScope();
        var engine = new CamEngine(Model);
        var x = ReferenceCase.All().First().Load("input");
        using var still = new TemporalStability();
        for (int i = 0; i < 3; i++)
        {
            using var r = engine.Explain(x, new GradCam(), new ClassTarget(244));
            still.Add(i, x, r.Map);
        }
        var y = x + 0.3 * randn_like(x);
        using (var r = engine.Explain(y, new GradCam(), new ClassTarget(244))) still.Add(3, y, r.Map);
        Assert.Multiple(() =>
        {
            Assert.That(still.Changes.Take(2).Select(ch => ch.MapChange), Is.All.EqualTo(0).Within(1e-9));
            Assert.That(still.Changes.Take(2).Select(ch => ch.InputChange), Is.All.EqualTo(0));
            Assert.That(still.Changes[2].InputChange, Is.GreaterThan(0.1));
            Assert.That(still.Changes[2].MapChange, Is.GreaterThan(0));
        });
    }

    [Test]
    public void Ssim_and_spearman_have_their_known_values()
    {
        using var scope = NewDisposeScope();
        var a = rand(32, 32);
        Assert.Multiple(() =>
        {
            Assert.That(MapSimilarity.Ssim(a, a), Is.EqualTo(1).Within(1e-9));
            Assert.That(MapSimilarity.Spearman(a, a * 3 + 1), Is.EqualTo(1).Within(1e-9), "rank correlation ignores monotone rescaling");
            Assert.That(MapSimilarity.Spearman(a, -a), Is.EqualTo(-1).Within(1e-9));
            Assert.That(MapSimilarity.Ssim(a, 1 - a), Is.LessThan(0));
        });
    }
}
