using OpenCvSharp;
using SaCam.App.Building;
using SaCam.Core.Methods;
using SaCam.Imaging;
using static TorchSharp.torch;

namespace SaCam.Tests;

/// <summary>
/// <c>output:NAME[i]</c> on a real network: the shared MobileNetV2's raw logit i, read as a regression head's value
/// would be. pytorch-grad-cam's ClassifierOutputTarget is that same raw logit, so the maps must be the reference
/// fixtures' for class i, number for number (the tolerances of MethodParityTests). This is the shared model that
/// stands in for a regressor: the project's ../shared has no regression model, and a raw output is what one exposes.
/// </summary>
[TestFixture, NeedsSharedData]
public class OutputTargetParityTests
{
    public static IEnumerable<ReferenceCase> Cases() => ReferenceCase.All();

    private static CamResult Explain(ReferenceCase c, ICamMethod method)
    {
        var model = SharedModels.MobileNetV2;
        using var x = c.Load("input");
        var whole = new Rect(0, 0, 224, 224);
        var found = ObjectTargets.Find($"output:{model.Graph.OutputName}[{c.ClassIndex}]", model, x, new FrameGeometry(new OpenCvSharp.Size(224, 224), new OpenCvSharp.Size(224, 224), whole, whole), 1);
        Assert.That(found, Has.Count.EqualTo(1), "one raw output, one object");
        try
        {
            return new CamEngine(model, perturbationBatchSize: 16).Explain(x, method, found[0].Target, "features");
        }
        finally
        {
            foreach (var o in found) o.Dispose();
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void The_gradient_family_on_a_raw_logit_gives_the_reference_maps_of_its_class(ReferenceCase c)
    {
        using var scope = NewDisposeScope();
        foreach (var (method, name) in new (ICamMethod, string)[] { (new GradCam(), "gradcam"), (new XGradCam(), "xgradcam"), (new LayerCam(), "layercam") })
        {
            using var result = Explain(c, method);
            Compare.MapMatches(result.Map, c.Load($"{name}_cam"), $"{c} {name} on output:logits[{c.ClassIndex}]");
            if (name != "layercam") Compare.RelativeWithin(result.ChannelWeights!, c.Load($"{name}_weights"), 1e-3, $"{c} {name} weights");
        }
    }

    [Test, Category("Slow")]
    public void ScoreCam_on_a_raw_logit_gives_the_reference_map_of_its_class()
    {
        var c = ReferenceCase.All().First();
        using var scope = NewDisposeScope();
        using var result = Explain(c, new ScoreCam());
        Compare.MapMatches(result.Map, c.Load("scorecam_cam"), $"{c} scorecam on output:logits[{c.ClassIndex}]");
        Compare.RelativeWithin(result.ChannelWeights!, c.Load("scorecam_weights"), 1e-3, $"{c} scorecam weights");
    }
}
