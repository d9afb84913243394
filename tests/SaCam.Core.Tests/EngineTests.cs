using SaCam.Core.Engines;
using SaCam.Core.Methods;
using SaCam.Core.Models;
using SaCam.Core.Onnx;
using SaCam.Core.Targets;
using static TorchSharp.torch;

namespace SaCam.Tests;

/// <summary>
/// The fast engine (ONNX Runtime) against TorchSharp: the same logits and activations, gradients through the head
/// alone equal to the whole model's, batches through models exported with a fixed batch of 1, and clear errors
/// where the engine cannot run.
/// </summary>
[TestFixture]
public class EngineTests
{
    private static OnnxCnnModel? _torchOnly;
    private static OnnxCnnModel TorchOnly => _torchOnly ??= OnnxCnnModel.Load(SharedData.MobileNetV2, engine: new EngineOptions { Kind = EngineKind.TorchSharp });
    private static OnnxCnnModel Fast => SharedModels.MobileNetV2;

    [NeedsSharedData]
    [Test]
    public void MobileNetV2_runs_on_onnx_runtime_by_default()
    {
        Assert.That(Fast.Engine, Does.StartWith("onnxruntime (cpu, "));
        Assert.That(TorchOnly.Engine, Is.EqualTo("torchsharp"));
    }

