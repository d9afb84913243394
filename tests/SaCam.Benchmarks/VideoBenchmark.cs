using System.Diagnostics;
using System.Globalization;
using System.Reactive.Linq;
using System.Text;
using OpenCvSharp;
using SaCam.Core.Methods;
using SaCam.Core.Models;
using SaCam.Core.Realtime;
using SaCam.Core.Targets;
using SaCam.Core.Tensors;
using SaCam.Imaging;
using SaCam.Video;
using SaCam.Video.Overlays;
using SaCam.Video.Pipeline;
using SaCam.Video.Sinks;
using SaCam.Video.Sources;
using static TorchSharp.torch;

namespace SaCam.Benchmarks;

/// <summary>
/// Issue 5, section 6, on MobileNetV2 and the driving clips (CPU): throughput of sacam-rt against the same pipeline
/// with a plain forward, fidelity against full SA-CAM, latency over budgets, and memory over 2,000 frames.
/// </summary>
public sealed class VideoBenchmark(string sharedRoot, string cacheDir, TorchSharp.torch.Device? device = null)
{
    private string Clip(string name) => Path.Combine(sharedRoot, "media", "driving", name);
    private OnnxCnnModel LoadModel()
    {
        var model = OnnxCnnModel.Load(Path.Combine(sharedRoot, "models", "mobilenet_v2_1.0_224.onnx"), device);
        SaCam.Core.NativeRuntime.TuneFor(model);
        return model;
    }

    /// <summary>Full SA-CAM maps are cached per device: a GPU run must not read the CPU's (or the other way round).</summary>
    private string CacheTag => device is null || device.type == TorchSharp.DeviceType.CPU ? "" : $"_{device.type}{device.index}".ToLowerInvariant();

    /// <summary>Frames per second of the whole pipeline (decode, preprocess, explain, overlay, encode), interleaved rounds.</summary>
    /// <param name="autoFactors">Auto-budget factors to compare beside the default (with no fixed budget).</param>
    public string Throughput(double? budgetMs, int frames, int rounds, double[]? autoFactors = null)
    {
        using var model = LoadModel();
        var contenders = new List<(string, Func<PipelineRun>)>
        {
            ("none (plain forward)", () => RunPipeline(model, null, frames)),
            ("gradcam", () => RunPipeline(model, new GradCam(), frames)),
            ($"sacam-rt (budget {budgetMs?.ToString() ?? "auto"} ms)", () => RunPipeline(model, new RealtimeSaCam(new RealtimeSaCamOptions { BudgetMs = budgetMs }), frames)),
        };
        foreach (var factor in budgetMs is null ? autoFactors ?? [] : [])
            contenders.Add(($"sacam-rt (auto budget x{factor.ToString(CultureInfo.InvariantCulture)})",
                () => RunPipeline(model, new RealtimeSaCam(new RealtimeSaCamOptions { AutoBudgetFactor = factor }), frames)));
        var runs = contenders.ToDictionary(c => c.Item1, _ => new List<PipelineRun>());
        for (int r = 0; r < rounds; r++)
            foreach (var (name, run) in contenders) runs[name].Add(run());
        var baseline = runs[contenders[0].Item1].Select(x => x.Fps).ToList();
        var text = new StringBuilder();
        text.AppendLine($"### Throughput: lane_dashcam.mp4 (960x540), first {frames} frames, exact mode, mp4v output, {rounds} interleaved rounds");
        text.AppendLine();
        text.AppendLine("| pipeline | fps (median) | ratio to plain forward (median of per-round ratios) | channels scored a frame (mean) | channels covered a frame (mean) | goal |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: | --- |");
        foreach (var (name, _) in contenders)
        {
            var fps = runs[name].Select(x => x.Fps).ToList();
            bool realtime = name.StartsWith("sacam-rt");
            string Channels(Func<PipelineRun, double> pick) => realtime ? Measure.Median(runs[name].Select(pick).ToList()).ToString("F2", CultureInfo.InvariantCulture) : "";
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {Measure.Median(fps):F1} | {Measure.MedianRatio(fps, baseline):F2}x | {Channels(x => x.ChannelsScored)} | {Channels(x => x.ChannelsCovered)} | {(realtime ? ">= 0.5x" : "")} |"));
        }
        return text.ToString();
    }

