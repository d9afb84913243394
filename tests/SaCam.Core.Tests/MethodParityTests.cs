using SaCam.Core.Methods;
using SaCam.Core.Targets;
using static TorchSharp.torch;

namespace SaCam.Tests;

/// <summary>
/// Every method against the reference numbers (pytorch-grad-cam 1.5.5 and the SA-CAM executable spec), on every
/// case of fixtures/reference, starting from input.npy: channel weights within 1e-3 relative, final maps within
/// 1e-2 absolute and Pearson >= 0.999.
/// </summary>
[TestFixture, NeedsSharedData]
public class MethodParityTests
{
    public static IEnumerable<ReferenceCase> Cases() => ReferenceCase.All();

    private static CamResult Explain(ReferenceCase c, ICamMethod method)
    {
        using var x = c.Load("input");
        var engine = new CamEngine(SharedModels.MobileNetV2, perturbationBatchSize: 16);
        return engine.Explain(x, method, new ClassTarget(c.ClassIndex), "features");
    }


    [TestCaseSource(nameof(Cases))]
    public void GradCam_matches(ReferenceCase c) => AssertWeightsAndMap(c, new GradCam(), "gradcam");

    [TestCaseSource(nameof(Cases))]
    public void GradCamPlusPlus_matches(ReferenceCase c) => AssertWeightsAndMap(c, new GradCamPlusPlus(), "gradcampp");

    [TestCaseSource(nameof(Cases))]
    public void XGradCam_matches(ReferenceCase c) => AssertWeightsAndMap(c, new XGradCam(), "xgradcam");

    [TestCaseSource(nameof(Cases))]
    public void LayerCam_matches(ReferenceCase c)
    {
        using var scope = NewDisposeScope();
        using var result = Explain(c, new LayerCam());
        Compare.MapMatches(result.Map, c.Load("layercam_cam"), $"{c} layercam");
    }

    [TestCaseSource(nameof(Cases)), Category("Slow")]
    public void ScoreCam_matches(ReferenceCase c) => AssertWeightsAndMap(c, new ScoreCam(), "scorecam");

    /// <summary>
    /// S, SA, w and the low-resolution map from the fixture's own activations (features.npy): the spec's formula,
    /// number for number. S must start from the same A because it is discontinuous in A: the key area is
    /// U_heat >= tau, and features that differ by 6e-5 (PyTorch 1.13 vs libtorch 2.10 convolutions) flip single
    /// pixels of it, which moved p_seg of channel 34 of both_c244 by 13%.
    /// </summary>
    [TestCaseSource(nameof(Cases)), Category("Slow")]
    public void SaCam_terms_equal_the_spec_given_the_reference_activations(ReferenceCase c)
    {
        using var scope = NewDisposeScope();
        var model = SharedModels.MobileNetV2;
        var x = c.Load("input");
        var target = new ClassTarget(c.ClassIndex);
        // Gradients from this implementation's own forward (K and Q are continuous in A, so the tiny difference in A is harmless).
        Tensor gradients;
        using (enable_grad())
        {
            var forward = model.ForwardWithActivation(x, "features");
            gradients = autograd.grad([target.Score(forward.Output).sum()], [forward.Activation])[0];
        }
        var inputs = new CamInputs(x, c.Load("features"), gradients, target, new PerturbationRunner(model, 16));
        CamComputation computed;
        using (no_grad()) computed = new SaCam.Core.Methods.SaCam().Compute(inputs);
        // Channels with a key-area pixel at tau to within float32 rounding are ties: which side the pixel falls on
        // depends on the last bit of the upsampling arithmetic (libtorch 2.10 vs PyTorch 1.13). They are held to the
        // one-pixel effect (1e-2); every other channel to 1e-3.
        var ties = TieChannels(inputs.Activations, 0.5);
        // The fixture scored every live channel on its own; this implementation runs one pair of images per distinct
        // normalized map, and the S checks below hold for every channel, duplicates included.
        var live = (CamMath.ChannelSpan(inputs.Activations) > 1e-8).nonzero().flatten();
        long distinct = DuplicateChannels.Find(inputs.Activations, live).Distinct.shape[0];
        var expectedS = c.Load("sacam_S");
        var scale = expectedS.abs().max();
        var error = (computed.Parts["S"] - expectedS).abs() / scale;
        var nonTieError = where(ties, zeros_like(error), error).max().item<float>();
        var tieError = where(ties, error, zeros_like(error)).max().item<float>();
        Assert.Multiple(() =>
        {
            Assert.That(nonTieError, Is.LessThanOrEqualTo(1e-3), $"{c} sacam S (channels with no pixel at tau)");
            Assert.That(tieError, Is.LessThanOrEqualTo(1e-2), $"{c} sacam S (channels with a pixel at tau)");
            long exempted = ties.logical_and(error > 1e-3).sum().item<long>();
            Assert.That(exempted, Is.LessThanOrEqualTo(expectedS.shape[0] / 100), $"{c}: channels that need the tie exemption");
            Assert.That(inputs.Perturbations.ImagesRun, Is.EqualTo(2 * distinct), $"{c}: two images per distinct map");
            Assert.That(distinct, Is.LessThan(live.shape[0] * 0.95), $"{c}: duplicate maps found (8-9% of live channels on MobileNetV2)");
            foreach (var part in new[] { "K", "Q", "SA" })
                Compare.RelativeWithin(computed.Parts[part], c.Load("sacam_" + part), 1e-3, $"{c} sacam {part}");
            Compare.RelativeWithin(computed.ChannelWeights!, c.Load("sacam_w"), 1e-3, $"{c} sacam w");
            Compare.RelativeWithin(computed.LowResMap, c.Load("sacam_low"), 1e-3, $"{c} sacam low-res map");
        });
    }

