using System.Globalization;
using System.Text;
using SaCam.Core.Methods;
using SaCam.Core.Models;
using SaCam.Core.Targets;
using SaCam.Core.Tensors;
using static TorchSharp.torch;

namespace SaCam.Benchmarks;

/// <summary>
/// The explainer's own overhead (issues 2 and 11).
/// - Grad-CAM family vs one plain forward of the same model and input (goal: at most 1.3x), as a video frame runs
///   it (the Streaming profile: suite gradient-family).
/// - Score-CAM and full SA-CAM vs the same number of batched forward passes alone (goal: at most 1.1x), as
///   `sacam explain` runs them (the Batched profile: suite explainer).
/// </summary>
public sealed class ExplainerBenchmark(string sharedRoot, int rounds)
{
    public string Run(bool gradientFamily)
    {
        var model = OnnxCnnModel.Load(Path.Combine(sharedRoot, "models", "mobilenet_v2_1.0_224.onnx"));
        var caseDir = Path.Combine(sharedRoot, "fixtures", "reference", "both_c244");
        using var x = NpyFile.Read(Path.Combine(caseDir, "input.npy"));
        var target = new ClassTarget(244);
        // As `sacam explain` runs them: the batch the engine prefers for this model.
        var engine = new CamEngine(model, CamEngine.PreferredBatchSize(model));
        var report = new StringBuilder();

        void Forward()
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            model.Predict(x).argmax(1).item<long>(); // a plain forward ends with a class: one host sync, as the explainer's
        }
        Action Explain(ICamMethod m) => () => { using var r = engine.Explain(x, m, target); r.Map.max().item<float>(); };

        if (!gradientFamily)
        {
            PerturbationMethods(model, x, target, engine, Explain, report);
            model.Dispose();
            return report.ToString();
        }
        var gradient = new[] { new GradCam(), new GradCamPlusPlus(), (ICamMethod)new XGradCam(), new LayerCam() };
        var contenders = new List<(string, Action)> { ("forward", Forward) };
        contenders.AddRange(gradient.Select(m => (m.Id, Explain(m))));
        var times = Measure.Interleaved(warmup: 3, rounds: rounds * 10, contenders);
        report.AppendLine("### Grad-CAM family vs one plain forward (MobileNetV2, 1x3x224x224, CPU)");
        report.AppendLine();
        report.AppendLine("| method | median ms | p10-p90 ms | ratio to forward (median of per-round ratios) | goal |");
        report.AppendLine("| --- | ---: | ---: | ---: | --- |");
        report.AppendLine(Row("forward", times["forward"], null, ""));
        foreach (var m in gradient) report.AppendLine(Row(m.Id, times[m.Id], Measure.MedianRatio(times[m.Id], times["forward"]), "<= 1.3x"));
        report.AppendLine();
        report.AppendLine($"Engine: {model.Engine}; libtorch threads {get_num_threads()}.");
        model.Dispose();
        return report.ToString();
    }

    private void PerturbationMethods(OnnxCnnModel model, Tensor x, ClassTarget target, CamEngine engine, Func<ICamMethod, Action> Explain, System.Text.StringBuilder report)
    {

        report.AppendLine($"### Perturbation methods vs the same number of batched forwards (batch {engine.PerturbationBatchSize}), {model.Engine}");
        report.AppendLine();
        report.AppendLine("| method | images run | median s | forwards alone, median s | ratio | s per explained image | goal |");
        report.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | --- |");
        foreach (var method in new ICamMethod[] { new ScoreCam(), new SaCam.Core.Methods.SaCam(), new GroupCam() })
        {
            long images = CountImages(model, x, method, target);
            void Alone() => BatchedForwards(model, images, engine.PerturbationBatchSize);
            var t = Measure.Interleaved(warmup: 0, rounds: Math.Max(2, rounds), [(method.Id, Explain(method)), ("alone", Alone)]);
            double ratio = Measure.MedianRatio(t[method.Id], t["alone"]);
            report.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {method.Id} | {images} | {Measure.Median(t[method.Id]):F2} | {Measure.Median(t["alone"]):F2} | {ratio:F2}x | {Measure.Median(t[method.Id]):F1} | {(method is GroupCam ? "(no goal)" : "<= 1.1x")} |"));
        }
    }

    /// <summary>Full SA-CAM at several perturbation batch sizes, interleaved: which batch the engine should use.</summary>
    public string SaCamBatches(int[] batches)
    {
        using var model = OnnxCnnModel.Load(Path.Combine(sharedRoot, "models", "mobilenet_v2_1.0_224.onnx"));
        using var x = NpyFile.Read(Path.Combine(sharedRoot, "fixtures", "reference", "both_c244", "input.npy"));
        var target = new ClassTarget(244);
        var contenders = batches.Select(b =>
        {
            var engine = new CamEngine(model, b);
            return ($"batch {b}", (Action)(() => { using var r = engine.Explain(x, new SaCam.Core.Methods.SaCam(), target); r.Map.max().item<float>(); }));
        }).ToList();
        var t = Measure.Interleaved(warmup: 0, rounds: Math.Max(2, rounds), contenders);
        var report = new System.Text.StringBuilder();
        report.AppendLine($"### Full SA-CAM (both.png, class 244) by perturbation batch size, {model.Engine}, {Math.Max(2, rounds)} interleaved rounds\n");
        report.AppendLine("| batch | median s | ratio to batch " + batches[0] + " |");
        report.AppendLine("| ---: | ---: | ---: |");
        foreach (var (name, _) in contenders)
            report.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {name[6..]} | {Measure.Median(t[name]):F2} | {Measure.MedianRatio(t[name], t[contenders[0].Item1]):F2}x |"));
        return report.ToString();
    }

    /// <summary>How many perturbed images the method runs: one explanation, counted by the engine's own event.</summary>
    private static long CountImages(IExplainableModel model, Tensor x, ICamMethod method, IExplanationTarget target)
    {
        var engine = new CamEngine(model, CamEngine.PreferredBatchSize(model));
        long images = 0;
        engine.PerturbationBatchRun += n => images += n;
        using var result = engine.Explain(x, method, target);
        return images;
    }

    private static void BatchedForwards(IExplainableModel model, long images, int batchSize)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var batch = randn(batchSize, 3, 224, 224);
        var scores = new List<Tensor>();
        for (long done = 0; done < images; done += batchSize)
        {
            long n = Math.Min(batchSize, images - done);
            using var inner = NewDisposeScope();
            scores.Add(model.Predict(n == batchSize ? batch : batch[..(int)n]).softmax(1)[.., 1].MoveToOuterDisposeScope());
        }
        cat(scores).sum().item<float>();
    }

    private static string Row(string name, List<double> seconds, double? ratio, string goal)
    {
        var (lo, hi) = Measure.Spread(seconds);
        return string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {Measure.Median(seconds) * 1000:F1} | {lo * 1000:F1}-{hi * 1000:F1} | {(ratio is double r ? $"{r:F2}x" : "1.00x")} | {goal} |");
    }
}