    private readonly record struct PipelineRun(double Fps, double ChannelsScored, double ChannelsCovered);

    private PipelineRun RunPipeline(IExplainableModel model, ICamMethod? method, int frames)
    {
        var output = Path.Combine(cacheDir, "throughput.mp4");
        using var explainer = new FrameExplainer(model, method);
        var pipeline = new VideoPipeline(VideoCaptureSource.File(Clip("lane_dashcam.mp4")), explainer, new FrameRenderer(new RenderOptions()),
            new PipelineOptions { MaxFrames = frames });
        var tally = new DiagnosticsTally();
        var clock = Stopwatch.StartNew();
        var result = pipeline.Run([new VideoFileSink(output, 25), tally]);
        if (result.Error is not null) throw result.Error;
        double seconds = clock.Elapsed.TotalSeconds;
        (method as IDisposable)?.Dispose();
        return new PipelineRun(result.FramesWritten / seconds, tally.Mean("channels_scored"), tally.Mean("channels_covered"));
    }

    /// <summary>A sink that only adds up the explanations' diagnostics.</summary>
    private sealed class DiagnosticsTally : IFrameSink
    {
        private readonly Dictionary<string, double> _sums = [];
        private long _frames;

        public void Write(AnnotatedFrame frame)
        {
            _frames++;
            foreach (var (key, value) in frame.Explanation.Diagnostics) _sums[key] = _sums.GetValueOrDefault(key) + value;
        }

        public double Mean(string key) => _frames == 0 ? 0 : _sums.GetValueOrDefault(key) / _frames;

        public void Dispose() { }
    }

    /// <summary>Per-frame explain latency p50/p95 of sacam-rt at several budgets (and end-to-end latency in exact mode).</summary>
    public string LatencyOverBudgets(double[] budgets, int frames)
    {
        using var model = LoadModel();
        var text = new StringBuilder();
        text.AppendLine($"### sacam-rt latency over budgets: lane_dashcam.mp4, first {frames} frames");
        text.AppendLine();
        text.AppendLine("| budget ms | explain p50 ms | explain p95 ms | channels/frame (median) | cache coverage at the end | weight on unscored channels at the end |");
        text.AppendLine("| ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var budget in budgets)
        {
            using var explainer = new FrameExplainer(model, new RealtimeSaCam(new RealtimeSaCamOptions { BudgetMs = budget }));
            var explain = new List<double>();
            var channels = new List<double>();
            FrameExplanation? last = null;
            foreach (var frame in VideoCaptureSource.File(Clip("lane_dashcam.mp4")).Frames().Take(frames).ToEnumerable())
            {
                using (frame)
                {
                    last?.Dispose();
                    last = explainer.Explain(frame);
                    explain.Add(last.ExplainMs);
                    channels.Add(last.Diagnostics["channels_scored"]);
                }
            }
            var sorted = explain.Skip(1).Order().ToArray(); // the first frame is the cost probe
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {budget} | {sorted[sorted.Length / 2]:F0} | {sorted[(int)(0.95 * (sorted.Length - 1))]:F0} | {Measure.Median(channels):F0} | {last!.Diagnostics["cache_coverage"]:P0} | {last.Diagnostics["weight_on_unscored"]:F3} |"));
            last.Dispose();
        }
        return text.ToString();
    }

    /// <summary>
    /// On every 5th frame of lane_dashcam.mp4: Pearson of sacam-rt's map (one run over every frame, in order) and of
    /// Grad-CAM's with full SA-CAM's (computed offline; cached on disk, ~20 s each).
    /// </summary>
    public string Fidelity(double? budgetMs, int step, int rounds, double smoothing = 0)
    {
        // sacam-rt runs on a real clock, so how many channels each frame scores varies from run to run, and so does
        // its fidelity: the clip is run several times and each run reported, the first in detail.
        using var model = LoadModel();
        var runs = Enumerable.Range(0, rounds).Select(_ => FidelityRun(model, budgetMs, step, smoothing)).ToList();
        var rows = runs[0];
        var text = new StringBuilder();
        text.AppendLine($"### Fidelity to full SA-CAM: lane_dashcam.mp4, every {step}th frame ({rows.Count} frames), sacam-rt at {budgetMs?.ToString() ?? "auto"} ms{(smoothing > 0 ? $", smoothing {smoothing}" : "")}, {rounds} runs");
        text.AppendLine();
        text.AppendLine("| run | median Pearson(sacam-rt, full) | median (1 - r_rt) / (1 - r_gradcam) | median lambda |");
        text.AppendLine("| ---: | ---: | ---: | ---: |");
        for (int r = 0; r < runs.Count; r++)
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r + 1} | {Measure.Median(runs[r].Select(x => x.Rt).ToList()):F3} | {Measure.Median(Closer(runs[r])):F3} | {Measure.Median(runs[r].Select(x => x.Confidence).ToList()):F2} |"));
        text.AppendLine();
        text.AppendLine("Run 1 in detail:");
        text.AppendLine();
        text.AppendLine("| measure | median | p10 | p90 | goal |");
        text.AppendLine("| --- | ---: | ---: | ---: | --- |");
        text.AppendLine(Row("Pearson(sacam-rt, full SA-CAM)", rows.Select(r => r.Rt).ToList(), ">= 0.99"));
        text.AppendLine(Row("Pearson(Grad-CAM, full SA-CAM)", rows.Select(r => r.GradCam).ToList(), "(reference)"));
        text.AppendLine(Row("(1 - r_rt) / (1 - r_gradcam)", Closer(rows), "<= 0.25"));
        text.AppendLine(Row("sacam-rt cache coverage", rows.Select(r => r.Coverage).ToList(), ""));
        text.AppendLine(Row("sacam-rt score confidence (lambda)", rows.Select(r => r.Confidence).ToList(), ""));
        text.AppendLine();
        text.AppendLine("Per frame (index: r_rt, r_gradcam, coverage, lambda): " + string.Join("; ", rows.Select(r =>
            string.Create(CultureInfo.InvariantCulture, $"{r.Index}: {r.Rt:F3}, {r.GradCam:F3}, {r.Coverage:P0}, {r.Confidence:F2}"))));
        return text.ToString();
    }

