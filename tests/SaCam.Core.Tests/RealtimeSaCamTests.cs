using SaCam.Core;
using SaCam.Core.Methods;
using SaCam.Core.Realtime;
using SaCam.Core.Targets;
using static TorchSharp.torch;

namespace SaCam.Tests;

[TestFixture]
public class RealtimeSaCamTests
{
    /// <summary>A clock that only moves when told: perturbation batches advance it by a fixed cost per image.</summary>
    private sealed class ControlledClock : ITimeSource
    {
        public double NowMs { get; private set; }
        public void Advance(double ms) => NowMs += ms;
    }

    /// <summary>
    /// The same still image as every frame: once the cache holds every live channel, sacam-rt's weights equal full
    /// SA-CAM's within 1e-3 and the maps correlate >= 0.999.
    /// </summary>
    [NeedsSharedData]
    [Test, Category("Slow")]
    public void On_a_still_image_it_converges_to_full_SaCam()
    {
        using var scope = NewDisposeScope();
        var c = ReferenceCase.All().First(r => r.Name == "both_c244");
        var x = c.Load("input");
        var engine = new CamEngine(SharedModels.MobileNetV2);
        var target = new ClassTarget(c.ClassIndex);
        using var full = engine.Explain(x, new SaCam.Core.Methods.SaCam(), target);

        using var rt = new RealtimeSaCam(new RealtimeSaCamOptions { BudgetMs = 4000 });
        CamResult? last = null;
        for (int frame = 0; frame < 20; frame++)
        {
            last?.Dispose();
            last = engine.Explain(x, rt, target);
            if (last.Diagnostics["cache_coverage"] >= 1) break;
        }
        using var final = engine.Explain(x, rt, target); // one more frame with a full cache
        last?.Dispose();
        Assert.Multiple(() =>
        {
            Assert.That(final.Diagnostics["cache_coverage"], Is.EqualTo(1.0), "every live channel is cached");
            Assert.That(final.Diagnostics["weight_on_unscored"], Is.Zero);
            Assert.That(final.Diagnostics["expected_error"], Is.LessThan(1e-5), "every score measured on this very image: nothing left to redraw");
            Assert.That(final.Diagnostics["gradcam_share"], Is.LessThan(1e-6), "every score trusted: nothing of Grad-CAM's map left");
            Compare.RelativeWithin(final.ChannelWeights!, full.ChannelWeights!, 1e-3, "sacam-rt w vs full SA-CAM w");
            Assert.That(Compare.Pearson(final.Map, full.Map), Is.GreaterThanOrEqualTo(0.999));
        });
    }

    /// <summary>Under a controlled clock (only perturbed images cost time: 4 ms each), the time used per frame stays
    /// within the budget on average, and the budget sizes the work: after a one-channel probe on the first frame,
    /// each frame scores what the budget buys.</summary>
    [NeedsSharedData]
    [TestCase(40.0)]
    [TestCase(120.0)]
    public void The_budget_is_respected_on_average(double budgetMs)
    {
        using var scope = NewDisposeScope();
        var clock = new ControlledClock();
        var engine = new CamEngine(SharedModels.MobileNetV2, clock: clock);
        engine.PerturbationBatchRun += images => clock.Advance(4.0 * images);
        using var x = ReferenceCase.All().First().Load("input");
        using var rt = new RealtimeSaCam(new RealtimeSaCamOptions { BudgetMs = budgetMs, MinChannelsPerFrame = 0 });
        var used = new List<double>();
        var scored = new List<double>();
        for (int frame = 0; frame < 8; frame++)
        {
            using var r = engine.Explain(x, rt, new ClassTarget(244));
            used.Add(r.Diagnostics["used_ms"]);
            scored.Add(r.Diagnostics["channels_scored"]);
        }
        Assert.Multiple(() =>
        {
            Assert.That(used.Average(), Is.LessThanOrEqualTo(budgetMs), "average time used per frame");
            Assert.That(used.Skip(1).Average(), Is.GreaterThan(budgetMs * 0.8), "the budget is put to use once the cost is known");
            Assert.That(scored[0], Is.EqualTo(1), "the first frame probes the cost with one channel");
            Assert.That(scored[^1], Is.EqualTo(Math.Floor(budgetMs / 4 / 2)), "channels = what the budget buys, two images each");
        });
    }

