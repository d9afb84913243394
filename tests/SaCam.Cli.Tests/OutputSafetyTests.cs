using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using SaCam.Cli;
using SaCam.Core.IO;
using SaCam.TestSupport;

namespace SaCam.Tests;

/// <summary>
/// Outputs never destroy data, in the cases that need more than one command line: a disk that fills up, two runs
/// on one output, a SIGKILL, a rerun into a run folder. (The one-command cases are rows of docs/bad-input.md.)
/// </summary>
[TestFixture]
[Platform("Linux")]
public class OutputSafetyTests : TempFolderTest
{
    private static string Clip => Path.Combine(SharedData.RepoRoot, "media", "street_clip.mp4");

    [DllImport("libc", SetLastError = true)]
    private static extern int mount(string source, string target, string type, ulong flags, string data);

    [DllImport("libc", SetLastError = true)]
    private static extern int umount(string target);

    /// <summary>
    /// On a 6 MB file system (a tmpfs the test mounts; it needs root, which CI has), a video bigger than the disk:
    /// OpenCV's writer alone would print "Failed to write frame" and the run exit 0 with a broken file. The run
    /// must stop with exit 1 saying the disk is full, and what it wrote must stay readable: the video holds exactly
    /// the frames the JSON Lines list.
    /// </summary>
    [NeedsSharedData]
    [TestCase(".avi")]
    [TestCase(".mp4")]
    [TestCase(".mkv")]
    public void A_full_disk_stops_the_run_and_keeps_what_was_written(string extension)
    {
        var disk = Path.Combine(Dir, "small-disk");
        Directory.CreateDirectory(disk);
        if (mount("tmpfs", disk, "tmpfs", 0, "size=6m") != 0)
            Requirement.Missing("A 6 MB tmpfs for the full-disk test", $"mount failed (errno {Marshal.GetLastWin32Error()}): run the tests as root, as CI does");
        try
        {
            string video = Path.Combine(disk, "out" + extension), jsonl = Path.Combine(disk, "frames.jsonl");
            var (exit, stdout, stderr) = SacamInProcess.Run("video", SharedData.Path_("media", "driving", "lane_dashcam.mp4"), "--method", "none",
                "--max-frames", "300", "--out", video, "--jsonl", jsonl);
            int lines = File.ReadAllLines(jsonl).Length;
            Assert.Multiple(() =>
            {
                Assert.That(exit, Is.EqualTo(CliRunner.Failed), stdout);
                Assert.That(stderr, Does.Contain($"Writing '{video}' stopped after").And.Contain("its disk is full"));
                Assert.That(lines, Is.InRange(1, 299), "stopped part-way");
                Assert.That(VideoFiles.CountDecodedFrames(video), Is.EqualTo(lines), "the video decodes and holds every frame the JSON Lines list");
            });
        }
        finally
        {
            umount(disk);
        }
    }

    /// <summary>While one run holds an output (here: this test holds its lock, as a running sacam does), a second
    /// run on the same output, named through another path, is refused at once and leaves the file alone.</summary>
    [Test]
    public void A_second_run_on_the_same_output_is_refused()
    {
        var video = Path.Combine(Dir, "shared.mp4");
        File.WriteAllText(video, "the first run's file");
        Directory.CreateDirectory(Path.Combine(Dir, "sub"));
        using (OutputLock.Acquire(video, "--out"))
        {
            var (exit, _, stderr) = SacamInProcess.Run("video", Clip, "--max-frames", "2", "--out", Path.Combine(Dir, "sub", "..", "shared.mp4"));
            Assert.Multiple(() =>
            {
                Assert.That(exit, Is.EqualTo(CliRunner.Failed));
                Assert.That(stderr, Does.Contain("is being written by another sacam run").And.Contain($"(pid {Environment.ProcessId})"));
                Assert.That(File.ReadAllText(video), Is.EqualTo("the first run's file"));
            });
        }
        var (after, _, afterErr) = SacamInProcess.Run("video", Clip, "--method", "none", "--max-frames", "2", "--out", video);
        Assert.That(after, Is.EqualTo(0), "the lock ends with the run that held it: " + afterErr);
    }

    /// <summary>Two real processes on one output: the second is refused while the first runs, and the first's
    /// video comes out whole.</summary>
    [Test]
    public void Two_processes_on_one_output_leave_one_whole_file()
    {
        var video = Path.Combine(Dir, "out.mkv");
        using var first = CliProcess.Start("video", Clip, "--method", "none", "--mode", "live", "--out", video);
        try
        {
            // Running, with its output claimed (the file itself may still be empty: FFmpeg writes in 32 KB blocks).
            SacamBuild.WaitFor(() => first.Error.Contains("frames "), first);
            using var second = CliProcess.Start("video", Clip, "--method", "none", "--max-frames", "3", "--out", video);
            Assert.That(second.WaitForExit(TimeSpan.FromMinutes(1)), Is.True);
            Assert.Multiple(() =>
            {
                Assert.That(second.ExitCode, Is.EqualTo(CliRunner.Failed));
                Assert.That(second.Error, Does.Contain("is being written by another sacam run").And.Contain($"(pid {first.Id})"));
            });
            Assert.That(first.WaitForExit(TimeSpan.FromMinutes(1)), Is.True);
            Assert.That(first.ExitCode, Is.EqualTo(0), first.Error);
            Assert.That(VideoFiles.CountDecodedFrames(video), Is.GreaterThan(0), "the first run's video is whole");
        }
        finally
        {
            if (!first.HasExited) first.Kill();
        }
    }

