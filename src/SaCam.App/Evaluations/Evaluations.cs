using System.Globalization;
using System.Reactive.Linq;
using SaCam.App.Building;
using SaCam.App.Specs;
using SaCam.Core.IO;
using SaCam.Core.Methods;
using SaCam.Core.Models;
using SaCam.Core.Targets;
using SaCam.Evaluation;
using SaCam.Imaging;
using SaCam.Reports;
using SaCam.Video.Sources;
using static TorchSharp.torch;

namespace SaCam.App.Evaluations;

/// <summary>How an evaluation tells its front-end what it is working on: the item, a result line, and the perturbed
/// images of slow methods.</summary>
public interface IEvaluationProgress : IProgress<PerturbationProgress>
{
    /// <summary>Now working on <paramref name="item"/> (the next image and method).</summary>
    void Working(string item);
    /// <summary>A line that stays (a result).</summary>
    void Note(string line);
}

/// <summary>What every evaluation of one run shares: the spec, the model, the target (when one was given), the stop
/// token and the progress.</summary>
internal sealed record EvaluationRun(EvalSpec Args, IExplainableModel Model, IExplanationTarget? Target, CancellationToken Stop, IEvaluationProgress Progress)
{
    /// <summary>The catalog whose object target kinds the run's target may name.</summary>
    public Plugins.PluginCatalog? Plugins { get; init; }

    /// <summary>Says which image and method is being worked on (the perturbation methods then count their images).</summary>
    public void Working(int index, int count, string item, string method) => Progress.Working($"[{index}/{count}] {item} {method}");

    /// <summary>The run's bootstrap: its seed and resample count.</summary>
    public PairedBootstrap Bootstrap => new(Args.Seed, Args.Resamples);

    /// <summary>Each method's values (same image order) as a paired comparison section of the report.</summary>
    public void Compare(Report report, string metric, string title, bool higherIsBetter, IReadOnlyDictionary<string, List<double>> values, string unit = "images") =>
        PairedComparisons.Write(report, Bootstrap, metric, title, higherIsBetter, Args.Methods.Select(m => (m, (IReadOnlyList<double>)values[m])).ToList(), unit);
}

/// <summary>
/// `sacam eval`: deletion/insertion, sanity, pointing and temporal stability of several methods side by side, written
/// as a report folder (report.md, results.csv, plots). Returns the report's path; the front-end says where it is.
/// </summary>
public static class Evaluations
{
    public static string Run(EvalSpec spec, IRunFeedback feedback, IEvaluationProgress progress, CancellationToken stop = default)
    {
        var a = spec.Validated();
        var outputs = new RunOutputs().Input("--images folder", a.Images).Input("--video", a.Video).Input("model", a.Model.Id).Input("labels file", a.Model.Labels)
            .Input("exemplar image", new TargetSpec { Target = a.Target }.ExemplarFile).Folder("--out", a.Out);
        foreach (var folder in a.Backgrounds) outputs.Input("--backgrounds folder", folder);
        var catalog = PluginCatalogs.Load(null);
        bool objects = ObjectTargets.Names(a.Target, catalog);
        a.CheckObjectTarget(objects);
        using var claims = outputs.Claim();
        using var model = ModelLoader.Load(a.Model, feedback);
        if (objects)
        {
            ObjectTargets.Validate(a.Target!, model, catalog);
            var objectReport = new Report(a.Out, $"sacam eval {a.KindName}: {model.Name}, {a.Target}");
            objectReport.Paragraph($"Model `{a.Model.Id}`, target `{a.Target}`, methods {string.Join(", ", a.Methods)}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC.");
            var objectRun = new EvaluationRun(a, model, null, stop, progress) { Plugins = catalog };
            if (a.Kind == EvalKind.Adversarial) ObjectAdversarialEvaluation.Report(objectRun, objectReport);
            else ObjectEvaluations.Report(objectRun, objectReport);
            objectReport.Save();
            return Path.Combine(a.Out, "report.md");
        }
        if (a.Kind == EvalKind.Pointing && model.OutputKind != OutputKind.Logits)
            throw new ArgumentException($"pointing explains the class of each box, and model '{model.Name}' has no classifier head: use a classifier " +
                                        "(e.g. --model torchvision:resnet18), or evaluate this backbone with deletion-insertion, sanity or temporal (with --target exemplar:IMAGE).");
        if (a.Kind == EvalKind.Adversarial && model.OutputKind != OutputKind.Logits)
            throw new ArgumentException($"adversarial pastes each image's class into other scenes, and model '{model.Name}' has no classifier head: use a classifier " +
                                        "(e.g. --model torchvision:resnet18).");
        var target = a.Target is not null ? catalog.CreateTarget(a.Target, model) : null;
        using var disposeTarget = target as IDisposable;
        var run = new EvaluationRun(a, model, target, stop, progress);
        var report = new Report(a.Out, $"sacam eval {a.KindName}: {model.Name}");
        report.Paragraph($"Model `{a.Model.Id}`, methods {string.Join(", ", a.Methods)}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC.");
        switch (a.Kind)
        {
            case EvalKind.DeletionInsertion: DeletionInsertionReport(run, report); break;
            case EvalKind.Sanity: SanityReport(run, report); break;
            case EvalKind.Pointing: PointingReport(run, report); break;
            case EvalKind.Road: RoadReport(run, report); break;
            case EvalKind.Adversarial: AdversarialEvaluation.Report(run, report); break;
            default: TemporalReport(run, report); break;
        }
        report.Save();
        return Path.Combine(a.Out, "report.md");
    }

