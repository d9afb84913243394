using System.Diagnostics;
using System.Globalization;
using System.Text;
using SaCam.Core.Engines;
using SaCam.Core.Methods;
using SaCam.Core.Models;
using SaCam.Core.Targets;
using SaCam.Core.Tensors;
using static TorchSharp.torch;

namespace SaCam.Benchmarks;

/// <summary>
/// Issue 11: ONNX Runtime against TorchSharp, side by side in one process (interleaved rounds), on MobileNetV2:
/// - a forward per image at batch 1 and 16, with 1 and 2 ONNX Runtime threads, on a quiet machine and beside a
///   second process that keeps one core busy;
/// - full SA-CAM per image on each engine (and at batch 16 and 32 on ONNX Runtime);
/// - the memory the model takes on each engine (resident set after loading).
/// </summary>
public sealed class EngineBenchmark(string sharedRoot, int rounds, Device? device = null)
{
    private string ModelPath => Path.Combine(sharedRoot, "models", "mobilenet_v2_1.0_224.onnx");

    public string Run()
    {
        var report = new StringBuilder();
        using var x = NpyFile.Read(Path.Combine(sharedRoot, "fixtures", "reference", "both_c283", "input.npy"));
        report.AppendLine(Memory()); // first: the other sections' allocations would blur a resident-set difference
        report.AppendLine(Forwards(loaded: false));
        report.AppendLine(Forwards(loaded: true));
        report.AppendLine(FullSaCam(x));
        return report.ToString();
    }

    private string Forwards(bool loaded)
    {
        using var busy = loaded ? BusyProcess.Start() : null;
        var engines = new (string Name, OnnxCnnModel Model)[]
        {
            ("torchsharp", OnnxCnnModel.Load(ModelPath, engine: new EngineOptions { Kind = EngineKind.TorchSharp })),
            ("onnxruntime, 1 thread", OnnxCnnModel.Load(ModelPath, engine: new EngineOptions { Threads = 1 })),
            ("onnxruntime, 2 threads", OnnxCnnModel.Load(ModelPath, engine: new EngineOptions { Threads = 2 })),
        };
        var text = new StringBuilder();
        text.AppendLine($"### A forward per image, MobileNetV2, {(loaded ? "beside a second process busy on one core" : "quiet machine")}");
        text.AppendLine();
        text.AppendLine("| engine | batch 1, ms per image | batch 16, ms per image | ratio to TorchSharp at batch 1 | at batch 16 |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: |");
        var contenders = new List<(string, Action)>();
        foreach (var (name, model) in engines)
            foreach (int batch in new[] { 1, 16 })
            {
                var input = randn(batch, 3, 224, 224, generator: new Generator((ulong)batch));
                contenders.Add(($"{name}|{batch}", () =>
                {
                    using var scope = NewDisposeScope();
                    using var noGrad = no_grad();
                    model.Predict(input).argmax(1).cpu();
                }));
            }
        var t = Measure.Interleaved(warmup: 2, rounds: rounds * 5, contenders);
        foreach (var (name, _) in engines)
        {
            double b1 = Measure.Median(t[$"{name}|1"]) * 1000, b16 = Measure.Median(t[$"{name}|16"]) * 1000 / 16;
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {b1:F1} | {b16:F1} | {Measure.MedianRatio(t[$"{name}|1"], t["torchsharp|1"]):F2}x | {Measure.MedianRatio(t[$"{name}|16"], t["torchsharp|16"]):F2}x |"));
        }
        foreach (var (_, model) in engines) model.Dispose();
        return text.ToString();
    }