    /// <summary>A budget below one channel's cost (5 ms; a channel costs 8 ms on the controlled clock) is not
    /// overrun every frame: unused budget carries over, so some frames reuse the cache alone, others score a channel,
    /// and the average stays at the budget.</summary>
    [NeedsSharedData]
    [Test]
    public void A_budget_below_one_channels_cost_scores_every_few_frames()
    {
        using var scope = NewDisposeScope();
        var clock = new ControlledClock();
        var engine = new CamEngine(SharedModels.MobileNetV2, clock: clock);
        engine.PerturbationBatchRun += images => clock.Advance(4.0 * images);
        using var x = ReferenceCase.All().First().Load("input");
        const double budgetMs = 5;
        const int frames = 12;
        using var rt = new RealtimeSaCam(new RealtimeSaCamOptions { BudgetMs = budgetMs });
        var used = new List<double>();
        var scored = new List<double>();
        for (int frame = 0; frame < frames; frame++)
        {
            using var r = engine.Explain(x, rt, new ClassTarget(244));
            used.Add(r.Diagnostics["used_ms"]);
            scored.Add(r.Diagnostics["channels_scored"]);
        }
        Assert.Multiple(() =>
        {
            // The balance carried at the end is at least minus one budget, hence the one-budget slack over the run.
            Assert.That(used.Sum(), Is.LessThanOrEqualTo(budgetMs * (frames + 1)), "time used over the run");
            Assert.That(scored.Count(n => n == 0), Is.GreaterThan(0), "some frames reuse the cache alone");
            Assert.That(scored.Skip(1).Count(n => n == 1), Is.GreaterThanOrEqualTo(frames / 3), "others score a channel");
        });
    }

    /// <summary>With a few channels scored, the score term is trusted only as far as measured scores carry the weight
    /// at stake (0 &lt; confidence &lt; 1); on the same image repeated, confidence grows as the cache fills, and the
    /// expected error (the map redrawn with plausible unmeasured scores) shrinks.</summary>
    [NeedsSharedData]
    [Test]
    public void The_score_term_is_trusted_as_far_as_it_was_measured()
    {
        using var scope = NewDisposeScope();
        var clock = new ControlledClock();
        var engine = new CamEngine(SharedModels.MobileNetV2, clock: clock);
        engine.PerturbationBatchRun += images => clock.Advance(4.0 * images);
        using var x = ReferenceCase.All().First().Load("input");
        using var rt = new RealtimeSaCam(new RealtimeSaCamOptions { BudgetMs = 40 });
        var confidence = new List<double>();
        var expectedError = new List<double>();
        for (int frame = 0; frame < 4; frame++)
        {
            using var r = engine.Explain(x, rt, new ClassTarget(244));
            confidence.Add(r.Diagnostics["score_confidence"]);
            expectedError.Add(r.Diagnostics["expected_error"]);
        }
        using (var again = engine.Explain(x, new RealtimeSaCam(new RealtimeSaCamOptions { BudgetMs = 40 }), new ClassTarget(244)))
            Assert.That(again.Diagnostics["expected_error"], Is.EqualTo(expectedError[0]), "the estimate's draws are seeded: a frame's estimate repeats");
        Assert.Multiple(() =>
        {
            Assert.That(expectedError[0], Is.GreaterThan(1e-4), "one probe channel: redrawing the unmeasured scores moves the map");
            Assert.That(expectedError[^1], Is.LessThan(expectedError[0]), "more of the weight measured: less left to move");
            Assert.That(confidence[0], Is.GreaterThan(0).And.LessThan(1), "one probe channel: partly trusted");
            Assert.That(confidence[^1], Is.GreaterThan(confidence[0]), "more channels scored on a still scene: more trust");
            Assert.That(confidence[^1], Is.LessThan(1), "a few dozen of ~900 channels do not carry all the weight");
        });
    }