    internal static IReadOnlyList<string> ImageFiles(string spec) => new ImageFolderSource(spec).Files;

    /// <summary>An image's input and what to explain on it: the run's --target, else the image's top-1 class, else
    /// (a backbone) the projection on its own embedding. The target lives in the caller's dispose scope.</summary>
    internal static (Tensor Input, IExplanationTarget Target) Prepare(EvaluationRun run, string path)
    {
        var model = run.Model;
        using var image = ImageFile.ReadBgr(path);
        var (x, _) = ImagePreprocessor.ToTensor(image, model.Preprocess, model.Device);
        if (run.Target is not null) return (x, run.Target);
        using var noGrad = no_grad();
        var output = model.Predict(x);
        if (model.OutputKind != OutputKind.Logits)
            return (x, new EmbeddingSimilarityTarget(output[0], SimilarityMeasure.Projection, "projection on the image's own embedding"));
        int top = (int)output[0].argmax().item<long>();
        return (x, new ClassTarget(top, model.Labels?[top]));
    }

    internal static string F(double v) => v.ToString("F4", CultureInfo.InvariantCulture);

    /// <summary>Explains every image with every method of the run, in order (each image's own target unless the run
    /// fixes one), and hands each map to <paramref name="measure"/> (image name, method id, input, target, result);
    /// <paramref name="imageDone"/> runs after an image's last method, inside its dispose scope.</summary>
    private static void ExplainWithEachMethod(EvaluationRun run, IReadOnlyList<string> files,
        Action<string, string, Tensor, IExplanationTarget, CamResult> measure, Action<int, string>? imageDone = null)
    {
        var engine = new CamEngine(run.Model, CamEngine.PreferredBatchSize(run.Model));
        for (int n = 0; n < files.Count; n++)
        {
            using var scope = NewDisposeScope();
            var (x, t) = Prepare(run, files[n]);
            using var ownTarget = t != run.Target ? t as IDisposable : null;
            var name = Path.GetFileName(files[n]);
            foreach (var id in run.Args.Methods)
            {
                run.Working(n + 1, files.Count, name, id);
                using var method = EvalMethods.Create(id);
                using var result = engine.Explain(x, method.Method, t, cancellation: run.Stop, progress: run.Progress);
                measure(name, id, x, t, result);
            }
            imageDone?.Invoke(n, files[n]);
        }
    }

