using System.Diagnostics;
using System.Text.Json;
using SaCam.TestSupport;

namespace SaCam.Tests;

/// <summary>
/// The client under a real Mono (Debian's 6.8, the runtime family Unity's Editor uses): samples/EngineClient and the
/// client's sources compiled as C# 9 by the SDK's compiler against Mono's own assemblies, run by `mono` against a real
/// `sacam serve`. Frames round-trip the right way up (both row orders), every frame handed over is accounted for
/// (explained or counted as dropped), the frame loop's calls never wait for the server and allocate nothing, and a
/// killed server is replaced mid-run. Nothing here depends on the machine's speed: the harness plays the clip once
/// the server is ready and again until it has the results asked for, and these tests ask for a count of results,
/// never for what arrives in a time window (they pass with both cores kept busy by another process).
/// </summary>
[TestFixture]
[NonParallelizable]
[NeedsPrograms("mono-runtime", "mono", "ffmpeg", "ffprobe")]
public class MonoClientTests : TempFolderTest
{
    private static readonly Lazy<string> Harness = new(CompileForMono);

    /// <summary>How long a run may take, server start and model load included, on a busy machine; a run normally ends
    /// when its results are in, in a fraction of this.</summary>
    private static readonly TimeSpan RunLimit = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The most a frame-loop call may take and still count as not having waited. A call that waited for the server would
    /// take at least its heartbeat timeout (3 s) through a kill and restart; a call that did not can still be preempted
    /// on a busy machine for tens of milliseconds, which says nothing about the client.
    /// </summary>
    private static readonly TimeSpan NeverWaited = TimeSpan.FromSeconds(1);

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
        foreach (var a in new[] { Harness.Value, "--server", SacamBuild.Executable, "--model", "default", "--method", "gradcam",
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
        var boxes = ProjectMedia.CarBoxes();
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
        var run = RunUnderMono(bottomUp ? "bottom-up" : "top-down", RunLimit, null,
            bottomUp ? ["--frames", "12", "--bottom-up"] : ["--frames", "12"]);
        var s = run.Summary;
        TestContext.Out.WriteLine(s.ToString());
        var frameIds = run.Results.Select(r => r.GetProperty("frame").GetInt64()).ToList();
        long submitted = s.GetProperty("submitted").GetInt64(), received = s.GetProperty("received").GetInt64();
        Assert.Multiple(() =>
        {
            Assert.That(s.GetProperty("runtime").GetString(), Is.EqualTo("mono"), "the harness ran on Mono");
            Assert.That(run.Results, Has.Count.EqualTo(12), "the results asked for: " + run.Output);
            Assert.That(received, Is.EqualTo(12));
            Assert.That(frameIds, Is.Ordered.Ascending.And.Unique, "results come newest last, each frame once");
            Assert.That(frameIds[^1], Is.LessThanOrEqualTo(submitted), "every result is of a frame handed over");
            Assert.That(OnTheCar(run.Results), Is.GreaterThanOrEqualTo(run.Results.Count * 3 / 4), "the map's peak on the car");
            // Every frame handed over was either taken by the server or replaced by a newer one before it could be
            // (newest frame wins), and counted so: the client's and the server's counts add up, however fast either is.
            Assert.That(s.GetProperty("settled").GetBoolean(), Is.True, "the server's counters caught up with the last frame");
            Assert.That(s.GetProperty("server_received").GetInt64() + s.GetProperty("dropped_before_server").GetInt64(), Is.EqualTo(submitted),
                "taken by the server + replaced before it = handed over");
            Assert.That(s.GetProperty("server_explained").GetInt64(), Is.InRange(received, s.GetProperty("server_received").GetInt64()),
                "explained: at least the results read, at most the frames taken");
            // The frame loop kept running between results: a loop whose calls waited for the server would make about
            // one call per result. (The harness ticks 120 times a second; no CPU explains at 60 frames a second.)
            Assert.That(s.GetProperty("calls_ready").GetInt64(), Is.GreaterThan(2 * received), "calls while the server was ready, per result");
            Assert.That(s.GetProperty("call_max_ms").GetDouble(), Is.LessThan(NeverWaited.TotalMilliseconds), "no call waited for the server");
            Assert.That(s.GetProperty("allocated_bytes_in_calls").GetInt64(), Is.Zero, "no allocation in the calls once running");
        });
    }

    [Test]
    public void Under_mono_a_killed_server_is_replaced_and_results_come_again()
    {
        string shm = Path.Combine(Dir, "shm");
        Directory.CreateDirectory(shm);
        int killed = 0;
        var run = RunUnderMono("kill", RunLimit, (process, jsonl) =>
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < RunLimit && !process.HasExited && !(File.Exists(jsonl) && File.ReadAllLines(jsonl).Length >= 3)) Thread.Sleep(50);
            var file = Directory.GetFiles(shm, "sacam-*.shm").Single();
            killed = int.Parse(Path.GetFileName(file).Split('-')[1]);
            Process.GetProcessById(killed).Kill(); // SIGKILL
        }, "--frames", "60", "--shm-dir", shm);
        var generations = run.Results.Select(r => r.GetProperty("generation").GetInt64()).Distinct().ToList();
        Assert.That(killed, Is.GreaterThan(0));
        Assert.That(generations, Has.Count.GreaterThanOrEqualTo(2), "results from the server started after the kill: " + run.Output);
        Assert.That(run.Results.Last().GetProperty("generation").GetInt64(), Is.Not.EqualTo(run.Results.First().GetProperty("generation").GetInt64()));
        Assert.That(OnTheCar(run.Results), Is.GreaterThanOrEqualTo(run.Results.Count * 3 / 4), "the new server's maps land on the car too");
        Assert.That(run.Summary.GetProperty("state").GetString(), Is.EqualTo("Ready"));
        Assert.That(run.Results, Has.Count.EqualTo(60), "the results asked for, across the restart");
        Assert.That(run.Summary.GetProperty("call_max_ms").GetDouble(), Is.LessThan(NeverWaited.TotalMilliseconds),
            "the frame loop did not wait through the kill and restart, not even once (the first calls include Mono's JIT)");
    }

    /// <summary>
    /// The README's Mono path as printed: build/engine-client-mono.sh with no argument writes
    /// artifacts/mono/EngineClient.exe, and `mono` runs it with samples/README.md's EngineClient arguments (the server
    /// this build made for ~/.local/bin/sacam) to the results asked for.
    /// </summary>
    [Test]
    public void The_documented_mono_build_and_command_get_the_results_they_ask_for()
    {
        var (exit, said) = MonoHarness.RunScript(SharedData.RepoRoot);
        Assert.That(exit, Is.Zero, said);
        string exe = Path.Combine(SharedData.RepoRoot, "artifacts", "mono", "EngineClient.exe");
        Assert.That(said, Does.Contain("built " + exe));
        var arguments = ProjectMedia.DocumentedEngineClientArguments();
        arguments[arguments.IndexOf("--server") + 1] = SacamBuild.Executable;
        int source = arguments.IndexOf("--source");
        Directory.CreateDirectory(Path.Combine(Dir, Path.GetDirectoryName(arguments[source + 1])!));
        File.Copy(Path.Combine(SharedData.RepoRoot, arguments[source + 1]), Path.Combine(Dir, arguments[source + 1]));
        var start = new ProcessStartInfo("mono") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Dir };
        start.ArgumentList.Add(exe);
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(RunLimit))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"mono EngineClient.exe ran past {RunLimit.TotalMinutes:F0} minutes");
        }
        process.WaitForExit();
        Assert.That(process.ExitCode, Is.Zero, stdout.Result + stderr.Result);
        int frames = int.Parse(arguments[arguments.IndexOf("--frames") + 1]);
        Assert.That(File.ReadAllLines(Path.Combine(Dir, arguments[arguments.IndexOf("--jsonl") + 1])), Has.Length.EqualTo(frames));
        Assert.That(stdout.Result, Does.Contain("\"runtime\":\"mono\"").And.Contain($"\"received\":{frames},"));
    }

    [Test]
    public void The_mono_build_script_refuses_extra_arguments_with_its_usage()
    {
        var (exit, said) = MonoHarness.RunScript(SharedData.RepoRoot, "one.exe", "two.exe");
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(said, Does.Contain("usage: build/engine-client-mono.sh [OUTPUT]"));
    }
}
