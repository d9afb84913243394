using System.Diagnostics;
using System.Text.Json;
using OpenCvSharp;

namespace SaCam.Tests;

/// <summary>
/// The samples of samples/ run as programs, as a user runs them (the solution builds them before these tests). The
/// webcam demo needs a camera, so it runs on the project's clip standing in for one: same code path, live mode.
/// </summary>
public class SampleTests : TempFolderTest
{
    private const string Configuration = SharedData.BuildConfiguration;

    private static (int Exit, string Out, string Err) RunSample(string name, IEnumerable<string> arguments, Dictionary<string, string?>? environment = null)
    {
        var dll = Path.Combine(SharedData.RepoRoot, "samples", name, "bin", Configuration, "net10.0", "linux-x64", name + ".dll");
        if (!File.Exists(dll)) Assert.Fail($"{dll} is missing: build the solution (it builds the samples).");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(dll);
        foreach (var a in arguments) start.ArgumentList.Add(a);
        foreach (var (key, value) in environment ?? []) start.Environment[key] = value;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{name} did not finish in 3 minutes");
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
        Assert.Multiple(() =>
        {
            Assert.That(int.Parse(loop.Groups[2].Value), Is.EqualTo(5), "five results arrived");
            Assert.That(int.Parse(loop.Groups[3].Value), Is.GreaterThan(0), "frames faster than the explainer were dropped");
            Assert.That(double.Parse(loop.Groups[4].Value, System.Globalization.CultureInfo.InvariantCulture), Is.LessThan(50), "Submit never waited");
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

    [Test]
    public void WebcamDemo_runs_live_on_a_stand_in_camera_and_records_without_a_display()
    {
        var recording = Path.Combine(Dir, "live.avi");
        var noDisplay = new Dictionary<string, string?> { ["DISPLAY"] = null, ["WAYLAND_DISPLAY"] = null };
        var (exit, stdout, stderr) = RunSample("WebcamDemo", [Clip, "--seconds", "3", "--out", recording], noDisplay);
        Assert.That(exit, Is.EqualTo(0), stderr);
        Assert.That(stdout, Does.Match(@"\d+ frames shown, \d+ dropped \(live mode\)"));
        Assert.That(VideoPipelineTests.CountDecodedFrames(recording), Is.GreaterThan(5), "the recording decodes");

        (exit, _, stderr) = RunSample("WebcamDemo", [Clip], noDisplay);
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("No display").And.Contain("--out"));
    }
}