    private static void DeletionInsertionReport(EvaluationRun run, Report report)
    {
        var (a, model) = (run.Args, run.Model);
        var files = ImageFiles(a.Images!);
        var metric = new DeletionInsertion(model, a.StepPixels);
        var perMethod = a.Methods.ToDictionary(m => m, _ => new List<DeletionInsertionResult>());
        var rows = new List<string[]>();
        ExplainWithEachMethod(run, files, (name, id, x, t, result) =>
        {
            // The target's confidence: the class's softmax probability, or for a similarity target (1 + cos) / 2.
            var r = metric.Evaluate(x, result.Map, t.Confidence, run.Stop);
            perMethod[id].Add(r);
            report.Value("deletion", id, name, "auc", r.DeletionAuc);
            report.Value("insertion", id, name, "auc", r.InsertionAuc);
            report.Value("overall", id, name, "insertion-deletion", r.Overall);
            rows.Add([name, id, t.Description, F(r.DeletionAuc), F(r.InsertionAuc), F(r.Overall)]);
            run.Progress.Note($"  {name} {id}: deletion {F(r.DeletionAuc)} insertion {F(r.InsertionAuc)}");
        }, (index, file) =>
        {
            if (index >= 12) return;
            int n = index + 1;
            var plotted = perMethod.Select(kv => (kv.Key, kv.Value[^1])).ToList();
            double[] xs = Enumerable.Range(0, plotted[0].Item2.Deletion.Length).Select(i => i / (double)(plotted[0].Item2.Deletion.Length - 1)).ToArray();
            report.LinePlot($"deletion_{n:D2}", $"Deletion: {Path.GetFileName(file)}", "fraction of pixels removed", "p(class)",
                plotted.Select(p => ($"{p.Key} (AUC {p.Item2.DeletionAuc:F3})", xs, p.Item2.Deletion)));
            report.LinePlot($"insertion_{n:D2}", $"Insertion: {Path.GetFileName(file)}", "fraction of pixels restored", "p(class)",
                plotted.Select(p => ($"{p.Key} (AUC {p.Item2.InsertionAuc:F3})", xs, p.Item2.Insertion)));
        });
        report.Paragraph($"RISE protocol: {a.StepPixels} pixels per step, deletion to 0 in normalized space, insertion from a Gaussian blur (kernel 11, sigma 5); score = the target's confidence (softmax probability of the image's top-1 class; (1 + cosine) / 2 for a similarity target); AUC by the trapezoid rule on [0, 1]. {files.Count} images.");
        report.Table(["method", "deletion AUC (lower is better)", "insertion AUC (higher)", "overall = insertion - deletion"],
            a.Methods.Select(m => new[] { m, F(perMethod[m].Average(r => r.DeletionAuc)), F(perMethod[m].Average(r => r.InsertionAuc)), F(perMethod[m].Average(r => r.Overall)) }));
        run.Compare(report, "overall", "Overall (insertion - deletion)", true, perMethod.ToDictionary(kv => kv.Key, kv => kv.Value.Select(r => r.Overall).ToList()));
        run.Compare(report, "deletion", "Deletion AUC", false, perMethod.ToDictionary(kv => kv.Key, kv => kv.Value.Select(r => r.DeletionAuc).ToList()));
        run.Compare(report, "insertion", "Insertion AUC", true, perMethod.ToDictionary(kv => kv.Key, kv => kv.Value.Select(r => r.InsertionAuc).ToList()));
        report.Paragraph("Per image:");
        report.Table(["image", "method", "target", "deletion", "insertion", "overall"], rows);
    }