    private string FullSaCam(Tensor x)
    {
        var target = new ClassTarget(283);
        using var torch = OnnxCnnModel.Load(ModelPath, engine: new EngineOptions { Kind = EngineKind.TorchSharp });
        using var fast = OnnxCnnModel.Load(ModelPath, engine: new EngineOptions { Threads = Environment.ProcessorCount });
        var contenders = new List<(string, Action)>
        {
            ("torchsharp, batch 16", () => { using var r = new CamEngine(torch, 16).Explain(x, new SaCam.Core.Methods.SaCam(), target); }),
            ("onnxruntime, batch 16", () => { using var r = new CamEngine(fast, 16).Explain(x, new SaCam.Core.Methods.SaCam(), target); }),
            ("onnxruntime, batch 32", () => { using var r = new CamEngine(fast, 32).Explain(x, new SaCam.Core.Methods.SaCam(), target); }),
        };
        var t = Measure.Interleaved(warmup: 0, rounds: Math.Max(2, rounds), contenders);
        long images = PerturbedImages(fast, x, target);
        var text = new StringBuilder();
        text.AppendLine($"### Full SA-CAM on both.png (class 283, {images:N0} perturbed images), MobileNetV2, {Environment.ProcessorCount} ONNX Runtime threads");
        text.AppendLine();
        text.AppendLine("| engine | median s | ratio to TorchSharp |");
        text.AppendLine("| --- | ---: | ---: |");
        foreach (var (name, _) in contenders)
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {Measure.Median(t[name]):F2} | {Measure.MedianRatio(t[name], t["torchsharp, batch 16"]):F2}x |"));
        return text.ToString();
    }

    /// <summary>How many perturbed images full SA-CAM runs on this input.</summary>
    private static long PerturbedImages(OnnxCnnModel model, Tensor x, ClassTarget target)
    {
        var engine = new CamEngine(model, 32);
        long images = 0;
        engine.PerturbationBatchRun += n => images += n;
        using var r = engine.Explain(x, new SaCam.Core.Methods.SaCam(), target);
        return images;
    }

    /// <summary>Full SA-CAM per image on the benchmark's device (the GPU run), on both.png.</summary>
    public string FullSaCamOnDevice()
    {
        using var x = NpyFile.Read(Path.Combine(sharedRoot, "fixtures", "reference", "both_c283", "input.npy"));
        using var model = OnnxCnnModel.Load(ModelPath, device);
        var engine = new CamEngine(model, 32);
        var t = Measure.Interleaved(warmup: 1, rounds: 3, [("sacam", () => { using var r = engine.Explain(x, new SaCam.Core.Methods.SaCam(), new ClassTarget(283)); })]);
        return string.Create(CultureInfo.InvariantCulture,
            $"### Full SA-CAM per image on {device}\n\nboth.png, class 283, {model.Engine}: median {Measure.Median(t["sacam"]):F2} s over 3 runs.\n\n");
    }

    /// <summary>Resident memory added by loading the model on each engine (the ONNX Runtime model also holds the
    /// TorchSharp module, for gradients through the head).</summary>
    private string Memory()
    {
        static long Rss()
        {
            using var self = Process.GetCurrentProcess();
            return self.WorkingSet64;
        }
        static void Warm(IExplainableModel model)
        {
            using var scope = NewDisposeScope();
            using var x = randn(1, 3, 224, 224);
            using (no_grad()) model.Predict(x);
            using (enable_grad()) model.ForwardWithActivation(x, model.DefaultLayer);
        }
        GC.Collect();
        long before = Rss();
        var torch = OnnxCnnModel.Load(ModelPath, engine: new EngineOptions { Kind = EngineKind.TorchSharp });
        Warm(torch);
        long afterTorch = Rss();
        var fast = OnnxCnnModel.Load(ModelPath);
        Warm(fast);
        long afterFast = Rss();
        torch.Dispose();
        fast.Dispose();
        return string.Create(CultureInfo.InvariantCulture,
            $"### Memory\n\nLoading MobileNetV2 (14 MB of weights): TorchSharp alone +{(afterTorch - before) / 1e6:F0} MB resident; ONNX Runtime beside TorchSharp +{(afterFast - afterTorch) / 1e6:F0} MB (both engines hold the weights; ONNX Runtime's full and trunk sessions each keep their own copy).\n");
    }
}

/// <summary>A second process that keeps one core busy (the "loaded machine" of the measurements).</summary>
internal sealed class BusyProcess : IDisposable
{
    private readonly Process _process;

    private BusyProcess(Process process) => _process = process;

    public static BusyProcess Start()
    {
        var start = new ProcessStartInfo("sh", ["-c", "while :; do :; done"]) { UseShellExecute = false };
        return new BusyProcess(Process.Start(start)!);
    }

    public void Dispose()
    {
        _process.Kill();
        _process.WaitForExit();
        _process.Dispose();
    }
}
