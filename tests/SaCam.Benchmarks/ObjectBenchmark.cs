using System.Diagnostics;
using System.Globalization;
using System.Text;
using SaCam.App.Building;
using SaCam.Core.Methods;
using SaCam.Core.Targets;
using SaCam.Core.Tasks;
using SaCam.Imaging;
using SaCam.Video;
using static TorchSharp.torch;

namespace SaCam.Benchmarks;

/// <summary>
/// Explaining objects of the shared detector and segmenter (issue 21), ratios measured side by side in one run:
/// - per object, the Grad-CAM family against one forward of the model (the trunk on ONNX Runtime, the head's
///   gradient in TorchSharp), interleaved;
/// - full SA-CAM on one detection against the same number of bare batched forwards;
/// (the video rates are their own suite, objects-video, run as `sacam video` runs).
/// </summary>
public sealed class ObjectBenchmark(string sharedRoot, int rounds)
{
    private static ModelCard CardOf(string repo, string name)
    {
        var card = ModelCard.Read(Path.Combine(repo, "docs", "model-cards", name));
        return card with { LabelsFile = null };
    }

    public string Run(string repoRoot)
    {
        var text = new StringBuilder();
        text.AppendLine("| model, object | forward (ms) | Grad-CAM / forward | LayerCAM / forward | XGrad-CAM / forward |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: |");
        PerObject(text, repoRoot, "traffic_ssd.onnx", "traffic_ssd.card.json", "traffic_0001.png", "det:0");
        PerObject(text, repoRoot, "deeplabv3_mnv2_pascal.onnx", "deeplabv3_mnv2_pascal.card.json", "bird_segmentation.png", "seg:3");
        text.AppendLine();
        FullSaCam(text, repoRoot);
        return text.ToString();
    }