    /// <summary>
    /// While its scores are uncertain the map leans on Grad-CAM's: its share is GradCamShareWithoutScores (0.5) times
    /// the confidence the frame lacks, and the map is that blend of Grad-CAM's map and SA-CAM's formula on the frame's
    /// S (each scaled to [0, 1]). With the share set to 0 the map is the formula's alone. The returned channel weights
    /// still make the map.
    /// </summary>
    [NeedsSharedData]
    [Test]
    public void While_scores_are_uncertain_the_map_leans_on_GradCam_by_the_confidence_it_lacks()
    {
        using var scope = NewDisposeScope();
        var clock = new ControlledClock();
        var engine = new CamEngine(SharedModels.MobileNetV2, clock: clock);
        engine.PerturbationBatchRun += images => clock.Advance(4.0 * images);
        using var x = ReferenceCase.All().First(c => c.Name == "both_c244").Load("input");
        var target = new ClassTarget(244);
        using var gradCam = engine.Explain(x, new GradCam(), target);
        var activations = ActivationsOf(x);
        Tensor FormulaMap(CamResult r) =>
            CamEngine.FinalMap(CamMath.WeightedSum(SaCam.Core.Methods.SaCam.CombineTerms(r.Parts["S"], r.Parts["K"], r.Parts["Q"], new SaCamOptions())["w"], activations), [224, 224], false);

        using var rt = new RealtimeSaCam(new RealtimeSaCamOptions { BudgetMs = 40 });
        using var leaning = engine.Explain(x, rt, target);   // one probe channel: a little trust
        double share = leaning.Diagnostics["gradcam_share"];
        using var formula = FormulaMap(leaning);
        double FitOfBlend(double gradCamShare)
        {
            using var blend = (1 - gradCamShare) * formula + gradCamShare * gradCam.Map;
            return Compare.Pearson(leaning.Map, blend);
        }

        using var alone = engine.Explain(x, new RealtimeSaCam(new RealtimeSaCamOptions { BudgetMs = 40, GradCamShareWithoutScores = 0 }), target);
        using var formulaAlone = FormulaMap(alone);
        Assert.Multiple(() =>
        {
            Assert.That(share, Is.EqualTo(0.5 * (1 - leaning.Diagnostics["score_confidence"])).Within(1e-12));
            Assert.That(share, Is.GreaterThan(0.25), "one channel of ~900 scored: mostly untrusted");
            // The two maps correlate 0.98 on this image, so the share is pinned by the neighbouring shares fitting worse.
            Assert.That(FitOfBlend(share), Is.GreaterThan(0.999), "the map is the blend");
            Assert.That(FitOfBlend(share), Is.GreaterThan(FitOfBlend(share - 0.15)).And.GreaterThan(FitOfBlend(share + 0.15)), "at that share");
            Assert.That(Compare.Pearson(leaning.Map, formula), Is.LessThan(0.999), "and not the formula's map alone");
            Assert.That(alone.Diagnostics["gradcam_share"], Is.Zero);
            Assert.That(Compare.Pearson(alone.Map, formulaAlone), Is.GreaterThan(0.99999), "share 0: the formula's map");
            using var fromWeights = CamEngine.FinalMap(CamMath.WeightedSum(leaning.ChannelWeights!, activations), [224, 224], false);
            Assert.That(Compare.Pearson(leaning.Map, fromWeights), Is.GreaterThan(0.99999), "the channel weights make the map");
        });
    }

    /// <summary>The default layer's activations for <paramref name="x"/> (in the caller's dispose scope).</summary>
    private static Tensor ActivationsOf(Tensor x)
    {
        var captured = SharedModels.MobileNetV2.ForwardWithActivation(x, SharedModels.MobileNetV2.DefaultLayer);
        captured.Output.Dispose();
        return captured.Activation.detach();
    }

