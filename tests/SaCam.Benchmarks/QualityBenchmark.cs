using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using SaCam.App.Building;
using SaCam.App.Specs;
using SaCam.Video.Pipeline;

namespace SaCam.Benchmarks;

/// <summary>
/// Issue 23 part 4: what `sacam video --quality-every N` costs. The same run (sacam-rt at its default budget, exact
/// mode, JSON Lines out) with and without the check, built through VideoRun as `sacam video` builds it, in
/// interleaved rounds; the time of Run (every frame decoded, explained, checked where due, written), not the model's
/// load. On the default model (the embedded ResNet18 backbone) and on MobileNetV2.
/// </summary>
public sealed class QualityBenchmark(string sharedRoot, int frames, int rounds)
{
    private string Clip => Path.Combine(sharedRoot, "media", "driving", "lane_dashcam.mp4");

    private readonly record struct Timed(double Seconds, double QualityMs, int Checked, double ExplainMs);

    public string Run(int every)
    {
        var models = new List<(string Name, ModelSpec Spec)>
        {
            ("default (embedded ResNet18 backbone)", new ModelSpec()),
            ("MobileNetV2", new ModelSpec { Id = Path.Combine(sharedRoot, "models", "mobilenet_v2_1.0_224.onnx") }),
        };
        var contenders = models.SelectMany(m => new[] { (m.Name, Every: (int?)null, m.Spec), (m.Name, Every: (int?)every, m.Spec) }).ToList();
        var times = contenders.ToDictionary(c => (c.Name, c.Every), _ => new List<Timed>());
        var folder = Directory.CreateTempSubdirectory("sacam-bench-quality-").FullName;
        try
        {
            foreach (var c in contenders) RunOnce(c.Spec, c.Every, folder); // warm-up: file caches, ONNX Runtime's first shapes
            for (int r = 0; r < rounds; r++)
                foreach (var c in contenders) times[(c.Name, c.Every)].Add(RunOnce(c.Spec, c.Every, folder));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
        var text = new StringBuilder();
        text.AppendLine($"### --quality-every {every}: lane_dashcam.mp4, first {frames} frames, sacam-rt at the default (auto) budget, exact mode, JSON Lines out, {rounds} interleaved rounds");
        text.AppendLine();
        text.AppendLine($"Each check: deletion and insertion at {DeletionInsertionCheck.DefaultSteps} steps, one batched forward of {2 * DeletionInsertionCheck.DefaultSteps + 1} images (insertion's last point is deletion's first).");
        text.AppendLine();
        text.AppendLine("| model | run | s (median) | time against the run without (median of per-round ratios) | frames checked | ms a check (mean) | explain ms a frame (mean) | goal |");
        text.AppendLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |");
        foreach (var (name, _) in models)
        {
            var without = times[(name, null)];
            var with = times[(name, every)];
            var baseline = without.Select(t => t.Seconds).ToList();
            foreach (var (label, runs) in new[] { ("without", without), ($"--quality-every {every}", with) })
            {
                var seconds = runs.Select(t => t.Seconds).ToList();
                bool checks = runs.Any(t => t.Checked > 0);
                text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {name} | {label} | {Measure.Median(seconds):F2} | {Measure.MedianRatio(seconds, baseline):F3}x | {runs[0].Checked} | {(checks ? runs.Average(t => t.QualityMs / t.Checked).ToString("F0", CultureInfo.InvariantCulture) : "")} | {runs.Average(t => t.ExplainMs):F0} | {(checks ? "<= 1.25x" : "")} |"));
            }
        }
        return text.ToString();
    }

    /// <summary>
    /// What a check costs by its number of steps, against the frame it checks: the default model's sacam-rt frames
    /// (explained as a video run explains them), then each frame's map checked at each step count, interleaved frame by
    /// frame. The projected cost of a run at --quality-every N is (ms a check) / (N x ms a frame).
    /// </summary>
    public string StepsSweep(int[] stepCounts, int every, int sweepFrames)
    {
        using var model = ModelLoader.Load(new ModelSpec(), SilentFeedback.Instance);
        var catalog = PluginCatalogs.Load(null);
        var sweep = new TimedChecks(stepCounts.Select(st => new DeletionInsertionCheck(model, st)).ToList());
        using var explainer = new FrameExplainer(model, MethodFactory.Create(new MethodSpec(), catalog, SilentFeedback.Instance), Targets.Create(TargetSpec.TopClass, model, catalog))
        {
            Quality = new QualitySampling(sweep, 1),
        };
        var frameMs = new List<double>();
        using var capture = new OpenCvSharp.VideoCapture(Clip);
        for (int k = 0; k < sweepFrames; k++)
        {
            var image = new OpenCvSharp.Mat();
            if (!capture.Read(image) || image.Empty()) { image.Dispose(); break; }
            using var videoFrame = new SaCam.Video.VideoFrame(k, TimeSpan.Zero, image);
            using var explained = explainer.Explain(videoFrame);
            frameMs.Add(explained.ExplainMs);
        }
        // The first frame carries ONNX Runtime's first shapes: left out of both.
        frameMs.RemoveAt(0);
        var checkMs = stepCounts.Select((st, i) => (st, sweep.Ms[i].Skip(1).ToList())).ToDictionary(p => p.st, p => p.Item2);
        double frame = Measure.Median(frameMs);
        var text = new StringBuilder();
        text.AppendLine($"### A check by its steps: default model, sacam-rt (auto budget) on lane_dashcam.mp4 frames 1-{frameMs.Count}, each frame's map checked at each step count");
        text.AppendLine();
        text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"sacam-rt: {frame:F0} ms a frame (median)."));
        text.AppendLine();
        text.AppendLine($"| steps | images a check | ms a check (median) | a check in frames | projected extra time at --quality-every {every} |");
        text.AppendLine("| ---: | ---: | ---: | ---: | ---: |");
        foreach (int steps in stepCounts)
        {
            double ms = Measure.Median(checkMs[steps]);
            text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {steps} | {2 * steps + 1} | {ms:F0} | {ms / frame:F2} | {100 * ms / (every * frame):F0}% |"));
        }
        return text.ToString();
    }

    /// <summary>Runs each check on the same map and times each; answers the first one's figures.</summary>
    private sealed class TimedChecks(List<DeletionInsertionCheck> checks) : IMapQualityCheck
    {
        public List<List<double>> Ms { get; } = checks.Select(_ => new List<double>()).ToList();

        public MapQuality Check(TorchSharp.torch.Tensor input, TorchSharp.torch.Tensor map, SaCam.Core.Targets.IExplanationTarget target, CancellationToken cancellation)
        {
            MapQuality? first = null;
            for (int i = 0; i < checks.Count; i++)
            {
                var clock = Stopwatch.StartNew();
                var q = checks[i].Check(input, map, target, cancellation);
                Ms[i].Add(clock.Elapsed.TotalMilliseconds);
                first ??= q;
            }
            return first!;
        }
    }

    private Timed RunOnce(ModelSpec model, int? every, string folder)
    {
        var jsonl = Path.Combine(folder, "frames.jsonl");
        if (File.Exists(jsonl)) File.Delete(jsonl);
        var spec = new VideoRunSpec
        {
            Source = Clip, Model = model, Frames = new FrameSelection { Mode = PipelineMode.Exact, MaxFrames = frames },
            Outputs = new VideoOutputs { Jsonl = jsonl }, QualityEvery = every,
        };
        double seconds;
        using (var run = VideoRun.Build(spec, SilentFeedback.Instance))
        {
            var clock = Stopwatch.StartNew();
            var result = run.Run();
            seconds = clock.Elapsed.TotalSeconds;
            if (result.Error is not null) throw new InvalidOperationException($"the benchmark run failed: {result.Error.Message}", result.Error);
        }
        var records = File.ReadAllLines(jsonl).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        return new Timed(seconds, records.Sum(r => r["quality_ms"]?.GetValue<double>() ?? 0), records.Count(r => r.ContainsKey("quality")),
            records.Average(r => r["explain_ms"]!.GetValue<double>()));
    }
}
