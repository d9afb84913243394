using System.Diagnostics;
using System.Text.Json;
using SaCam.TestSupport;

namespace SaCam.Tests;

/// <summary>
/// The client under a real Mono (Debian's 6.8, the runtime family Unity's Editor uses): samples/EngineClient and the
/// client's sources compiled as C# 9 by the SDK's compiler against Mono's own assemblies, run by `mono` against a real
/// `sacam serve`. Frames round-trip the right way up (both row orders), drops are counted, the frame loop's calls
/// stay under 2 ms at p99 at 120 calls a second without allocating, and a killed server is replaced mid-run.
/// </summary>
[TestFixture]
[NonParallelizable]
[NeedsPrograms("mono-runtime", "mono", "ffmpeg", "ffprobe")]
public class MonoClientTests : TempFolderTest
{
    private static readonly Lazy<string> Harness = new(CompileForMono);

    /// <summary>The SDK's Roslyn (C# 9 forced) against /usr/lib/mono/4.5: what Unity does with the package's scripts.</summary>
    private static string CompileForMono()
    {
        string output = Path.Combine(Path.GetTempPath(), $"sacam-mono-{Environment.ProcessId}", "EngineClient.exe");
        string errors = MonoHarness.Compile(SharedData.RepoRoot, output);
        if (errors.Length > 0) throw new InvalidOperationException("the client does not compile as C# 9 against Mono's assemblies:\n" + errors);
        return output;
    }

    private sealed record Run(List<JsonElement> Results, JsonElement Summary, string Output);

    private Run RunUnderMono(string name, TimeSpan timeout, Action<Process, string>? during = null, params string[] extra)
    {
        string jsonl = Path.Combine(Dir, name + ".jsonl"), summary = Path.Combine(Dir, name + ".summary.json");
        var start = new ProcessStartInfo("mono") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { Harness.Value, "--server", ServeTests.SacamExecutable, "--model", "default", "--method", "gradcam",
                     "--target", "exemplar:" + Path.Combine(SharedData.RepoRoot, "media", "street_car.png"),
                     "--source", Path.Combine(SharedData.RepoRoot, "media", "street_clip.mp4"), "--jsonl", jsonl, "--summary", summary }.Concat(extra))
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var output = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        during?.Invoke(process, jsonl);
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"the Mono harness ran past {timeout.TotalSeconds:F0} s: {output}");
        }
        process.WaitForExit();
        Assert.That(process.ExitCode, Is.Zero, output.ToString());
        var results = File.ReadAllLines(jsonl).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        return new Run(results, JsonDocument.Parse(File.ReadAllText(summary)).RootElement, output.ToString());
    }

    private static int OnTheCar(IEnumerable<JsonElement> results)
    {
        var boxes = FirstHourTests.CarBoxes();
        return results.Count(r =>
        {
            var (x, y, w, h) = boxes[r.GetProperty("source_frame").GetInt64() % boxes.Count];
            double px = r.GetProperty("peak_x").GetDouble() * 640, py = r.GetProperty("peak_y").GetDouble() * 360;
            return px >= x && px <= x + w && py >= y && py <= y + h;
        });
    }

    [TestCase(false)]
    [TestCase(true)]
    public void Under_mono_frames_round_trip_the_right_way_up_and_the_frame_loop_never_waits(bool bottomUp)
    {
        var run = RunUnderMono(bottomUp ? "bottom-up" : "top-down", TimeSpan.FromSeconds(120), null,
            bottomUp ? ["--frames", "12", "--bottom-up"] : ["--frames", "12"]);
        var s = run.Summary;
        TestContext.Out.WriteLine(s.ToString());
        Assert.Multiple(() =>
        {
            Assert.That(s.GetProperty("runtime").GetString(), Is.EqualTo("mono"), "the harness ran on Mono");
            Assert.That(run.Results, Has.Count.GreaterThanOrEqualTo(8), run.Output);
            Assert.That(OnTheCar(run.Results), Is.GreaterThanOrEqualTo(run.Results.Count * 3 / 4), "the map's peak on the car");
            Assert.That(s.GetProperty("call_p99_ms").GetDouble(), Is.LessThan(2), "the frame loop's calls, p99");
            Assert.That(s.GetProperty("calls").GetInt32(), Is.GreaterThan(100));
            Assert.That(s.GetProperty("allocated_bytes_in_calls").GetInt64(), Is.Zero, "no allocation in the calls once running");
            Assert.That(s.GetProperty("submitted").GetInt64(), Is.GreaterThan(run.Results.Count), "frames faster than the explainer: some replaced before the server took them");
            Assert.That(s.GetProperty("dropped_before_server").GetInt64(), Is.GreaterThan(0), "the replaced frames are counted");
        });
    }

    [Test]
    public void Under_mono_a_killed_server_is_replaced_and_results_come_again()
    {
        string shm = Path.Combine(Dir, "shm");
        Directory.CreateDirectory(shm);
        int killed = 0;
        var run = RunUnderMono("kill", TimeSpan.FromSeconds(150), (process, jsonl) =>
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(90) && !(File.Exists(jsonl) && File.ReadAllLines(jsonl).Length >= 3)) Thread.Sleep(50);
            var file = Directory.GetFiles(shm, "sacam-*.shm").Single();
            killed = int.Parse(Path.GetFileName(file).Split('-')[1]);
            Process.GetProcessById(killed).Kill(); // SIGKILL
        }, "--frames", "60", "--loop", "--shm-dir", shm, "--max-seconds", "120");
        var generations = run.Results.Select(r => r.GetProperty("generation").GetInt64()).Distinct().ToList();
        Assert.That(killed, Is.GreaterThan(0));
        Assert.That(generations, Has.Count.GreaterThanOrEqualTo(2), "results from the server started after the kill: " + run.Output);
        Assert.That(run.Results.Last().GetProperty("generation").GetInt64(), Is.Not.EqualTo(run.Results.First().GetProperty("generation").GetInt64()));
        Assert.That(OnTheCar(run.Results), Is.GreaterThanOrEqualTo(run.Results.Count * 3 / 4), "the new server's maps land on the car too");
        Assert.That(run.Summary.GetProperty("state").GetString(), Is.EqualTo("Ready"));
        Assert.That(run.Summary.GetProperty("call_p99_ms").GetDouble(), Is.LessThan(2), "the frame loop did not wait through the kill and restart");
        Assert.That(run.Summary.GetProperty("call_max_ms").GetDouble(), Is.LessThan(100), "not even once (the first calls include Mono's JIT)");
    }
}
