using System.Diagnostics;
using System.Text.Json;
using OpenCvSharp;
using SaCam.TestSupport;

namespace SaCam.Tests;

/// <summary>
/// The samples of samples/ run as programs, as a user runs them (the solution builds them before these tests). The
/// webcam demo needs a camera, so it runs on the project's clip standing in for one: same code path, live mode.
/// What they assert holds on any machine, busy or not: counts that add up, never what arrives in a time window.
/// </summary>
public class SampleTests : TempFolderTest
{
    private const string Configuration = SharedData.BuildConfiguration;

    /// <summary>How long a sample may run on a busy machine (model load and server start included) before it counts as hung.</summary>
    private static readonly TimeSpan SampleLimit = TimeSpan.FromMinutes(5);

    /// <summary>The most a frame-loop call may take and still count as not having waited for the explainer: a call
    /// that waited would wait for explanations, over and over; one preempted on a busy machine loses milliseconds.</summary>
    private static readonly TimeSpan NeverWaited = TimeSpan.FromSeconds(1);

    private static (int Exit, string Out, string Err) RunSample(string name, IEnumerable<string> arguments, Dictionary<string, string?>? environment = null,
        string? workingDirectory = null)
    {
        var dll = Path.Combine(SharedData.RepoRoot, "samples", name, "bin", Configuration, "net10.0", "linux-x64", name + ".dll");
        if (!File.Exists(dll)) Assert.Fail($"{dll} is missing: build the solution (it builds the samples).");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(dll);
        foreach (var a in arguments) start.ArgumentList.Add(a);
        foreach (var (key, value) in environment ?? []) start.Environment[key] = value;
        if (workingDirectory is not null) start.WorkingDirectory = workingDirectory;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(SampleLimit))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{name} did not finish in {SampleLimit.TotalMinutes:F0} minutes");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    private static string Clip => Path.Combine(SharedData.RepoRoot, "media", "street_clip.mp4");

