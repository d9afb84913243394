using System.Globalization;
using SaCam.Benchmarks;
using SaCam.Core;

// Usage: dotnet run -c Release --project tests/SaCam.Benchmarks -- --suite NAME [--shared DIR] [--rounds N] [--budget-ms N]
//        [--auto-factors F,F (throughput: auto budgets to compare beside the default)]
//        [--budgets auto,40,... | --rates 0.4,3,... --half-life D --trust-once-moved R --first-move-half-life F --clips highway,lane,traffic (rt-guarantee)] [--step N] [--smoothing A] [--device cpu|cuda|cuda:N] [--out docs/benchmarks.md] [--every N (quality)]
string suite = Arg("--suite") ?? "explainer";
// The video suites (and the per-frame gradient family) run as `sacam video` does (Streaming); the batched ones as
// `sacam explain` (Batched).
NativeRuntime.Configure(suite is "explainer" or "sacam-forwards" or "engines" or "sacam-batch" or "objects" ? NativeProfile.Batched : NativeProfile.Streaming);
string shared = Arg("--shared") ?? FindShared();
int rounds = int.Parse(Arg("--rounds") ?? "3", CultureInfo.InvariantCulture);
string output = Arg("--out") ?? Path.Combine(RepoRoot(), "docs", "benchmarks.md");

var started = DateTime.UtcNow;
string header(string title) => $"## {title}\n\nMeasured {started:yyyy-MM-dd HH:mm} UTC on {Machine.Describe()}.\n\n";
string text;
var cache = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "sacam-bench")).FullName;
double? budget = SaCam.Core.Realtime.RealtimeSaCamOptions.ParseBudget(Arg("--budget-ms") ?? "auto");
var device = DeviceSelector.Parse(Arg("--device") ?? "cpu");
var video = new VideoBenchmark(shared, cache, device);
switch (suite)
{
    case "explainer":
        text = header("Perturbation methods' overhead (issues 2 and 11)") + $"{rounds} rounds, interleaved.\n\n" + new ExplainerBenchmark(shared, rounds).Run(gradientFamily: false);
        break;
    case "sacam-batch":
        text = header("Full SA-CAM by batch size (issue 11)") + new ExplainerBenchmark(shared, rounds).SaCamBatches([16, 32, 64]);
        break;
    case "gradient-family":
        text = header("Grad-CAM family per frame (issues 2 and 11)") + $"{rounds * 10} rounds, interleaved, as a video frame runs them.\n\n" + new ExplainerBenchmark(shared, rounds).Run(gradientFamily: true);
        break;
    case "engines":
        text = header("Engines: ONNX Runtime and TorchSharp (issue 11)") + new EngineBenchmark(shared, rounds).Run();
        break;
    case "throughput":
        text = header("Video throughput (issue 5)") + video.Throughput(budget, int.Parse(Arg("--frames") ?? "100"), rounds,
            Arg("--auto-factors")?.Split(',').Select(f => double.Parse(f, CultureInfo.InvariantCulture)).ToArray());
        break;
    case "latency":
        text = header("sacam-rt latency over budgets (issue 5)") + video.LatencyOverBudgets([25, 50, 100, 200, 400, 800], int.Parse(Arg("--frames") ?? "60"));
        break;
    case "fidelity":
        text = header("sacam-rt fidelity (issue 5)") + video.Fidelity(budget, int.Parse(Arg("--step") ?? "5"), rounds,
            double.Parse(Arg("--smoothing") ?? "0", CultureInfo.InvariantCulture));
        break;
    case "fidelity-curve":
        text = header("sacam-rt fidelity versus budget (issue 11)") + video.FidelityCurve([40, 100, 200, 400, 800, null], int.Parse(Arg("--step") ?? "5"));
        break;
    case "sacam-forwards":
        text = header("Fewer forwards for full SA-CAM, counted (issue 24)") + new SaCamForwardCount(shared).Run();
        break;
    case "rt-guarantee":
    {
        // On the fixed clock (--rates) the trust model before 2026-12-03 runs beside the default, unless a setting is given.
        bool fixedClock = Arg("--rates") is not null;
        var variants = TrustOptions() is { } given ? [new RealtimeGuaranteeBenchmark.Variant("as given", given)]
            : fixedClock ? [new RealtimeGuaranteeBenchmark.Variant("trust as until 2026-12-03 (half-life 5 alone)", new SaCam.Core.Realtime.RealtimeSaCamOptions { ScoreHalfLifeDrift = 5, ScoreTrustOnceMoved = 1 }),
                            new RealtimeGuaranteeBenchmark.Variant("default", new SaCam.Core.Realtime.RealtimeSaCamOptions())]
            : new List<RealtimeGuaranteeBenchmark.Variant> { new("default", new SaCam.Core.Realtime.RealtimeSaCamOptions()) };
        var paces = fixedClock
            ? Arg("--rates")!.Split(',').Select(r => RealtimeGuaranteeBenchmark.Pace.FixedClock(double.Parse(r, CultureInfo.InvariantCulture))).ToList()
            : (Arg("--budgets") ?? "auto,40,100,200,400").Split(',').Select(b => RealtimeGuaranteeBenchmark.Pace.RealClock(SaCam.Core.Realtime.RealtimeSaCamOptions.ParseBudget(b))).ToList();
        text = header("sacam-rt against Grad-CAM on moving footage (issue 23)" + (fixedClock ? ", on a fixed clock" : "")) +
               new RealtimeGuaranteeBenchmark(shared, cache, variants).Run(paces, Arg("--clips")?.Split(','));
        break;
    }
    case "default-budget":
        text = header("sacam-rt at the default budget (issue 11)") + video.ChannelsAtTheDefaultBudget(rounds);
        break;
    case "gpu":
        // One script's worth (build/gpu-benchmark.sh): budgets a GPU can afford at 30 fps, and the plain-forward rate.
        text = header($"On a GPU: {device} (issue 11)") + new EngineBenchmark(shared, 1, device).FullSaCamOnDevice() +
               video.FidelityCurve([10, 20, 30, 40, null], int.Parse(Arg("--step") ?? "5")) + video.Throughput(null, 200, 1);
        break;
    case "fidelity-floor":
        text = header("The best a cache can do (issue 5)") + new FidelityFloor(shared, cache).Run(int.Parse(Arg("--step") ?? "25"), args.Contains("--next-only"));
        break;
    case "serve":
        text = header("Engines through sacam serve (issue 12)") + new SaCam.Benchmarks.ServeBenchmark(shared, RepoRoot()).Run(double.Parse(Arg("--seconds") ?? "15", CultureInfo.InvariantCulture));
        break;
    case "dicom":
        text = header("DICOM series (issue 13)") + new SaCam.Benchmarks.DicomBenchmark().Run(int.Parse(Arg("--slices") ?? "120"), rounds);
        break;
    case "pacs":
        text = header("PACS fetch and write-back (issue 22)") + new SaCam.Benchmarks.PacsBenchmark().Run(int.Parse(Arg("--slices") ?? "60"), rounds);
        break;
    case "fleet":
        text = header("Fleet on one machine (issue 14)") + new SaCam.Benchmarks.FleetBenchmark(RepoRoot()).Run(int.Parse(Arg("--recordings") ?? "8"), int.Parse(Arg("--frames-per-shard") ?? "48"));
        output = Arg("--out") ?? Path.Combine(RepoRoot(), "docs", "scale.md");
        break;
    case "objects":
        text = header("Objects of a detector and a segmenter (issue 21)") + new SaCam.Benchmarks.ObjectBenchmark(shared, rounds).Run(RepoRoot());
        break;
    case "objects-video":
        text = header("Objects through video: sacam-rt and XGrad-CAM against detection alone (issue 21)") + new SaCam.Benchmarks.ObjectBenchmark(shared, rounds).Video(RepoRoot());
        break;
    case "objects-fidelity":
        text = header("sacam-rt per tracked object against full SA-CAM (issue 21)") + new SaCam.Benchmarks.ObjectBenchmark(shared, rounds).Fidelity(RepoRoot());
        break;
    case "quality":
    {
        var quality = new SaCam.Benchmarks.QualityBenchmark(shared, int.Parse(Arg("--frames") ?? "100"), rounds);
        int every = int.Parse(Arg("--every") ?? "10");
        text = header("Map quality checks in video (issue 23)") + (args.Contains("--steps-only") ? "" : quality.Run(every) + "\n") +
            quality.StepsSweep([8, 4, 3, 2], every, int.Parse(Arg("--sweep-frames") ?? "21"));
    }
        break;
    case "memory":
        text = header("Memory over a long run (issue 5)") + video.Memory(budget, 200, int.Parse(Arg("--frames") ?? "2000"));
        break;
    default:
        throw new ArgumentException($"unknown --suite {suite}: explainer, sacam-batch, gradient-family, engines, throughput, latency, fidelity, fidelity-curve, rt-guarantee, sacam-forwards, default-budget, gpu, fidelity-floor, memory, serve, dicom, pacs, fleet, objects, objects-video, objects-fidelity, quality");
}
// A variant of a suite keeps its own section beside the main one.
string section = suite == "fidelity-floor" && args.Contains("--next-only") ? "fidelity-floor-next"
    : suite == "rt-guarantee" && args.Contains("--rates") ? "rt-guarantee-fixed-clock" : suite;