    /// <summary>
    /// sacam-rt per track against full SA-CAM: one sacam-rt run over every frame of traffic_frames.mp4 (tracked, at
    /// most 3 objects, in order, so its caches warm up as in video); on every 5th frame, each object's sacam-rt map,
    /// full SA-CAM's and Grad-CAM's for the same detection; Pearson with full SA-CAM, and the error ratio
    /// (1 - r_rt) / (1 - r_gradcam) as docs/benchmarks.md reports it for classifiers.
    /// </summary>
    public string Fidelity(string repoRoot)
    {
        var card = CardOf(repoRoot, "traffic_ssd.card.json");
        using var model = OnnxTaskModel.Load(Path.Combine(sharedRoot, "models", "traffic_ssd.onnx"), card);
        // As `sacam video` runs it (the Streaming profile): libtorch's threads tuned for the model, which sets how long a
        // gradient pass takes and so sacam-rt's automatic budget.
        SaCam.Core.NativeRuntime.TuneFor(model);
        var engine = new CamEngine(model, CamEngine.PreferredBatchSize(model));
        using var explainer = new ObjectFrameExplainer(model, () => MethodRegistry.Create("sacam-rt"), "det:all", 3, null);
        var rows = new List<(int Frame, int Track, double Rt, double GradCam)>();
        using var capture = new OpenCvSharp.VideoCapture(Path.Combine(sharedRoot, "media", "driving", "traffic_frames.mp4"));
        for (int k = 0; ; k++)
        {
            var image = new OpenCvSharp.Mat();
            if (!capture.Read(image) || image.Empty()) { image.Dispose(); break; }
            using var frame = new VideoFrame(k, TimeSpan.FromSeconds(k / 10.0), image);
            using var e = explainer.Explain(frame);
            if (k % 5 != 0) continue;
            using var scope = NewDisposeScope();
            var (x, geometry) = ImagePreprocessor.ToTensor(image, model.Preprocess);
            var found = ObjectTargets.Find("det:all", model, x, geometry, 3);
            foreach (var o in e.Objects!)
            {
                // The same detection as the tracked object: the one whose box is this object's.
                var same = found.FirstOrDefault(f => f.Box is { } b && Math.Abs(b[0] - o.Box.X) <= 1 && Math.Abs(b[1] - o.Box.Y) <= 1);
                if (same is null) continue;
                using var full = engine.Explain(x, MethodRegistry.Create("sacam"), same.Target);
                using var grad = engine.Explain(x, new GradCam(), same.Target);
                double rt = SaCam.Evaluation.MapSimilarity.Pearson(o.Map, full.Map), g = SaCam.Evaluation.MapSimilarity.Pearson(grad.Map, full.Map);
                rows.Add((k, o.Track, rt, g));
            }
            foreach (var f in found) f.Dispose();
        }
        var text = new StringBuilder();
        text.AppendLine("| frame | track | Pearson(sacam-rt, full SA-CAM) | Pearson(Grad-CAM, full SA-CAM) | error ratio (1 - r_rt) / (1 - r_gradcam) |");
        text.AppendLine("| ---: | ---: | ---: | ---: | ---: |");
        foreach (var r in rows)
            text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {r.Frame} | {r.Track} | {r.Rt:F3} | {r.GradCam:F3} | {(1 - r.Rt) / Math.Max(1e-9, 1 - r.GradCam):F2} |"));
        text.AppendLine();
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"Median over {rows.Count} objects: Pearson(sacam-rt, full) {Measure.Median(rows.Select(r => r.Rt)):F3}, Pearson(Grad-CAM, full) {Measure.Median(rows.Select(r => r.GradCam)):F3}, error ratio {Measure.Median(rows.Select(r => (1 - r.Rt) / Math.Max(1e-9, 1 - r.GradCam))):F2}."));
        return text.ToString();
    }

    private (OnnxTaskModel Model, Tensor Input, FrameGeometry Geometry) Load(string repoRoot, string model, string card, string image)
    {
        var m = OnnxTaskModel.Load(Path.Combine(sharedRoot, "models", model), CardOf(repoRoot, card));
        using var bgr = ImageFile.ReadBgr(Path.Combine(sharedRoot, "media", "seg-det", image));
        var (x, g) = ImagePreprocessor.ToTensor(bgr, m.Preprocess);
        return (m, x.DetachFromDisposeScope(), g);
    }

    private void PerObject(StringBuilder text, string repoRoot, string modelFile, string card, string image, string target)
    {
        var (model, x, geometry) = Load(repoRoot, modelFile, card, image);
        using var disposeModel = model;
        using var disposeX = x;
        var found = ObjectTargets.Find(target, model, x, geometry, 1);
        var t = found[0].Target;
        var engine = new CamEngine(model);
        void Forward() { using var s = NewDisposeScope(); using var g = no_grad(); model.Predict(x).sum().item<float>(); }
        Action Explain(ICamMethod m) => () => { using var r = engine.Explain(x, m, t); r.Map.max().item<float>(); };
        var times = Measure.Interleaved(2, rounds * 5, [("forward", Forward), ("gradcam", Explain(new GradCam())), ("layercam", Explain(new LayerCam())), ("xgradcam", Explain(new XGradCam()))]);
        string R(string m) => Measure.MedianRatio(times[m], times["forward"]).ToString("F2", CultureInfo.InvariantCulture);
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"| {modelFile}, {target} | {Measure.Median(times["forward"]) * 1000:F1} | {R("gradcam")} | {R("layercam")} | {R("xgradcam")} |"));
        foreach (var o in found) o.Dispose();
    }

    private void FullSaCam(StringBuilder text, string repoRoot)
    {
        var (model, x, geometry) = Load(repoRoot, "traffic_ssd.onnx", "traffic_ssd.card.json", "traffic_0001.png");
        using var disposeModel = model;
        using var disposeX = x;
        var found = ObjectTargets.Find("det:0", model, x, geometry, 1);
        var engine = new CamEngine(model, CamEngine.PreferredBatchSize(model));
        var batches = new List<long>();
        engine.PerturbationBatchRun += n => batches.Add(n);
        var sacam = new List<double>();
        var bare = new List<double>();
        for (int r = 0; r < rounds; r++)
        {
            batches.Clear();
            var clock = Stopwatch.StartNew();
            using (var result = engine.Explain(x, MethodRegistry.Create("sacam"), found[0].Target)) result.Map.max().item<float>();
            sacam.Add(clock.Elapsed.TotalSeconds);
            // The same batches of images, as bare forwards.
            clock.Restart();
            foreach (long n in batches)
            {
                using var s = NewDisposeScope();
                using var g = no_grad();
                model.Predict(x.expand(n, -1, -1, -1).contiguous()).sum().item<float>();
            }
            bare.Add(clock.Elapsed.TotalSeconds);
        }
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"Full SA-CAM on one detection of traffic_0001 (traffic SSD): {batches.Sum()} perturbed images, {Measure.Median(sacam):F2} s; the same batches as bare forwards {Measure.Median(bare):F2} s: **{Measure.MedianRatio(sacam, bare):F2}x** (median of {rounds} rounds; goal 1.1x)."));
        foreach (var o in found) o.Dispose();
    }

    /// <summary>
    /// sacam-rt and XGrad-CAM on every object of traffic_frames.mp4 (tracked, at most 3) against detection alone, as
    /// `sacam video` runs them (the Streaming profile): with libtorch at the thread count NativeRuntime.TuneFor picks
    /// for the model, and beside it at the count the machine starts with, interleaved in one run.
    /// </summary>
    public string Video(string repoRoot)
    {
        var text = new StringBuilder();
        var clip = Path.Combine(sharedRoot, "media", "driving", "traffic_frames.mp4");
        var card = CardOf(repoRoot, "traffic_ssd.card.json");
        using var model = OnnxTaskModel.Load(Path.Combine(sharedRoot, "models", "traffic_ssd.onnx"), card);
        int initial = get_num_threads();
        SaCam.Core.NativeRuntime.TuneFor(model);
        int tuned = get_num_threads();
        var frames = new List<OpenCvSharp.Mat>();
        using (var capture = new OpenCvSharp.VideoCapture(clip))
            for (var f = new OpenCvSharp.Mat(); capture.Read(f) && !f.Empty(); f = new OpenCvSharp.Mat()) frames.Add(f);
        double Detection()
        {
            var clock = Stopwatch.StartNew();
            foreach (var f in frames)
            {
                using var s = NewDisposeScope();
                var (x, _) = ImagePreprocessor.ToTensor(f, model.Preprocess);
                using var g = no_grad();
                model.Decoder!.Detect(model.Predict(x)[0], null);
            }
            return frames.Count / clock.Elapsed.TotalSeconds;
        }
        double Explained(string method, int threads)
        {
            set_num_threads(threads);
            try
            {
                using var explainer = new ObjectFrameExplainer(model, () => MethodRegistry.Create(method), "det:all", 3, null);
                var clock = Stopwatch.StartNew();
                for (int k = 0; k < frames.Count; k++)
                {
                    using var frame = new VideoFrame(k, TimeSpan.FromSeconds(k / 10.0), frames[k].Clone());
                    using var e = explainer.Explain(frame);
                }
                return frames.Count / clock.Elapsed.TotalSeconds;
            }
            finally
            {
                set_num_threads(tuned);
            }
        }
        Detection(); // warm
        var contenders = new List<(string Name, Func<double> Fps)> { ("detection", Detection) };
        foreach (var method in new[] { "xgradcam", "sacam-rt" })
        {
            if (tuned != initial) contenders.Add(($"{method}, libtorch threads {initial}", () => Explained(method, initial)));
            contenders.Add(($"{method}, libtorch threads {tuned}{(tuned != initial ? " (TuneFor)" : "")}", () => Explained(method, tuned)));
        }
        var fps = contenders.ToDictionary(c => c.Name, _ => new List<double>());
        for (int r = 0; r < rounds; r++)
            foreach (var (name, run) in contenders) fps[name].Add(run());
        text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"libtorch threads at start {initial}; NativeRuntime.TuneFor chose {tuned} for this model (its gradient pass timed at each count). {rounds} rounds, interleaved."));
        text.AppendLine();
        text.AppendLine("| traffic_frames.mp4 (20 frames, at most 3 tracked objects) | fps | against detection alone |");
        text.AppendLine("| --- | ---: | ---: |");
        foreach (var (name, values) in fps)
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {Measure.Median(values):F2} | {Measure.MedianRatio(values, fps["detection"]):F2}x |"));
        text.AppendLine();
        text.AppendLine("The goal for sacam-rt with 3 tracked objects is 0.4x of detection alone. The frame's budget (sacam-rt's automatic one, 2x a forward and backward) is divided between the objects on the frame (IBudgetedMethod.BudgetShare); each object still costs its own gradient pass.");
        foreach (var f in frames) f.Dispose();
        return text.ToString();
    }
}