    private static void RoadReport(EvaluationRun run, Report report)
    {
        var (a, model) = (run.Args, run.Model);
        var files = ImageFiles(a.Images!);
        var road = new Road(model);
        var perMethod = a.Methods.ToDictionary(m => m, _ => new List<RoadResult>());
        var rows = new List<string[]>();
        ExplainWithEachMethod(run, files, (name, id, x, t, result) =>
        {
            // Every method of an image gets the same noise (the seed), so the methods differ only by their maps.
            var r = road.Evaluate(x, result.Map, t.Confidence, a.Seed, run.Stop);
            perMethod[id].Add(r);
            report.Value("road-morf", id, name, "mean-change", r.MorfMean);
            report.Value("road-lerf", id, name, "mean-change", r.LerfMean);
            report.Value("road-combined", id, name, "(lerf-morf)/2", r.Combined);
            for (int i = 0; i < r.Fractions.Length; i++)
            {
                string f = r.Fractions[i].ToString("0.0", CultureInfo.InvariantCulture);
                report.Value("road-morf", id, name, f, r.Morf[i]);
                report.Value("road-lerf", id, name, f, r.Lerf[i]);
            }
            rows.Add([name, id, t.Description, F(r.Original), F(r.MorfMean), F(r.LerfMean), F(r.Combined) + (r.FlatMap ? " (flat map: ranks nothing)" : "")]);
            run.Progress.Note($"  {name} {id}: MoRF {F(r.MorfMean)} LeRF {F(r.LerfMean)} combined {F(r.Combined)}{(r.FlatMap ? " (flat map)" : "")}");
        });
        report.Paragraph($"ROAD (Rong et al., ICML 2022): the map's most relevant (MoRF) or least relevant (LeRF) {string.Join(", ", road.Fractions.Select(f => $"{f * 100:0}%"))} of the pixels " +
                         $"removed and filled in by noisy linear imputation (each removed pixel the weighted mean of its 8 neighbours, 1/6 beside and 1/12 diagonal, solved as one sparse system; " +
                         $"Gaussian noise of std {road.Imputation.Noise} in the model's input space, seed {a.Seed}); score = the target's confidence (softmax probability of the image's top-1 class). " +
                         $"MoRF and LeRF: mean change of the score from the original over the fractions; combined = (LeRF - MoRF) / 2, pytorch-grad-cam's ROADCombined. {files.Count} images.");
        report.Table(["method", "MoRF (lower is better)", "LeRF (higher)", "combined = (LeRF - MoRF) / 2 (higher)", "flat maps"],
            a.Methods.Select(m => new[] { m, F(perMethod[m].Average(r => r.MorfMean)), F(perMethod[m].Average(r => r.LerfMean)), F(perMethod[m].Average(r => r.Combined)),
                                          perMethod[m].Count(r => r.FlatMap).ToString(CultureInfo.InvariantCulture) }));
        var fractions = road.Fractions.Select(f => f * 100).ToArray();
        report.LinePlot("road_curves", "ROAD: mean score after removal", "% of pixels removed", "p(class)",
            a.Methods.SelectMany(m => new[]
            {
                ($"{m} MoRF", fractions, fractions.Select((_, i) => perMethod[m].Average(r => r.Morf[i])).ToArray()),
                ($"{m} LeRF", fractions, fractions.Select((_, i) => perMethod[m].Average(r => r.Lerf[i])).ToArray()),
            }));
        run.Compare(report, "road-combined", "ROAD combined", true, perMethod.ToDictionary(kv => kv.Key, kv => kv.Value.Select(r => r.Combined).ToList()));
        run.Compare(report, "road-morf", "ROAD MoRF", false, perMethod.ToDictionary(kv => kv.Key, kv => kv.Value.Select(r => r.MorfMean).ToList()));
        run.Compare(report, "road-lerf", "ROAD LeRF", true, perMethod.ToDictionary(kv => kv.Key, kv => kv.Value.Select(r => r.LerfMean).ToList()));
        report.Paragraph("Per image:");
        report.Table(["image", "method", "target", "original score", "MoRF", "LeRF", "combined"], rows);
    }