    /// <summary>A class flip parks the class's scores (a flip back resumes them); a scene cut drops them all.</summary>
    [NeedsSharedData]
    [Test]
    public void A_class_flip_keeps_scores_per_class_and_a_scene_cut_drops_them()
    {
        using var scope = NewDisposeScope();
        var engine = new CamEngine(SharedModels.MobileNetV2);
        var cases = ReferenceCase.All().ToList();
        var cat = cases.First(c => c.Name == "both_c283").Load("input");
        var other = cases.First(c => c.Name.StartsWith("ILSVRC2012_val_00000057")).Load("input");
        // One channel every frame whatever the machine's speed: this test is about the caches, not the budget.
        using var rt = new RealtimeSaCam(new RealtimeSaCamOptions { BudgetMs = 60, MinChannelsPerFrame = 1 });
        double Coverage(CamResult r) => r.Diagnostics["cache_coverage"];
        using var a = engine.Explain(cat, rt, new ClassTarget(283));
        using var b = engine.Explain(cat, rt, new ClassTarget(283));
        using var c = engine.Explain(cat, rt, new ClassTarget(244));
        using var d = engine.Explain(cat, rt, new ClassTarget(283));
        using var e = engine.Explain(other, rt, new ClassTarget(283));
        Assert.Multiple(() =>
        {
            Assert.That(a.Diagnostics["scene_cut"], Is.Zero);
            Assert.That(Coverage(b), Is.GreaterThan(Coverage(a)), "the same scene: the cache grows");
            Assert.That(c.Diagnostics["class_changed"], Is.EqualTo(1));
            // Counted in channels, not frames: a scored channel also covers the channels that share its map.
            Assert.That(Coverage(c) * c.Diagnostics["channels_live"], Is.EqualTo(c.Diagnostics["channels_covered"]).Within(1e-6),
                "another class starts its own cache: only the frame's own fresh scores");
            Assert.That(Coverage(b) * b.Diagnostics["channels_live"], Is.GreaterThan(b.Diagnostics["channels_covered"]),
                "the same scene: the cache holds the earlier frame's scores too");
            Assert.That(Coverage(d), Is.GreaterThan(Coverage(b)), "flipping back resumes the class's scores");
            Assert.That(e.Diagnostics["scene_cut"], Is.EqualTo(1), "a different image is a scene cut");
            // (Channels with the same normalized map as a scored one are covered with it, so count them, not frames.)
            Assert.That(Coverage(e) * e.Diagnostics["channels_live"], Is.EqualTo(e.Diagnostics["channels_covered"]).Within(1e-6),
                "a scene cut drops the cached scores: only the frame's own fresh ones are left");
            Assert.That(Coverage(d) * d.Diagnostics["channels_live"], Is.GreaterThan(d.Diagnostics["channels_covered"]),
                "before the cut the cache held more than one frame's scores");
        });
    }

    /// <summary>A model whose passes cost fixed times on a controlled clock: the forward and backward of a frame
    /// <paramref name="gradientPassMs"/>, a perturbed image <paramref name="perImageMs"/>.</summary>
    private sealed class TimedModel(SaCam.Core.Models.IExplainableModel inner, ControlledClock clock, double gradientPassMs, double perImageMs)
        : SaCam.Core.Models.IExplainableModel
    {
        public string Name => inner.Name;
        public Device Device => inner.Device;
        public SaCam.Core.Preprocessing.PreprocessSpec Preprocess { get => inner.Preprocess; set => inner.Preprocess = value; }
        public SaCam.Core.Models.ClassLabels? Labels { get => inner.Labels; set => inner.Labels = value; }
        public SaCam.Core.Models.OutputKind OutputKind => inner.OutputKind;
        public long OutputSize => inner.OutputSize;
        public string DefaultLayer => inner.DefaultLayer;
        public IReadOnlyList<SaCam.Core.Models.LayerInfo> Layers => inner.Layers;
        public TorchSharp.torch.nn.Module Module => inner.Module;

        public SaCam.Core.Models.CapturedForward ForwardWithActivation(Tensor input, string layer)
        {
            clock.Advance(gradientPassMs);
            return inner.ForwardWithActivation(input, layer);
        }

        public Tensor Predict(Tensor input)
        {
            clock.Advance(perImageMs * input.shape[0]);
            return inner.Predict(input);
        }

        public void Dispose() => inner.Dispose();
    }

    /// <summary>The tiny CNN on a controlled clock: a frame's forward and backward cost 30 ms, a perturbed image 2 ms.</summary>
    private static (TimedModel Model, CamEngine Engine, Tensor Frame) TimedTinyModel()
    {
        var clock = new ControlledClock();
        var model = new TimedModel(SaCam.Core.Models.OnnxCnnModel.Load(TinyCnn.Save()), clock, gradientPassMs: 30, perImageMs: 2);
        return (model, new CamEngine(model, clock: clock), randn(1, 3, 32, 32, generator: new TorchSharp.torch.Generator(5)));
    }