    /// <summary>Channels whose upsampled heat map has a pixel within 1e-6 of tau.</summary>
    private static Tensor TieChannels(Tensor activations, double tau)
    {
        var heat = CamMath.ChannelMasks(activations, [224, 224]);
        return (heat - tau).abs().lt(1e-6).flatten(1).any(1);
    }

    /// <summary>
    /// End to end from input.npy through the engine: K and Q within 1e-3, the final map within 1e-2 and Pearson
    /// >= 0.999, and S within 1e-3 on all but the few channels whose key area flips a pixel (at most 2%).
    /// </summary>
    [TestCaseSource(nameof(Cases)), Category("Slow")]
    public void SaCam_from_the_input_matches_the_spec(ReferenceCase c)
    {
        using var scope = NewDisposeScope();
        using var result = Explain(c, new SaCam.Core.Methods.SaCam());
        var expectedS = c.Load("sacam_S");
        var relativeError = (result.Parts["S"] - expectedS).abs() / expectedS.abs().max();
        double withinShare = (relativeError <= 1e-3).to_type(ScalarType.Float64).mean().item<double>();
        Assert.Multiple(() =>
        {
            Compare.RelativeWithin(result.Parts["K"], c.Load("sacam_K"), 1e-3, $"{c} sacam K");
            Compare.RelativeWithin(result.Parts["Q"], c.Load("sacam_Q"), 1e-3, $"{c} sacam Q");
            Assert.That(withinShare, Is.GreaterThanOrEqualTo(0.98), $"{c}: share of channels whose S is within 1e-3 of the spec's");
        });
        Compare.MapMatches(result.Map, c.Load("sacam_cam"), $"{c} sacam");
    }

    private static void AssertWeightsAndMap(ReferenceCase c, ICamMethod method, string fixturePrefix)
    {
        using var scope = NewDisposeScope();
        using var result = Explain(c, method);
        Compare.RelativeWithin(result.ChannelWeights!, c.Load(fixturePrefix + "_weights"), 1e-3, $"{c} {method.Id} weights");
        Compare.MapMatches(result.Map, c.Load(fixturePrefix + "_cam"), $"{c} {method.Id}");
    }
}