    private static void SanityReport(EvaluationRun run, Report report)
    {
        var (a, model) = (run.Args, run.Model);
        var check = new SanityCheck(model);
        var rows = new List<string[]>();
        var afterAll = a.Methods.ToDictionary(m => m, _ => new List<double>());
        int n = 0;
        var files = ImageFiles(a.Images!);
        foreach (var file in files)
        {
            using var scope = NewDisposeScope();
            var (x, t) = Prepare(run, file);
            using var ownTarget = t != run.Target ? t as IDisposable : null;
            var series = new List<(string, double[], double[])>();
            foreach (var id in a.Methods)
            {
                run.Working(n + 1, files.Count, Path.GetFileName(file), id);
                using var method = EvalMethods.Create(id);
                var points = check.Run(x, method.Method, t, a.SanitySteps, cancellation: run.Stop);
                foreach (var p in points)
                {
                    report.Value("sanity-spearman-abs", id, Path.GetFileName(file), p.LayersRandomized.ToString(CultureInfo.InvariantCulture), p.SpearmanAbs);
                    report.Value("sanity-spearman-signed", id, Path.GetFileName(file), p.LayersRandomized.ToString(CultureInfo.InvariantCulture), p.SpearmanSigned);
                    report.Value("sanity-ssim", id, Path.GetFileName(file), p.LayersRandomized.ToString(CultureInfo.InvariantCulture), p.Ssim);
                }
                var last = points[^1];
                afterAll[id].Add(Math.Abs(last.SpearmanAbs));
                rows.Add([Path.GetFileName(file), id, F(points[0].SpearmanAbs), F(last.SpearmanAbs), F(last.SpearmanSigned), F(last.Ssim)]);
                series.Add((id, points.Select(p => (double)p.LayersRandomized).ToArray(), points.Select(p => p.SpearmanAbs).ToArray()));
                run.Progress.Note($"  {Path.GetFileName(file)} {id}: spearman after all layers {F(last.SpearmanAbs)}");
            }
            if (n++ < 8)
                report.LinePlot($"sanity_{n:D2}", $"Cascading randomization: {Path.GetFileName(file)}", "layers randomized (from the top)", "Spearman(|map|, original)", series);
        }
        report.Paragraph("Cascading randomization (Adebayo et al. 2018): layers re-initialized from the output side down; similarity of the map to the original. A faithful method's maps should decorrelate (fall toward 0).");
        report.Table(["image", "method", "Spearman |map| after the first cascade step", "after all", "Spearman signed after all", "SSIM after all"], rows);
        run.Compare(report, "sanity", "|Spearman| of the map with the original after all layers are randomized", false, afterAll);
    }

    private static void PointingReport(EvaluationRun run, Report report)
    {
        var (a, model) = (run.Args, run.Model);
        var engine = new CamEngine(model, CamEngine.PreferredBatchSize(model));
        var rows = new List<string[]>();
        var energy = a.Methods.ToDictionary(m => m, _ => new List<double>());
        var hits = a.Methods.ToDictionary(m => m, _ => new List<double>());
        foreach (var file in ImageFiles(a.Images!))
        {
            var boxPath = Path.Combine(a.Boxes ?? Path.GetDirectoryName(file)!, Path.GetFileName(file) + ".boxes.json");
            if (!File.Exists(boxPath)) boxPath = Path.Combine(a.Boxes ?? Path.GetDirectoryName(file)!, Path.GetFileNameWithoutExtension(file) + ".boxes.json");
            if (!File.Exists(boxPath)) continue;
            var boxes = BoxAnnotations.Read(boxPath);
            using var scope = NewDisposeScope();
            using var image = ImageFile.ReadBgr(file);
            if (image.Width != boxes.Width || image.Height != boxes.Height)
                throw new ArgumentException($"{boxPath}: boxes are for {boxes.Width}x{boxes.Height}, the image is {image.Width}x{image.Height}.");
            var (x, geometry) = ImagePreprocessor.ToTensor(image, model.Preprocess with { Resize = Core.Preprocessing.ResizeMode.Stretch }, model.Device);
            foreach (var box in boxes.Objects)
            {
                int classIndex = box.ClassIndex ?? model.Labels?.IndexOf(box.Label ?? "") ?? throw new ArgumentException($"{boxPath}: object '{box.Label}' has no class index and no matching label.");
                foreach (var id in a.Methods)
                {
                    run.Working(rows.Count + 1, boxes.Objects.Count * a.Methods.Count, $"{Path.GetFileName(file)} {box.Label ?? classIndex.ToString(CultureInfo.InvariantCulture)}", id);
                    using var method = EvalMethods.Create(id);
                    using var result = engine.Explain(x, method.Method, new ClassTarget(classIndex), cancellation: run.Stop, progress: run.Progress);
                    // The map back in the image's pixel grid, where the boxes are.
                    var map = nn.functional.interpolate(result.Map.reshape(1, 1, result.Map.shape[0], result.Map.shape[1]), [boxes.Height, boxes.Width],
                        mode: InterpolationMode.Bilinear, align_corners: false)[0, 0];
                    double e = Pointing.EnergyInBox(map, box);
                    bool hit = Pointing.PeakInBox(map, box);
                    energy[id].Add(e);
                    hits[id].Add(hit ? 1 : 0);
                    report.Value("pointing-energy", id, Path.GetFileName(file), box.Label ?? classIndex.ToString(CultureInfo.InvariantCulture), e);
                    report.Value("pointing-hit", id, Path.GetFileName(file), box.Label ?? classIndex.ToString(CultureInfo.InvariantCulture), hit ? 1 : 0);
                    rows.Add([Path.GetFileName(file), box.Label ?? classIndex.ToString(CultureInfo.InvariantCulture), id, F(e), hit ? "hit" : "miss"]);
                }
            }
        }
        if (rows.Count == 0) throw new ArgumentException($"No IMAGE.boxes.json files found for the images in '{a.Images}'.");
        report.Paragraph("Energy-based pointing game (share of the map's energy inside the explained object's box) and the peak's hit rate.");
        report.Table(["method", "mean energy in box", "peak hit rate"], a.Methods.Select(m => new[] { m, F(energy[m].Average()), F(hits[m].Average()) }));
        report.Table(["image", "object", "method", "energy in box", "peak"], rows);
        run.Compare(report, "pointing-energy", "Energy in the box", true, energy, "objects");
    }