    /// <summary>Within 1e-4 of the values' own scale (max(1, largest magnitude)): logits reach ~15, and two fp32
    /// engines that sum convolutions in other orders differ by ~1e-5 of that (one case here: 1.1e-4 absolute).</summary>
    [NeedsSharedData]
    [TestCaseSource(typeof(ReferenceCase), nameof(ReferenceCase.All))]
    public void Logits_and_activations_agree_within_1e_4(ReferenceCase c)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = c.Load("input");
        var fast = Fast.ForwardWithActivation(x, "features");
        var torch = TorchOnly.ForwardWithActivation(x, "features");
        Assert.Multiple(() =>
        {
            Assert.That(ScaledDiff(Fast.Predict(x), TorchOnly.Predict(x)), Is.LessThanOrEqualTo(1e-4), "logits (Predict)");
            Assert.That(ScaledDiff(fast.Output, torch.Output), Is.LessThanOrEqualTo(1e-4), "logits (trunk and head)");
            Assert.That(ScaledDiff(fast.Activation, torch.Activation), Is.LessThanOrEqualTo(1e-4), "features");
        });
    }

    /// <summary>dScore/dA through the head alone (trunk on ONNX Runtime) equals the whole model's gradient.</summary>
    [NeedsSharedData]
    [TestCaseSource(typeof(ReferenceCase), nameof(ReferenceCase.All))]
    public void Head_only_gradients_equal_the_whole_models_within_1e_5(ReferenceCase c)
    {
        using var scope = NewDisposeScope();
        var x = c.Load("input");
        Assert.That(Compare.MaxAbsDiff(Gradient(Fast, x, c.ClassIndex, "features"), Gradient(TorchOnly, x, c.ClassIndex, "features")), Is.LessThanOrEqualTo(1e-5));
    }

    /// <summary>A split that a skip connection crosses: the head reads the layer and the skip's value from the trunk,
    /// and output and gradient still equal a whole run's.</summary>
    [Test]
    public void A_split_crossed_by_a_skip_connection_is_exact()
    {
        var path = ResidualModel();
        using var fast = OnnxCnnModel.Load(path);
        using var torch = OnnxCnnModel.Load(path, engine: new EngineOptions { Kind = EngineKind.TorchSharp });
        Assert.That(fast.Engine, Does.StartWith("onnxruntime"));
        var plan = fast.Graph.PlanHead("b")!;
        Assert.That(plan.Boundary, Is.EquivalentTo(new[] { "b", "a" }), "the head reads the layer and the skip");
        using var scope = NewDisposeScope();
        var x = randn([1, 3, 16, 16], generator: new Generator(1));
        Assert.Multiple(() =>
        {
            using var noGrad = no_grad();
            Assert.That(Compare.MaxAbsDiff(fast.ForwardWithActivation(x, "b").Output, torch.ForwardWithActivation(x, "b").Output), Is.LessThanOrEqualTo(1e-5));
        });
        Assert.That(Compare.MaxAbsDiff(Gradient(fast, x, 1, "b"), Gradient(torch, x, 1, "b")), Is.LessThanOrEqualTo(1e-5));
    }

    /// <summary>The embedded ResNet18 was exported with a batch of 1, which ONNX Runtime enforces: the engine makes
    /// the batch symbolic, so perturbation batches run whole and give each image's own output.</summary>
    [Test]
    public void A_model_exported_for_batch_one_runs_batches()
    {
        using var model = ModelCatalog.Load(ModelCatalog.DefaultModelId);
        Assert.That(((OnnxCnnModel)model).Engine, Does.StartWith("onnxruntime"));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var batch = randn([3, 3, 224, 224], generator: new Generator(2));
        var together = model.Predict(batch);
        var apart = cat(Enumerable.Range(0, 3).Select(i => model.Predict(batch[i..(i + 1)])).ToArray());
        Assert.That(together.shape, Is.EqualTo(new long[] { 3, 512 }));
        Assert.That(Compare.MaxAbsDiff(together, apart), Is.LessThanOrEqualTo(1e-4));
    }

    /// <summary>A sanity check randomizes TorchSharp's parameters: while it does, every pass runs on TorchSharp,
    /// not on ONNX Runtime's own copy of the original weights.</summary>
    [Test]
    public void Parameter_edits_route_every_pass_to_the_edited_weights()
    {
        using var model = OnnxCnnModel.Load(TinyCnn.Save());
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = randn([1, 3, 32, 32], generator: new Generator(3));
        var before = model.Predict(x);
        using (model.BeginParameterEdit())
        {
            foreach (var layer in model.ParameterizedLayers()) foreach (var p in layer.Parameters) p.mul_(2);
            Assert.That(Compare.MaxAbsDiff(model.Predict(x), before), Is.GreaterThan(1e-3), "the edit is seen");
            foreach (var layer in model.ParameterizedLayers()) foreach (var p in layer.Parameters) p.div_(2);
        }
        Assert.That(Compare.MaxAbsDiff(model.Predict(x), before), Is.LessThanOrEqualTo(1e-5), "back on the fast engine, unchanged");
    }

    [Test]
    public void Cuda_on_the_cpu_build_of_onnx_runtime_names_the_build_switch()
    {
        var message = OnnxFileReader.ReadMessage(TinyCnn.Save());
        var e = Assert.Throws<EngineUnavailableException>(() =>
            new OnnxRuntimeEngine(message, "x", "logits", new Dictionary<string, ScalarType>(), new Device(TorchSharp.DeviceType.CUDA, 0), 1).Dispose());
        Assert.That(e!.Message, Does.Contain("CUDA provider").And.Contain("SaCamTorchBackend=cuda").And.Contain("the engine torchsharp"), "the core names the setting, not a flag");
        Assert.That(((Core.ISettingMessage)e).Text.Render(s => s == Core.Setting.Engine ? "--engine" : "?"), Does.Contain("--engine torchsharp"), "a front-end renders its own name");
    }

    [Test]
    public void Engine_options_parse_and_refuse_by_name()
    {
        Assert.Multiple(() =>
        {
            Assert.That(EngineOptions.Parse("onnxruntime"), Is.EqualTo(EngineKind.OnnxRuntime));
            Assert.That(EngineOptions.Parse("TorchSharp"), Is.EqualTo(EngineKind.TorchSharp));
            Assert.That(Assert.Throws<ArgumentException>(() => EngineOptions.Parse("tensorrt"))!.Message, Does.Contain("'tensorrt'"));
            Assert.That(Assert.Throws<Core.SettingException>(() => ModelCatalog.Load("torchvision:resnet18:/nowhere.pth",
                engine: new EngineOptions { Kind = EngineKind.OnnxRuntime }))!.Message, Does.Contain("torchvision model"));
            Assert.That(EngineOptions.DefaultThreads, Is.InRange(1, 8));
        });
    }

    /// <summary>max |a - b| / max(1, max |b|).</summary>
    private static double ScaledDiff(Tensor a, Tensor b) => Compare.MaxAbsDiff(a, b) / Math.Max(1, b.abs().max().item<float>());

    private static Tensor Gradient(IExplainableModel model, Tensor x, int classIndex, string layer)
    {
        using var grad = enable_grad();
        var run = model.ForwardWithActivation(x, layer);
        var score = run.Output[.., classIndex].sum();
        return autograd.grad([score], [run.Activation])[0];
    }

    /// <summary>x -> Conv -> a -> Relu -> Conv -> b; c = a + b (a skip); GlobalAveragePool -> Flatten -> Gemm.</summary>
    private static string ResidualModel()
    {
        var random = new Random(9);
        float[] W(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        return new OnnxBuilder().Input("x", 1, 3, 16, 16).Output("y", 2)
            .Initializer("w1", [4, 3, 3, 3], W(108)).Initializer("w2", [4, 4, 3, 3], W(144)).Initializer("fc", [2, 4], W(8))
            .Node("Conv", ["x", "w1"], ["a"], "conv1", ("kernel_shape", new long[] { 3, 3 }), ("pads", new long[] { 1, 1, 1, 1 }))
            .Node("Relu", ["a"], ["ra"], "relu")
            .Node("Conv", ["ra", "w2"], ["b"], "conv2", ("kernel_shape", new long[] { 3, 3 }), ("pads", new long[] { 1, 1, 1, 1 }))
            .Node("Add", ["a", "b"], ["c"], "skip")
            .Node("GlobalAveragePool", ["c"], ["p"], "pool")
            .Node("Flatten", ["p"], ["f"], "flatten")
            .Node("Gemm", ["f", "fc"], ["y"], "fc", ("transB", 1L))
            .Save("residual.onnx");
    }
}