    private static List<double> Closer(List<FidelityRow> rows) => rows.Select(r => (1 - r.Rt) / Math.Max(1e-9, 1 - r.GradCam)).ToList();

    private sealed record FidelityRow(long Index, double Rt, double GradCam, double Coverage, double Confidence);

    /// <summary>
    /// The fidelity-versus-budget curve: for each budget, one sacam-rt run over every frame of lane_dashcam.mp4, its
    /// map compared on every <paramref name="step"/>th frame with full SA-CAM's; the error ratio to Grad-CAM's also
    /// from frame 30 on (once the cache has had time to fill); channels scored per frame; and sacam-rt's own rate
    /// (frames per second of explaining, forward and backward included, decoding and drawing excluded).
    /// </summary>
    public string FidelityCurve(IReadOnlyList<double?> budgets, int step)
    {
        using var model = LoadModel();
        var text = new StringBuilder();
        text.AppendLine($"### Fidelity versus budget: lane_dashcam.mp4 (221 frames), every {step}th frame compared with full SA-CAM, MobileNetV2 on {model.Engine}");
        text.AppendLine();
        text.AppendLine("| budget ms | median Pearson with full SA-CAM | median error ratio to Grad-CAM's | the same from frame 30 on | channels scored per frame | channels covered per frame | explain fps | goal |");
        text.AppendLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
        foreach (var budget in budgets)
        {
            var stats = new RunStatistics();
            var rows = FidelityRun(model, budget, step, 0, stats);
            var late = rows.Where(r => r.Index >= 30).ToList();
            string goal = budget switch { 400 => "r >= 0.99, ratio <= 0.25", null => "ratio < 1 from frame 30 on", _ => "" };
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {(budget is double b ? b.ToString(CultureInfo.InvariantCulture) : $"auto ({Measure.Median(stats.Budgets):F0})")} | {Measure.Median(rows.Select(r => r.Rt).ToList()):F4} | {Measure.Median(Closer(rows)):F2} | {Measure.Median(Closer(late)):F2} | {stats.Channels.Average():F2} | {stats.Covered.Average():F2} | {stats.Channels.Count / stats.Seconds:F1} | {goal} |"));
            Console.Error.WriteLine(text.ToString().Split('\n')[^2]);
        }
        return text.ToString();
    }