    private static void TemporalReport(EvaluationRun run, Report report)
    {
        var (a, model) = (run.Args, run.Model);
        var rows = new List<string[]>();
        var timelines = new List<(string, double[], double[])>();
        var perFrame = new Dictionary<string, List<double>>();
        double[]? inputTimeline = null;
        foreach (var id in a.Methods)
        {
            using var method = EvalMethods.Create(id);
            var engine = new CamEngine(model);
            using var stability = new TemporalStability();
            IExplanationTarget? fixedTarget = run.Target;
            foreach (var frame in VideoCaptureSource.File(a.Video!).Frames().Take(a.MaxFrames).ToEnumerable())
            {
                using (frame)
                using (var scope = NewDisposeScope())
                {
                    run.Working((int)frame.Index + 1, a.MaxFrames, Path.GetFileName(a.Video!), id);
                    var (x, _) = ImagePreprocessor.ToTensor(frame.Image, model.Preprocess, model.Device);
                    using var result = engine.Explain(x, method.Method, fixedTarget, cancellation: run.Stop, progress: run.Progress);
                    fixedTarget ??= result.Target as ClassTarget; // one class for the whole clip: the first frame's top-1
                    stability.Add(frame.Index, x, result.Map);
                }
            }
            var s = stability.Summarize();
            perFrame[id] = stability.Changes.Select(c => c.MapChange).ToList();
            foreach (var c in stability.Changes)
                report.Value("temporal-map-change", id, Path.GetFileName(a.Video!), c.Index.ToString(CultureInfo.InvariantCulture), c.MapChange);
            rows.Add([id, F(s.MeanMapChange), F(stability.Changes.Average(c => c.MapMeanAbsDiff)), F(s.MeanInputChange), F(s.Ratio), F(s.Correlation)]);
            timelines.Add((id, stability.Changes.Select(c => (double)c.Index).ToArray(), stability.Changes.Select(c => c.MapChange).ToArray()));
            inputTimeline ??= stability.Changes.Select(c => c.InputChange).ToArray();
            run.Progress.Note($"  {id}: mean map change {F(s.MeanMapChange)} (1 - SSIM) for input change {F(s.MeanInputChange)}");
        }
        report.Paragraph($"Consecutive frames of `{Path.GetFileName(a.Video!)}` (first {a.MaxFrames}); one class for the whole clip (the first frame's top-1). Map change = 1 - SSIM of consecutive maps; input change = mean |x_t - x_(t-1)| of the normalized inputs.");
        report.Table(["method", "map change (1 - SSIM)", "map change (mean abs diff)", "input change", "map / input change", "correlation map vs input change"], rows);
        if (inputTimeline is not null)
            timelines.Add(("input change", timelines[0].Item2, inputTimeline));
        report.LinePlot("temporal", "Map change per frame", "frame", "1 - SSIM (maps) / mean abs diff (input)", timelines);
        // Frames are not independent draws (consecutive frames look alike): the interval is narrower than a new clip's would be.
        run.Compare(report, "temporal-map-change", "Map change (1 - SSIM) per frame pair", false, perFrame, "frame pairs");
    }
}
