using System.Text.RegularExpressions;

namespace SaCam.Tests;

/// <summary>
/// A normal `sacam video` run says on stderr only what sacam says: the progress line and its own warnings. libtorch
/// printed "Could not initialize NNPACK! Reason: Unsupported hardware." 312 times in a 150-frame run on the ONNX
/// model, burying both (issue 20 section 6). Run as a child process: native code writes to the process's stderr,
/// which Console.SetError does not catch.
/// </summary>
[TestFixture]
public class QuietStderrTests : TempFolderTest
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(10);

    [NeedsSharedData]
    [Test, Category("Slow")]
    public void A_video_run_on_the_onnx_model_writes_only_progress_and_sacams_own_lines_to_stderr()
    {
        var clip = SharedData.Path_("media", "driving", "lane_dashcam.mp4");
        var video = Path.Combine(Dir, "out.mp4");
        using var run = CliProcess.Start("video", clip, "--model", SharedData.MobileNetV2, "--max-frames", "12", "--out", video);
        Assert.That(run.WaitForExit(RunTimeout), Is.True, $"sacam video did not end within {RunTimeout}");
        var lines = run.Error.Split('\r', '\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        // The progress line ("frames 3/12  2.1 fps ETA 00:04") and sacam's own notes and warnings ("sacam: ...").
        var foreign = lines.Where(l => !Regex.IsMatch(l, @"^frames \d+") && !l.StartsWith("sacam:", StringComparison.Ordinal)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
            Assert.That(lines, Has.Some.Match(@"^frames \d+"), "the progress line is there");
            Assert.That(run.Error, Does.Not.Contain("NNPACK"));
            Assert.That(foreign, Is.Empty, "lines on stderr that are neither progress nor sacam's own");
        });
    }
}