    /// <summary>The automatic budget is 2x the measured forward and backward (30 ms here): 60 ms, whatever the
    /// model and machine, so a slow model still buys channels; no warning is given.</summary>
    [Test]
    public void The_automatic_budget_follows_the_measured_gradient_pass()
    {
        var (model, engine, x) = TimedTinyModel();
        using var disposeModel = model;
        using var disposeFrame = x;
        using var rt = new RealtimeSaCam(new RealtimeSaCamOptions());
        var warnings = new List<string>();
        rt.Warning += text => warnings.Add(text.ToString());
        var budgets = new List<double>();
        var scored = new List<double>();
        for (int frame = 0; frame < 10; frame++)
        {
            using var r = engine.Explain(x, rt);
            budgets.Add(r.Diagnostics["budget_ms"]);
            scored.Add(r.Diagnostics["channels_scored"]);
        }
        Assert.Multiple(() =>
        {
            Assert.That(budgets, Is.All.EqualTo(60).Within(1e-9), "2 x the 30 ms gradient pass");
            Assert.That(scored.Skip(1), Is.All.GreaterThanOrEqualTo(1), "30 ms left buys channels (2 images at 2 ms each) every frame");
            Assert.That(warnings, Is.Empty);
        });
    }

    /// <summary>A fixed budget below the gradient pass's own cost never buys a channel: after
    /// StarvedFramesBeforeWarning such frames the method warns once, with the figures.</summary>
    [Test]
    public void A_budget_below_the_gradient_pass_warns_once()
    {
        var (model, engine, x) = TimedTinyModel();
        using var disposeModel = model;
        using var disposeFrame = x;
        using var rt = new RealtimeSaCam(new RealtimeSaCamOptions { BudgetMs = 20 });
        var warnings = new List<string>();
        rt.Warning += text => warnings.Add(text.ToString());
        for (int frame = 0; frame < 20; frame++)
        {
            using var r = engine.Explain(x, rt);
            if (frame == rt.Options.StarvedFramesBeforeWarning - 1) Assert.That(warnings, Is.Empty, "not before the frames it waits for");
        }
        Assert.That(warnings, Has.Count.EqualTo(1));
        Assert.That(warnings[0], Does.Contain("a budget of 20 ms cannot buy a single channel").And.Contain("alone take 30 ms").And.Contain("a channel 4 ms more"));
    }

    /// <summary>A cached score's trust: whole on a still scene however old; one driving frame's change (0.08) takes
    /// a good part of it at once; after a few frames of motion what is left is <see cref="RealtimeSaCamOptions.ScoreTrustOnceMoved"/>
    /// halving with every <see cref="RealtimeSaCamOptions.ScoreHalfLifeDrift"/> of change; a channel never scored has none.</summary>
    [Test]
    public void A_cached_score_loses_part_of_its_trust_as_soon_as_the_scene_moves_then_fades_slowly()
    {
        using var scope = NewDisposeScope();
        var options = new RealtimeSaCamOptions();
        var term = new ScoreTerm(options);
        using var cache = new ScoreCache();
        cache.Prepare(classIndex: 1, channels: 3, CPU);
        cache.Store(tensor(new long[] { 0, 1 }), tensor(new float[] { 0.5f, 0.8f, 0f }));
        double TrustOf(int channel) => term.Trust(cache, cache.Age.isfinite())[channel].item<float>();

        for (int frame = 0; frame < 50; frame++) cache.Tick(maxAge: 2000, sceneChange: 0);
        Assert.That(TrustOf(0), Is.EqualTo(1).Within(1e-6), "a still scene: nothing fades, however many frames pass");
        Assert.That(TrustOf(2), Is.EqualTo(0), "never scored");

        cache.Tick(maxAge: 2000, sceneChange: 0.08);
        Assert.That(TrustOf(1), Is.LessThan(0.75).And.GreaterThan(options.ScoreTrustOnceMoved), "one highway frame: most of the first-move part is gone at once");
        for (int frame = 0; frame < 5; frame++) cache.Tick(maxAge: 2000, sceneChange: 0.084);
        double fewFrames = TrustOf(1);   // D = 0.5
        Assert.That(fewFrames, Is.EqualTo(options.ScoreTrustOnceMoved * Math.Pow(2, -0.5 / options.ScoreHalfLifeDrift)).Within(1e-3),
            "a few frames on, only the slow part is left");
        cache.Tick(maxAge: 2000, sceneChange: options.ScoreHalfLifeDrift);
        Assert.That(TrustOf(1), Is.EqualTo(fewFrames / 2).Within(1e-3), "the slow part halves with every half-life of change");
    }