    [Test]
    public void AnnotateFolder_writes_an_overlay_and_a_json_line_for_every_frame_in_order()
    {
        var frames = Directory.CreateDirectory(Path.Combine(Dir, "frames")).FullName;
        using (var capture = new VideoCapture(Clip))
        using (var frame = new Mat())
            for (int i = 0; i < 6 && capture.Read(frame); i++) Cv2.ImWrite(Path.Combine(frames, $"{i:D6}.png"), frame);
        var output = Path.Combine(Dir, "annotated");
        var (exit, stdout, stderr) = RunSample("AnnotateFolder", [frames, output, "--method", "gradcam"]);
        Assert.That(exit, Is.EqualTo(0), stderr);
        Assert.That(stdout, Does.Contain("6 of 6 frames annotated with gradcam"));
        var lines = File.ReadAllLines(Path.Combine(output, "frames.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.That(lines.Select(l => l.GetProperty("index").GetInt64()), Is.EqualTo(new long[] { 0, 1, 2, 3, 4, 5 }));
        var overlays = Directory.GetFiles(Path.Combine(output, "overlays"), "*.png").Order().ToList();
        Assert.That(overlays, Has.Count.EqualTo(6));
        using var first = Cv2.ImRead(overlays[0]);
        using var original = Cv2.ImRead(Path.Combine(frames, "000000.png"));
        Assert.That((first.Width, first.Height), Is.EqualTo((2 * original.Width, original.Height)), "original | overlay side by side");

        (exit, _, stderr) = RunSample("AnnotateFolder", [Path.Combine(Dir, "no-frames"), output]);
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(stderr, Does.Contain("no-frames"));
    }

    [Test]
    public void EmbedExplainer_explains_an_image_and_runs_a_frame_loop_that_never_waits()
    {
        var overlay = Path.Combine(Dir, "overlay.png");
        var (exit, stdout, stderr) = RunSample("EmbedExplainer", [Path.Combine(SharedData.RepoRoot, "media", "street_scene.png"), overlay]);
        Assert.That(exit, Is.EqualTo(0), stderr);
        Assert.That(stdout, Does.Contain("gradcam on street_scene.png").And.Contain("map 224x224"));
        using var image = Cv2.ImRead(overlay);
        Assert.That(image.Empty(), Is.False, "the overlay decodes");
        var loop = System.Text.RegularExpressions.Regex.Match(stdout, @"(\d+) frames submitted, (\d+) explained, (\d+) dropped; slowest Submit ([\d.]+) ms");
        Assert.That(loop.Success, stdout);
        long submitted = long.Parse(loop.Groups[1].Value), explained = long.Parse(loop.Groups[2].Value), dropped = long.Parse(loop.Groups[3].Value);
        Assert.Multiple(() =>
        {
            Assert.That(explained, Is.GreaterThanOrEqualTo(5), "the five results the loop waits for arrived");
            // Each frame submitted was explained, replaced by a newer one (dropped), or is still in hand: the one being
            // explained and the one waiting.
            Assert.That(submitted - explained - dropped, Is.InRange(0, 2), "submitted = explained + dropped + in hand");
            // The loop submits every 10 ms; sacam-rt takes several passes of ResNet18 a frame, more than 10 ms on any
            // CPU, and a busy machine only makes it slower: frames are always replaced while it works.
            Assert.That(dropped, Is.GreaterThan(0), "frames faster than the explainer were dropped");
            // A Submit that waited for the explainer would give about one submission per result.
            Assert.That(submitted, Is.GreaterThan(2 * explained), "the loop kept submitting while the explainer worked");
            Assert.That(double.Parse(loop.Groups[4].Value, System.Globalization.CultureInfo.InvariantCulture), Is.LessThan(NeverWaited.TotalMilliseconds), "Submit never waited");
        });
    }

    /// <summary>Each sample takes a device; on this CPU build, cuda is one line naming the build switch, not a crash.</summary>
    [TestCase("EmbedExplainer", "media/street_scene.png")]
    [TestCase("AnnotateFolder", "media", "OUT")]
    [TestCase("WebcamDemo", "media/street_clip.mp4", "--out", "OUT/live.avi")]
    public void Asking_a_sample_for_cuda_on_a_cpu_build_names_the_build_switch(string sample, params string[] arguments)
    {
        var resolved = arguments.Select(a => a.StartsWith("media") ? Path.Combine(SharedData.RepoRoot, a) : a.Replace("OUT", Dir));
        var (exit, _, stderr) = RunSample(sample, [.. resolved, "--device", "cuda"]);
        Assert.That(exit, Is.EqualTo(1), stderr);
        Assert.That(stderr, Does.StartWith($"{sample}: ").And.Contain("SaCamTorchBackend=cuda").And.Not.Contain("   at "));
    }

    /// <summary>The clip plays as a camera would (paced to its frame rate, live mode) to its end: every one of its frames
    /// is shown or dropped, and the recording holds exactly the frames shown. How many are shown depends on the
    /// machine's speed; that they add up does not.</summary>
    [Test]
    public void WebcamDemo_runs_live_on_a_stand_in_camera_and_records_without_a_display()
    {
        var recording = Path.Combine(Dir, "live.avi");
        var noDisplay = new Dictionary<string, string?> { ["DISPLAY"] = null, ["WAYLAND_DISPLAY"] = null };
        var (exit, stdout, stderr) = RunSample("WebcamDemo", [Clip, "--out", recording], noDisplay);
        Assert.That(exit, Is.EqualTo(0), stderr);
        var counts = System.Text.RegularExpressions.Regex.Match(stdout, @"(\d+) frames shown, (\d+) dropped \(live mode\)");
        Assert.That(counts.Success, stdout);
        int shown = int.Parse(counts.Groups[1].Value), dropped = int.Parse(counts.Groups[2].Value);
        Assert.Multiple(() =>
        {
            Assert.That(shown + dropped, Is.EqualTo(ProjectMedia.CarBoxes().Count), "every frame of the clip shown or dropped");
            Assert.That(shown, Is.GreaterThanOrEqualTo(1));
            Assert.That(VideoFiles.CountDecodedFrames(recording), Is.EqualTo(shown), "the recording decodes, one frame per frame shown");
        });

        (exit, _, stderr) = RunSample("WebcamDemo", [Clip], noDisplay);
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("No display").And.Contain("--out"));
    }

    /// <summary>
    /// samples/README.md's EngineClient command, word for word, but for --server (the sacam this build made instead of
    /// an installed one), run from a folder that has the project's clip where the command expects it: it ends with
    /// the results it asked for, however long the server takes to start. (The clip used to play while the model
    /// loaded and be over before the first frame could be explained: 0 results, exit 1.)
    /// </summary>
    [Test]
    [NeedsPrograms("ffmpeg", "ffmpeg", "ffprobe")]
    public void EngineClient_as_documented_gets_the_results_it_asks_for()
    {
        var arguments = ProjectMedia.DocumentedEngineClientArguments();
        int server = arguments.IndexOf("--server");
        Assert.That(arguments[server + 1], Is.EqualTo("~/.local/bin/sacam"), "the documented server is the installed one");
        arguments[server + 1] = SacamBuild.Executable;
        // The command's relative paths (media/street_clip.mp4, out.jsonl) resolved in a folder of the test's own.
        int source = arguments.IndexOf("--source");
        Directory.CreateDirectory(Path.Combine(Dir, Path.GetDirectoryName(arguments[source + 1])!));
        File.Copy(Path.Combine(SharedData.RepoRoot, arguments[source + 1]), Path.Combine(Dir, arguments[source + 1]));
        var (exit, stdout, stderr) = RunSample("EngineClient", arguments, workingDirectory: Dir);
        Assert.That(exit, Is.EqualTo(0), stdout + stderr);
        int frames = int.Parse(arguments[arguments.IndexOf("--frames") + 1]);
        var results = File.ReadAllLines(Path.Combine(Dir, arguments[arguments.IndexOf("--jsonl") + 1])).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        using var summary = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        Assert.Multiple(() =>
        {
            Assert.That(results, Has.Count.EqualTo(frames), "one line per result asked for");
            Assert.That(results.Select(r => r.GetProperty("frame").GetInt64()), Is.Ordered.Ascending.And.Unique);
            Assert.That(results.All(r => r.GetProperty("status").GetInt32() == 0 && r.GetProperty("map").GetString() != "0x0"), "every result holds a map");
            Assert.That(summary.RootElement.GetProperty("received").GetInt64(), Is.EqualTo(frames));
            Assert.That(summary.RootElement.GetProperty("state").GetString(), Is.EqualTo("Ready"));
        });
    }

}
