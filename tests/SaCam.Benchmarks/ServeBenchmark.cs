using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using OpenCvSharp;
using SaCam.Client;
using SaCam.Core.Models;
using SaCam.Core.Realtime;
using SaCam.Video.Host;
using SaCam.Video.Overlays;
using SaCam.Video.Pipeline;

namespace SaCam.Benchmarks;

/// <summary>
/// An engine's view of the explainer, in-process (<see cref="ExplainerHost"/>, .NET hosts) against out-of-process
/// (`sacam serve` through SaCam.Client, as Unity runs it; and the same client under Mono when it is installed): the
/// same frames at 120 submissions a second, the same model and method, one after the other. Explained frames per
/// second, and what the transport adds per frame (the frame loop's copy in, the server's wait and conversion, the
/// copy out).
/// </summary>
public sealed class ServeBenchmark(string shared, string repoRoot)
{
    private string Model => Path.Combine(shared, "models", "mobilenet_v2_1.0_224.onnx");
    private string Sacam => Path.Combine(repoRoot, "src", "SaCam.Cli", "bin", "Release", "net10.0", "linux-x64", "sacam");

    private sealed record Outcome(double Fps, double LatencyMs, double SubmitMs, double ReadMs, double CallP99Ms, double ServerOverheadMs);

    public string Run(double seconds)
    {
        if (!File.Exists(Sacam)) throw new InvalidOperationException($"{Sacam} is missing: dotnet build -c Release first");
        var text = new StringBuilder();
        text.AppendLine($"### In-process ExplainerHost against `sacam serve` through SaCam.Client (MobileNetV2, {seconds:F0} s each, frames submitted at 120 Hz)\n");
        text.AppendLine("| frame | method | host | explained fps | ratio to in-process | latency ms (median) | TrySubmit ms (median) | TryGetLatest ms, with a result (median) | frame-loop calls p99 ms | server's own overhead ms (median) |");
        text.AppendLine("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var (w, h) in new[] { (1280, 720), (1920, 1080) })
        {
            var frames = Frames(w, h, 8);
            foreach (var method in new[] { "gradcam", "sacam-rt" })
            {
                var inProcess = InProcess(frames, w, h, method, seconds);
                var client = ThroughClient(frames, w, h, method, seconds);
                Row(text, w, h, method, "in-process ExplainerHost (.NET 10)", inProcess, inProcess);
                Row(text, w, h, method, "SaCam.Client (.NET 10) + sacam serve", client, inProcess);
                if (MonoHarness() is { } harness)
                    Row(text, w, h, method, "SaCam.Client under Mono 6.8 + sacam serve", UnderMono(harness, w, h, method, seconds), inProcess);
            }
        }
        text.AppendLine();
        text.AppendLine("Latency: frame submitted to result read, as the frame loop sees it (polled at 120 Hz: about 4 ms of it is the poll). " +
                        "The server's own overhead: its result's latency minus its explain time (taking the frame from shared memory, RGBA to BGR, writing the map). " +
                        "In-process, ExplainerHost also composites an RGBA overlay per result; the server sends the map only (the engine blends it on the GPU). " +
                        "Under Mono, frames come from ffmpeg (the clip decoded, scaled and paced to 60 fps on the same 2 cores as the server), and the TrySubmit/TryGetLatest split is not measured (-): those rows are bounded by that source, not by the client; the client's own cost under Mono is its calls' p99. Added per frame = TrySubmit + TryGetLatest + the server's overhead.");
        return text.ToString();
    }

    private static void Row(StringBuilder text, int w, int h, string method, string host, Outcome o, Outcome baseline) =>
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"| {w}x{h} | {method} | {host} | {o.Fps:F1} | {o.Fps / baseline.Fps:F2}x | {o.LatencyMs:F1} | {Cell(o.SubmitMs)} | {Cell(o.ReadMs)} | {Cell(o.CallP99Ms)} | {Cell(o.ServerOverheadMs)} |"));

    private static string Cell(double v) => double.IsNaN(v) ? "-" : v.ToString("F2", CultureInfo.InvariantCulture);

    /// <summary>Frames of the project's clip scaled to the size, as RGBA rows top first.</summary>
    private byte[][] Frames(int width, int height, int count)
    {
        using var capture = new VideoCapture(Path.Combine(repoRoot, "media", "street_clip.mp4"));
        var frames = new List<byte[]>();
        using var bgr = new Mat();
        while (frames.Count < count && capture.Read(bgr) && !bgr.Empty())
        {
            using var scaled = bgr.Resize(new Size(width, height));
            using var rgba = scaled.CvtColor(ColorConversionCodes.BGR2RGBA);
            var bytes = new byte[width * height * 4];
            System.Runtime.InteropServices.Marshal.Copy(rgba.Data, bytes, 0, bytes.Length);
            frames.Add(bytes);
        }
        return [.. frames];
    }

    private Outcome InProcess(byte[][] frames, int width, int height, string method, double seconds)
    {
        using var model = ModelCatalog.Load(Model);
        using var explainer = method == "sacam-rt" ? new FrameExplainer(model, new RealtimeSaCam(new RealtimeSaCamOptions())) : new FrameExplainer(model, method);
        using var host = new ExplainerHost(explainer, new FrameRenderer(new RenderOptions { Hud = false }));
        var submittedAt = new Dictionary<long, long>();
        var latencies = new List<double>();
        var submits = new List<double>();
        long last = -1, results = 0;
        var clock = Stopwatch.StartNew();
        double firstResult = double.NaN;
        for (int tick = 0; clock.Elapsed.TotalSeconds < seconds + (double.IsNaN(firstResult) ? 60 : 0) && (double.IsNaN(firstResult) || clock.Elapsed.TotalSeconds - firstResult < seconds); tick++)
        {
            long start = Stopwatch.GetTimestamp();
            long id = host.Submit(frames[tick % frames.Length], width, height);
            submits.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            submittedAt[id] = Stopwatch.GetTimestamp();
            if (host.TryGetLatest(out var result) && result is not null && result.FrameId != last)
            {
                last = result.FrameId;
                if (double.IsNaN(firstResult)) firstResult = clock.Elapsed.TotalSeconds;
                else results++;
                if (submittedAt.TryGetValue(result.FrameId, out long at)) latencies.Add(Stopwatch.GetElapsedTime(at).TotalMilliseconds);
            }
            Thread.Sleep(8);
        }
        if (host.Failure is not null) throw host.Failure;
        return new Outcome(results / (clock.Elapsed.TotalSeconds - firstResult), Median(latencies), Median(submits), double.NaN, double.NaN, double.NaN);
    }

    private Outcome ThroughClient(byte[][] frames, int width, int height, string method, double seconds)
    {
        using var client = new SaCamClient(new SaCamClientOptions
        {
            ServerPath = Sacam, ServerArguments = ["--model", Model, "--method", method], MaxWidth = width, MaxHeight = height, IdleExitSeconds = 10,
        });
        client.Start();
        var result = new SaCamResult();
        var submittedAt = new long[4096];
        var latencies = new List<double>();
        var submits = new List<double>();
        var reads = new List<double>();
        var calls = new List<double>();
        var overhead = new List<double>();
        long results = 0;
        var clock = Stopwatch.StartNew();
        double firstResult = double.NaN;
        for (int tick = 0; clock.Elapsed.TotalSeconds < 120 && (double.IsNaN(firstResult) || clock.Elapsed.TotalSeconds - firstResult < seconds); tick++)
        {
            if (client.State == ClientState.Failed) throw new InvalidOperationException(client.LastError);
            long start = Stopwatch.GetTimestamp();
            bool taken = client.TrySubmit(frames[tick % frames.Length], width, height);
            double submitMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            long readStart = Stopwatch.GetTimestamp();
            bool got = client.TryGetLatest(result);
            double readMs = Stopwatch.GetElapsedTime(readStart).TotalMilliseconds;
            calls.Add(submitMs + readMs);
            if (taken)
            {
                submits.Add(submitMs);
                submittedAt[client.Stats.Submitted % submittedAt.Length] = Stopwatch.GetTimestamp();
            }
            if (got)
            {
                reads.Add(readMs);
                if (double.IsNaN(firstResult)) firstResult = clock.Elapsed.TotalSeconds;
                else results++;
                latencies.Add(Stopwatch.GetElapsedTime(submittedAt[result.FrameId % submittedAt.Length]).TotalMilliseconds);
                overhead.Add(result.LatencyMs - result.ExplainMs);
            }
            Thread.Sleep(8);
        }
        calls.Sort();
        return new Outcome(results / (clock.Elapsed.TotalSeconds - firstResult), Median(latencies), Median(submits), Median(reads),
            calls.Count == 0 ? double.NaN : calls[(int)(0.99 * (calls.Count - 1))], Median(overhead));
    }

    /// <summary>samples/EngineClient compiled for Mono as the tests do it, or null when Mono is not installed.</summary>
    private string? MonoHarness()
    {
        if (!SaCam.TestSupport.MonoHarness.MonoInstalled) return null;
        string output = Path.Combine(Path.GetTempPath(), "sacam-bench", "EngineClient.exe");
        return File.Exists(output) || SaCam.TestSupport.MonoHarness.Compile(repoRoot, output).Length == 0 ? output : null;
    }

    private Outcome UnderMono(string harness, int width, int height, string method, double seconds)
    {
        string folder = Directory.CreateTempSubdirectory("sacam-bench-mono-").FullName;
        string jsonl = Path.Combine(folder, "results.jsonl"), summary = Path.Combine(folder, "summary.json");
        var start = new ProcessStartInfo("mono");
        foreach (var a in new[] { harness, "--server", Sacam, "--model", Model, "--method", method, "--source", Path.Combine(repoRoot, "media", "street_clip.mp4"),
                     "--size", $"{width}x{height}", "--loop", "--frames", "100000", "--max-seconds", (seconds + 20).ToString(CultureInfo.InvariantCulture),
                     "--jsonl", jsonl, "--summary", summary })
            start.ArgumentList.Add(a);
        using (var mono = Process.Start(start)!) mono.WaitForExit();
        var lines = File.ReadAllLines(jsonl).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        // The same window as the others: from the first result, `seconds` long.
        double first = lines[0].GetProperty("received_s").GetDouble();
        var window = lines.Where(l => l.GetProperty("received_s").GetDouble() - first <= seconds).ToList();
        using var s = JsonDocument.Parse(File.ReadAllText(summary));
        return new Outcome((window.Count - 1) / seconds, Median(window.Select(l => l.GetProperty("e2e_ms").GetDouble()).ToList()), double.NaN, double.NaN,
            s.RootElement.GetProperty("call_p99_ms").GetDouble(), Median(window.Select(l => l.GetProperty("latency_ms").GetDouble() - l.GetProperty("explain_ms").GetDouble()).ToList()));
    }

    private static double Median(List<double> values)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }
}
