using SaCam.Core.Methods;
using SaCam.Core.Models;
using TorchSharp;
using SaCam.Core.Targets;
using SaCam.Core.Tasks;
using static TorchSharp.torch;

namespace SaCam.Tests;

/// <summary>
/// The shared segmenter and detector (../shared/models, README-seg-det.md) import into TorchSharp with the ops their
/// heads need (Resize, Slice, Expand, Equal, Where), and the gradient a method takes through the head alone (the
/// trunk on ONNX Runtime) equals the whole graph's in TorchSharp within 1e-5 of its scale.
/// </summary>
[TestFixture, NeedsSharedData]
public class TaskModelGradientTests
{
    private static ModelCard Card(string task, string output) => new()
    {
        Task = task == "segmentation" ? ModelTask.Segmentation : ModelTask.Detection,
        Output = task == "segmentation" ? output : null,
        TargetLayer = "features",
        Preprocess = new CardPreprocess { Mean = [0.5f, 0.5f, 0.5f], Std = [0.5f, 0.5f, 0.5f] },
        Detection = task == "segmentation" ? null : new DetectionCard
        {
            Format = DetectionFormat.Ssd, Boxes = "boxes", Scores = "scores", Anchors = "anchors", BackgroundClass = 0, ScoreThreshold = 0.3f, NmsIou = 0.6f, MaxDetections = 40,
        },
    };

    /// <summary>The class the segmenter gives the top-left pixel, over every pixel it gives that class.</summary>
    private static SegmentationTarget SegmentOf(Tensor output)
    {
        var classes = output[0].argmax(0);
        int c = (int)classes[0, 0].item<long>();
        return new SegmentationTarget(c, null, classes == c);
    }

    [TestCase("deeplabv3_mnv2_pascal.onnx", "segmentation")]
    [TestCase("traffic_ssd.onnx", "detection")]
    public void Head_only_gradients_equal_the_whole_graphs(string file, string task)
    {
        using var model = OnnxTaskModel.Load(SharedData.Path_("models", file), Card(task, "logits"));
        Assert.That(model.HasGradients, model.GradientNote);
        using var scope = NewDisposeScope();
        var x = randn([1, 3, model.Preprocess.Height, model.Preprocess.Width], generator: new Generator(3));
        IExplanationTarget target;
        using (no_grad())
        {
            var output = model.Predict(x);
            target = task == "segmentation"
                ? SegmentOf(output)
                : new DetectionTarget(model.Decoder!.Detect(output[0], null).FirstOrDefault()
                    ?? new Detection(1, null, 0, [0.3f, 0.3f, 0.6f, 0.6f], 0), backgroundClass: 0, iouThreshold: 0f);
        }
        Tensor Gradient(CapturedForward forward) => autograd.grad([target.Score(forward.Output).sum()], [forward.Activation])[0];
        Tensor head, whole;
        using (enable_grad())
        {
            head = Gradient(model.ForwardWithActivation(x, "features"));
            whole = Gradient(model.ForwardThroughWholeGraph(x, "features"));
        }
        double scale = whole.abs().max().item<float>(), diff = (head - whole).abs().max().item<float>();
        Assert.Multiple(() =>
        {
            Assert.That(scale, Is.GreaterThan(0), "the target depends on the layer");
            Assert.That(head.shape, Is.EqualTo(whole.shape));
            Assert.That(diff, Is.LessThanOrEqualTo(1e-5 * Math.Max(1, scale)), $"max |head - whole| against scale {scale:G3}");
        });
        (target as IDisposable)?.Dispose();
    }

    /// <summary>Three objects of one image explained from one forward (<see cref="CamEngine.ExplainEach"/>:
    /// one backward each through the kept graph) get the maps they get when each is explained alone, also with a
    /// different method per object: no object's gradient leaks into another's.</summary>
    [Test]
    public void Objects_explained_from_one_forward_get_the_maps_they_get_alone()
    {
        using var model = OnnxTaskModel.Load(SharedData.Path_("models", "traffic_ssd.onnx"), Card("detection", "logits"));
        using var scope = NewDisposeScope();
        using var image = SaCam.Imaging.ImageFile.ReadBgr(SharedData.Path_("media", "seg-det", "traffic_0001.png"));
        var (x, _) = SaCam.Imaging.ImagePreprocessor.ToTensor(image, model.Preprocess);
        List<Detection> found;
        using (no_grad()) found = model.Decoder!.Detect(model.Predict(x)[0], null).Take(3).ToList();
        Assert.That(found, Has.Count.EqualTo(3), "the SSD finds three cars on traffic_0001 (README-seg-det.md)");
        var targets = found.Select(d => new DetectionTarget(d, backgroundClass: 0)).ToArray();
        ICamMethod[] methods = [new XGradCam(), new LayerCam(), new XGradCam()];
        var engine = new CamEngine(model);
        var together = engine.ExplainEach(x, targets.Select((t, k) => new CamJob(methods[k], t)).ToList());
        try
        {
            Assert.That(together, Has.Count.EqualTo(3));
            for (int k = 0; k < 3; k++)
            {
                using var alone = engine.Explain(x, methods[k], targets[k]);
                double diff = (together[k].LowResMap - alone.LowResMap).abs().max().item<float>();
                double scale = alone.LowResMap.abs().max().item<float>();
                Assert.That(scale, Is.GreaterThan(0), $"object {k} has a map");
                Assert.That(diff, Is.LessThanOrEqualTo(1e-5 * Math.Max(1, scale)), $"object {k}: max |together - alone| against scale {scale:G3}");
                Assert.That(together[k].Target, Is.SameAs(targets[k]), "results come in the jobs' order");
            }
            double between = (together[0].LowResMap - together[2].LowResMap).abs().max().item<float>();
            Assert.That(between, Is.GreaterThan(1e-3), "two objects with the same method get different maps");
        }
        finally
        {
            foreach (var r in together) r.Dispose();
        }
    }
}