    /// <summary>SIGKILL gives a program no chance to close its files: an mp4 then has no index and is lost, but
    /// Matroska and MJPG AVI keep the frames written before the kill (FFmpeg writes in 32 KB blocks, so the last
    /// few frames can be missing). Dashcam footage, so that the blocks fill many times over.</summary>
    [NeedsSharedData]
    [TestCase(".mkv")]
    [TestCase(".avi")]
    public void A_crash_safe_container_survives_sigkill(string extension)
    {
        var video = Path.Combine(Dir, "killed" + extension);
        var jsonl = Path.Combine(Dir, "frames.jsonl");
        using var run = CliProcess.Start("video", SharedData.Path_("media", "driving", "lane_dashcam.mp4"), "--method", "none", "--mode", "exact",
            "--out", video, "--jsonl", jsonl);
        SacamBuild.WaitFor(() => File.Exists(jsonl) && File.ReadAllLines(jsonl).Length >= 60, run);
        run.Kill();
        run.WaitForExit(TimeSpan.FromSeconds(30));
        int lines = File.ReadAllLines(jsonl).Length;
        int decoded = VideoFiles.CountDecodedFrames(video);
        TestContext.Out.WriteLine($"{decoded} frames decode after SIGKILL; {lines} JSON lines");
        Assert.That(decoded, Is.InRange(lines / 2, lines), "the frames written before the kill decode, less what FFmpeg still buffered");
    }

    [Test]
    public void A_rerun_replaces_the_previous_run_in_its_folder()
    {
        var run = Path.Combine(Dir, "run");
        var (first, _, firstErr) = SacamInProcess.Run("video", Clip, "--method", "gradcam", "--max-frames", "6", "--run", run);
        Assert.That(first, Is.EqualTo(0), firstErr);
        Directory.CreateDirectory(Path.Combine(run, "review"));
        File.WriteAllText(Path.Combine(run, "review", "index.html"), "an old review");
        var (second, _, secondErr) = SacamInProcess.Run("video", Clip, "--method", "gradcam", "--max-frames", "3", "--run", run);
        Assert.That(second, Is.EqualTo(0), secondErr);
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "run.json")));
        Assert.Multiple(() =>
        {
            Assert.That(Directory.GetFiles(Path.Combine(run, "maps")).Select(Path.GetFileName).Order(), Is.EqualTo(new[] { "000000.png", "000001.png", "000002.png", "overlay.json" }),
                "no map of the first run is left");
            Assert.That(File.ReadAllLines(Path.Combine(run, "frames.jsonl")), Has.Length.EqualTo(3));
            Assert.That(VideoFiles.CountDecodedFrames(Path.Combine(run, "original.avi")), Is.EqualTo(3));
            Assert.That(Directory.Exists(Path.Combine(run, "review")), Is.False, "the old review went with the old run");
            Assert.That(manifest.RootElement.GetProperty("frames").GetInt64(), Is.EqualTo(3));
            Assert.That(manifest.RootElement.GetProperty("ended").GetString(), Is.EqualTo("complete"));
        });
    }

    [Test]
    public void Atomic_writes_leave_the_old_file_when_they_fail_and_never_replace_a_device()
    {
        var target = Path.Combine(Dir, "map.npy");
        File.WriteAllText(target, "old");
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(target, s => { s.WriteByte(1); throw new InvalidOperationException("boom"); }));
        var device = Path.Combine(Dir, "device.npy");
        File.CreateSymbolicLink(device, "/dev/full");
        var e = Assert.Throws<OutputRefusedException>(() => AtomicFile.WriteAllText(device, "x"));
        Assert.Multiple(() =>
        {
            Assert.That(File.ReadAllText(target), Is.EqualTo("old"), "a failed write leaves the old file as it was");
            Assert.That(Directory.GetFiles(Dir).Select(Path.GetFileName).Order(), Is.EqualTo(new[] { "device.npy", "map.npy" }), "no temporary file is left");
            Assert.That(e!.Message, Does.Contain("device.npy").And.Contain("character device"));
            Assert.That(FileIdentity.Of("/dev/full").Kind, Is.EqualTo(FileKind.CharacterDevice));
        });
    }
}