    /// <summary>
    /// Channels a frame at the default budget before issue 11 (the same model on TorchSharp alone, the fixed 40 ms that
    /// was the default) and now (ONNX Runtime for the forwards, the automatic budget), interleaved over the whole of
    /// lane_dashcam.mp4. The "before" side runs today's code otherwise (faster blur, shared maps), so it flatters the
    /// old default rather than the new one.
    /// </summary>
    public string ChannelsAtTheDefaultBudget(int rounds)
    {
        string path = Path.Combine(sharedRoot, "models", "mobilenet_v2_1.0_224.onnx");
        using var before = OnnxCnnModel.Load(path, device, engine: new SaCam.Core.Engines.EngineOptions { Kind = SaCam.Core.Engines.EngineKind.TorchSharp });
        using var now = LoadModel();
        var contenders = new (string Name, OnnxCnnModel Model, double? Budget)[]
        {
            ($"before: {before.Engine}, fixed 40 ms", before, 40),
            ($"now: {now.Engine}, auto", now, null),
        };
        var stats = contenders.ToDictionary(c => c.Name, _ => new List<RunStatistics>());
        for (int r = 0; r < rounds; r++)
            foreach (var c in contenders)
            {
                var run = new RunStatistics();
                FidelityRun(c.Model, c.Budget, step: null, smoothing: 0, run);
                stats[c.Name].Add(run);
            }
        var text = new StringBuilder();
        text.AppendLine($"### sacam-rt at the default budget, before and after issue 11: lane_dashcam.mp4 (221 frames, explain only), {rounds} interleaved rounds");
        text.AppendLine();
        text.AppendLine("| configuration | channels scored a frame | channels covered a frame | budget ms (median) | explain fps |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: |");
        foreach (var c in contenders)
        {
            var runs = stats[c.Name];
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {c.Name} | {Measure.Median(runs.Select(x => x.Channels.Average()).ToList()):F2} | {Measure.Median(runs.Select(x => x.Covered.Average()).ToList()):F2} | {Measure.Median(runs.SelectMany(x => x.Budgets).ToList()):F0} | {Measure.Median(runs.Select(x => x.Channels.Count / x.Seconds).ToList()):F1} |"));
        }
        double Ratio(Func<RunStatistics, double> pick) =>
            Measure.Median(stats[contenders[1].Name].Select(pick).ToList()) / Measure.Median(stats[contenders[0].Name].Select(pick).ToList());
        text.AppendLine();
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"Now against before: {Ratio(x => x.Channels.Average()):F1}x the channels scored a frame, {Ratio(x => x.Covered.Average()):F1}x the channels covered (goal: 3x)."));
        return text.ToString();
    }

    /// <summary>What a sacam-rt run did on every frame: the channels it scored, its budget, its own explain time.</summary>
    private sealed class RunStatistics
    {
        public List<double> Channels { get; } = [];
        /// <summary>Live channels given a fresh score a frame (the scored ones and those sharing their maps).</summary>
        public List<double> Covered { get; } = [];
        public List<double> Budgets { get; } = [];
        public double Seconds { get; private set; }

        public void Add(CamResult frame, double explainSeconds)
        {
            Seconds += explainSeconds;
            Channels.Add(frame.Diagnostics["channels_scored"]);
            Covered.Add(frame.Diagnostics["channels_covered"]);
            Budgets.Add(frame.Diagnostics["budget_ms"]);
        }
    }

    /// <param name="step">Every step-th frame is compared with full SA-CAM; null compares none (statistics only).</param>
    private List<FidelityRow> FidelityRun(OnnxCnnModel model, double? budgetMs, int? step, double smoothing, RunStatistics? stats = null)
    {
        var engine = new CamEngine(model);
        using var rt = new RealtimeSaCam(new RealtimeSaCamOptions { BudgetMs = budgetMs, TemporalSmoothing = smoothing });
        var rows = new List<FidelityRow>();
        foreach (var frame in VideoCaptureSource.File(Clip("lane_dashcam.mp4")).Frames().ToEnumerable())
        {
            using (frame)
            using (var scope = NewDisposeScope())
            {
                var (x, _) = ImagePreprocessor.ToTensor(frame.Image, model.Preprocess, model.Device);
                var clock = Stopwatch.StartNew();
                using var realtime = engine.Explain(x, rt);
                stats?.Add(realtime, clock.Elapsed.TotalSeconds);
                if (step is not int every || frame.Index % every != 0) continue;
                var target = (ClassTarget)realtime.Target;
                var full = FullSaCamMap(engine, x, target, frame.Index);
                using var gradcam = engine.Explain(x, new GradCam(), target);
                rows.Add(new FidelityRow(frame.Index, Pearson(realtime.Map, full), Pearson(gradcam.Map, full), realtime.Diagnostics["cache_coverage"],
                    realtime.Diagnostics["score_confidence"]));
            }
        }
        return rows;
    }

    private Tensor FullSaCamMap(CamEngine engine, Tensor x, ClassTarget target, long index)
    {
        var path = Path.Combine(cacheDir, $"lane_full_sacam_{index:D4}_c{target.ClassIndex}{CacheTag}.npy");
        if (File.Exists(path)) return NpyFile.Read(path);
        using var full = engine.Explain(x, new SaCam.Core.Methods.SaCam(), target);
        NpyFile.Write(path, full.Map);
        Console.Error.WriteLine($"  full SA-CAM of frame {index}: {full.Elapsed.TotalSeconds:F1} s");
        return full.Map.clone();
    }

    /// <summary>Resident memory after 200 and after 2,000 frames of sacam-rt through the real pipeline (bounded
    /// queues, exact mode, annotated video written), the clip looped.</summary>
    public string Memory(double? budgetMs, int early, int late)
    {
        using var model = LoadModel();
        using var explainer = new FrameExplainer(model, new RealtimeSaCam(new RealtimeSaCamOptions { BudgetMs = budgetMs }));
        var clip = VideoCaptureSource.File(Clip("lane_dashcam.mp4"));
        var source = new LoopingSource(clip, (int)Math.Ceiling(late / (double)clip.FrameCount!.Value));
        var pipeline = new VideoPipeline(source, explainer, new FrameRenderer(new RenderOptions()), new PipelineOptions { MaxFrames = late });
        // Readings along the way tell a leak (steady growth) from a high-water mark (growth that levels off).
        var at = new long[] { early, late / 4, late / 2, 3 * late / 4, late }.Where(n => n >= early).Distinct().Order().ToArray();
        var probe = new RssProbe(at);
        var result = pipeline.Run([new VideoFileSink(Path.Combine(cacheDir, "memory.mp4"), 25), probe]);
        if (result.Error is not null) throw result.Error;
        long rssEarly = probe.Readings[early], rssLate = probe.Readings[late];
        var text = new StringBuilder();
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"### Memory: sacam-rt at {budgetMs?.ToString() ?? "auto"} ms, lane_dashcam.mp4 looped, through VideoPipeline (exact mode, mp4v output), native profile {SaCam.Core.NativeRuntime.Profile?.ToString() ?? "untuned"}"));
        text.AppendLine();
        text.AppendLine("| after frames | resident MB | change since frame " + early + " |");
        text.AppendLine("| ---: | ---: | ---: |");
        foreach (var n in at)
            text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {n} | {probe.Readings[n] / 1e6:F0} | {(probe.Readings[n] - rssEarly) * 100.0 / rssEarly:+0.0;-0.0}% |"));
        text.AppendLine();
        text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Change from frame {early} to {late}: {(rssLate - rssEarly) * 100.0 / rssEarly:+0.0;-0.0}% (goal: within 10%)."));
        return text.ToString();
    }

    /// <summary>A sink that reads the resident set size after given frame counts.</summary>
    private sealed class RssProbe(long[] at) : IFrameSink
    {
        private long _written;
        public Dictionary<long, long> Readings { get; } = [];
        public void Write(AnnotatedFrame frame)
        {
            if (at.Contains(++_written)) Readings[_written] = Rss();
        }
        public void Dispose() { }
    }

    private static long Rss()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:"));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    }

    private static double Pearson(Tensor a, Tensor b) => SaCam.Evaluation.MapSimilarity.Pearson(a, b);

    private static string Row(string name, List<double> v, string goal)
    {
        var (lo, hi) = Measure.Spread(v);
        return string.Create(CultureInfo.InvariantCulture, $"| {name} | {Measure.Median(v):F3} | {lo:F3} | {hi:F3} | {goal} |");
    }
}
