using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace SaCam.Tests;

/// <summary>
/// Stopping `sacam video` as a user or a service manager does: SIGINT (Ctrl+C) or SIGTERM (kill, docker stop) to
/// the running program. It must stop soon, exit normally and leave every output closed and holding the same frames:
/// the video decodes, the JSON Lines parse to the last line, one map per line.
/// </summary>
public class CancellationTests : TempFolderTest
{
    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    private const int SigInt = 2, SigTerm = 15;

    [NeedsSharedData]
    [TestCase(SigTerm)]
    [TestCase(SigInt)]
    [Platform("Linux")]
    public void A_stop_signal_ends_the_video_command_and_every_output_holds_the_frames_done(int signal)
    {
        string video = Path.Combine(Dir, "out.mp4"), jsonl = Path.Combine(Dir, "frames.jsonl"), maps = Path.Combine(Dir, "maps");
        // 221 frames at a 300 ms budget: over a minute of work, so the signal lands mid-run.
        using var process = CliProcess.Start("video", SharedData.Path_("media", "driving", "lane_dashcam.mp4"), "--model", SharedData.MobileNetV2,
            "--method", "sacam-rt", "--budget-ms", "300", "--mode", "exact", "--out", video, "--jsonl", jsonl, "--save-maps", maps);
        SacamBuild.WaitFor(() => LineCount(jsonl) >= 3, process);
        Assert.That(SignalIgnoredBy(process.Id, signal), Is.False, $"the program under test ignores signal {signal}");
        Assert.That(kill(process.Id, signal), Is.EqualTo(0), $"signal {signal} sent");
        var signalled = Stopwatch.StartNew();
        Assert.That(process.WaitForExit(TimeSpan.FromSeconds(30)), Is.True, $"the program stops within 30 s of signal {signal}");
        TestContext.Out.WriteLine($"stopped {signalled.ElapsedMilliseconds} ms after signal {signal}");

        var lines = File.ReadAllLines(jsonl).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        int decoded = VideoFiles.CountDecodedFrames(video);
        Assert.Multiple(() =>
        {
            Assert.That(process.ExitCode, Is.EqualTo(0), process.Error);
            Assert.That(process.Output, Does.Contain(", cancelled"));
            Assert.That(lines.Count, Is.InRange(3, 220), "stopped mid-clip");
            Assert.That(lines.Select(l => l.GetProperty("index").GetInt64()), Is.EqualTo(Enumerable.Range(0, lines.Count).Select(i => (long)i)));
            Assert.That(decoded, Is.EqualTo(lines.Count), "the video holds exactly the frames the JSON Lines describe");
            Assert.That(Directory.GetFiles(maps, "*.npy"), Has.Length.EqualTo(lines.Count));
        });
    }

    /// <summary>Whether process <paramref name="pid"/> ignores <paramref name="signal"/> (the SigIgn mask in /proc).</summary>
    private static bool SignalIgnoredBy(int pid, int signal)
    {
        var mask = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("SigIgn:"))["SigIgn:".Length..].Trim();
        return (Convert.ToUInt64(mask, 16) & (1UL << (signal - 1))) != 0;
    }

    private static int LineCount(string path)
    {
        if (!File.Exists(path)) return 0;
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        int n = 0;
        while (reader.ReadLine() is not null) n++;
        return n;
    }
}