MarkdownSections.Replace(output, section, text);
Console.WriteLine(text);
Console.WriteLine($"written to {output}");
return 0;

// sacam-rt's trust in cached scores as given on the command line (rt-guarantee compares settings side by side;
// --half-life 5 --trust-once-moved 1 is the model before 2026-12-03).
SaCam.Core.Realtime.RealtimeSaCamOptions? TrustOptions()
{
    if (Arg("--half-life") is null && Arg("--trust-once-moved") is null && Arg("--first-move-half-life") is null) return null;
    var defaults = new SaCam.Core.Realtime.RealtimeSaCamOptions();
    return defaults with
    {
        ScoreHalfLifeDrift = Arg("--half-life") is string h ? double.Parse(h, CultureInfo.InvariantCulture) : defaults.ScoreHalfLifeDrift,
        ScoreTrustOnceMoved = Arg("--trust-once-moved") is string r ? double.Parse(r, CultureInfo.InvariantCulture) : defaults.ScoreTrustOnceMoved,
        ScoreFirstMoveHalfLifeDrift = Arg("--first-move-half-life") is string f ? double.Parse(f, CultureInfo.InvariantCulture) : defaults.ScoreFirstMoveHalfLifeDrift,
    };
}

string? Arg(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

static string RepoRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, "SaCam.Realtime.sln"))) return dir.FullName;
    return Directory.GetCurrentDirectory();
}

static string FindShared()
{
    var candidate = Path.GetFullPath(Path.Combine(RepoRoot(), "..", "shared"));
    if (Directory.Exists(candidate)) return candidate;
    throw new DirectoryNotFoundException($"shared data not found at {candidate}; pass --shared DIR");
}