    /// <summary>Until the regression has enough points, a channel not yet scored is estimated at the highest cached
    /// score: a score can demote its channel but not lift it above the channels nobody has looked at.</summary>
    [Test]
    public void With_few_scores_an_unscored_channel_is_estimated_at_the_highest_one()
    {
        using var scope = NewDisposeScope();
        var term = new ScoreTerm(new RealtimeSaCamOptions());
        using var cache = new ScoreCache();
        cache.Prepare(classIndex: 1, channels: 10, CPU);
        cache.Store(tensor(new long[] { 0, 1, 2 }), tensor(new float[] { 0.2f, 0.9f, 0.5f, 0, 0, 0, 0, 0, 0, 0 }));
        var scoredMask = cache.Age.isfinite();
        var k = linspace(-1, 1, 10);
        var q = linspace(0, 1, 10);
        var activations = rand(1, 10, 7, 7, generator: new TorchSharp.torch.Generator(5));
        var estimate = term.EstimateUnscored(cache, k, q, activations, scoredMask, scoredCount: 3);
        Assert.That(estimate[5].item<float>(), Is.EqualTo(0.9f), "the highest of the three cached scores");
        Assert.That(estimate.max().item<float>(), Is.EqualTo(estimate.min().item<float>()), "the same for every channel: nothing to regress on yet");
    }

    private static readonly object[] BadOptions =
    [
        new object[] { new RealtimeSaCamOptions { BudgetMs = 0 }, "BudgetMs" },
        new object[] { new RealtimeSaCamOptions { BudgetMs = double.NaN }, "BudgetMs" },
        new object[] { new RealtimeSaCamOptions { TemporalSmoothing = 1 }, "TemporalSmoothing" },
        new object[] { new RealtimeSaCamOptions { TemporalSmoothing = -0.1 }, "TemporalSmoothing" },
        new object[] { new RealtimeSaCamOptions { ClassesKept = 0 }, "ClassesKept" },
        new object[] { new RealtimeSaCamOptions { ScoreHalfLifeDrift = 0 }, "ScoreHalfLifeDrift" },
        new object[] { new RealtimeSaCamOptions { ScoreTrustOnceMoved = 1.5 }, "ScoreTrustOnceMoved" },
        new object[] { new RealtimeSaCamOptions { ScoreTrustOnceMoved = double.NaN }, "ScoreTrustOnceMoved" },
        new object[] { new RealtimeSaCamOptions { ScoreFirstMoveHalfLifeDrift = 0 }, "ScoreFirstMoveHalfLifeDrift" },
        new object[] { new RealtimeSaCamOptions { RefreshHalfLifeDrift = -1 }, "RefreshHalfLifeDrift" },
        new object[] { new RealtimeSaCamOptions { GradCamShareWithoutScores = 1.5 }, "GradCamShareWithoutScores" },
        new object[] { new RealtimeSaCamOptions { GradCamShareWithoutScores = double.NaN }, "GradCamShareWithoutScores" },
        new object[] { new RealtimeSaCamOptions { SaCam = new SaCamOptions { Temperature = 0 } }, "Temperature" },
    ];

    [NeedsSharedData]
    [TestCaseSource(nameof(BadOptions))]
    public void Meaningless_options_are_refused_by_name_when_a_frame_is_explained(RealtimeSaCamOptions options, string name)
    {
        using var rt = new RealtimeSaCam(options);
        var engine = new CamEngine(SharedModels.MobileNetV2);
        using var x = zeros(1, 3, 224, 224);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => engine.Explain(x, rt))!;
        Assert.That(e.ParamName, Is.EqualTo(name));
    }
}
