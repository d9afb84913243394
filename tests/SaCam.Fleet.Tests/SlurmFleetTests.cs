using System.Diagnostics;
using SaCam.Fleet;
using SaCam.TestSupport;

namespace SaCam.Tests;

/// <summary>
/// The fleet on a real Slurm: a single-node cluster started for these tests by deploy/slurm/local-cluster.sh
/// (munged, slurmctld, slurmd under a temporary folder; stopped by their pids), the project's sbatch script over the
/// plan's shards. An array run finishes with the frames adding up and the corrupt recording failed for good; a task
/// killed mid-shard publishes nothing, is named missing, and requeueing it (deploy/slurm/requeue-missing.sh)
/// completes the fleet; a plan edited after submission is refused by every task.
/// </summary>
[TestFixture]
[NonParallelizable]
[Category("Slow")]
[NeedsPrograms("slurmctld slurmd slurm-client munge", "slurmctld", "slurmd", "sbatch", "scontrol", "munged")]
public class SlurmFleetTests
{
    private string _base = null!;
    private string _work = null!;
    private string Script(string name) => Path.Combine(SharedData.RepoRoot, "deploy", "slurm", name);

    [OneTimeSetUp]
    public void StartCluster()
    {
        if (Environment.UserName != "root") Requirement.Missing("root (slurmd runs jobs as root here)", "run the tests as root, as CI does");
        if (!File.Exists(SacamBuild.Executable)) Assert.Fail($"{SacamBuild.Executable} is missing: build the solution.");
        _base = Directory.CreateTempSubdirectory("sacam-slurm-").FullName;
        _work = Directory.CreateTempSubdirectory("sacam-slurm-work-").FullName;
        var (exit, output) = Run(Script("local-cluster.sh"), "start", _base);
        Assert.That(exit, Is.Zero, output);
    }

    [OneTimeTearDown]
    public void StopCluster()
    {
        if (_base is null) return;
        Run(Script("local-cluster.sh"), "stop", _base);
        Directory.Delete(_base, recursive: true);
        Directory.Delete(_work, recursive: true);
    }

    private (int Exit, string Output) Run(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _work ?? Path.GetTempPath() };
        foreach (var a in args) start.ArgumentList.Add(a);
        if (_base is not null) start.Environment["SLURM_CONF"] = Path.Combine(_base, "slurm.conf");
        start.Environment["SACAM"] = SacamBuild.Executable;
        using var p = Process.Start(start)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output + err.Result);
    }

    private string Plan(string name, int framesPerShard)
    {
        var recordings = Path.Combine(_work, "recordings");
        if (!Directory.Exists(recordings))
        {
            Directory.CreateDirectory(recordings);
            string clip = Path.Combine(SharedData.RepoRoot, "media", "street_clip.mp4");
            File.Copy(clip, Path.Combine(recordings, "a.mp4"));
            File.Copy(clip, Path.Combine(recordings, "b.mp4"));
            File.WriteAllBytes(Path.Combine(recordings, "c-corrupt.mp4"), File.ReadAllBytes(clip)[..30000]);
        }
        string fleet = Path.Combine(_work, name);
        var (exit, output) = Run(SacamBuild.Executable, "fleet", "plan", recordings, "--out", fleet, "--frames-per-shard", framesPerShard.ToString(),
            "--method", "gradcam", "--target", "exemplar:" + Path.Combine(SharedData.RepoRoot, "media", "street_car.png"));
        Assert.That(exit, Is.Zero, output);
        return fleet;
    }

    /// <summary>sbatch over shards, returning the array's job id.</summary>
    private string Submit(string fleet, string array)
    {
        var (exit, output) = Run("sbatch", "--parsable", $"--array={array}", Script("sacam-fleet.sbatch"), fleet);
        Assert.That(exit, Is.Zero, output);
        return output.Trim().Split(';')[0];
    }

    private void WaitForJob(string job, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            var (_, queue) = Run("squeue", "-h", "-j", job, "-t", "PENDING,RUNNING,CONFIGURING,COMPLETING,REQUEUED,RESIZING,SUSPENDED");
            if (queue.Trim().Length == 0) return;
            Thread.Sleep(500);
        }
        Assert.Fail($"job {job} still running after {timeout.TotalSeconds:F0} s: {Run("squeue", "-t", "all").Output}");
    }

    private Dictionary<string, string> States(string job) =>
        Run("squeue", "-h", "-j", job, "-t", "all", "-o", "%i %T").Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ')).ToDictionary(p => p[0], p => p[1]);

    [Test]
    public void An_array_run_finishes_the_frames_add_up_and_the_corrupt_recording_fails_for_good()
    {
        string fleet = Plan("array", framesPerShard: 30);
        string job = Submit(fleet, "0-4%2");
        WaitForJob(job, TimeSpan.FromMinutes(4));
        var states = States(job);
        Assert.That(states[$"{job}_4"], Is.EqualTo("FAILED"), "the corrupt recording's task fails");
        Assert.That(Enumerable.Range(0, 4).Select(i => states[$"{job}_{i}"]), Is.All.EqualTo("COMPLETED"));
        var status = FleetStatus.Read(new FleetLayout(fleet));
        Assert.That((status.Done.Count, status.Failed.Count, status.FramesDone), Is.EqualTo((4, 1, 96L)));
        var (exit, output) = Run(SacamBuild.Executable, "fleet", "merge", "--plan", fleet, "--no-review");
        Assert.That(exit, Is.Zero, output);
        Assert.That(File.ReadAllText(Path.Combine(fleet, "report", "report.md")), Does.Contain("96 frames of 96 planned").And.Contain("c-corrupt.mp4"));
        Assert.That(File.ReadAllText(Path.Combine(_work, $"sacam-fleet-{job}_4.log")), Does.Contain("permanent failure"));
    }

    [Test]
    public void A_task_killed_mid_shard_publishes_nothing_and_requeueing_it_completes_the_fleet()
    {
        string fleet = Plan("killed", framesPerShard: 1000);
        var layout = new FleetLayout(fleet);
        string job = Submit(fleet, "0");
        var clock = Stopwatch.StartNew();
        string? temp = null;
        while (clock.Elapsed < TimeSpan.FromMinutes(2) && temp is null)
        {
            temp = Directory.Exists(layout.Temp) ? Directory.EnumerateDirectories(layout.Temp)
                .FirstOrDefault(d => Directory.EnumerateFiles(d, "frames.jsonl", SearchOption.AllDirectories).Any(f => new FileInfo(f).Length > 0)) : null;
            Thread.Sleep(100);
        }
        Assert.That(temp, Is.Not.Null, "the task got to rendering");
        int pid = int.Parse(Path.GetFileName(temp!).Split('-')[^2]);
        Process.GetProcessById(pid).Kill(); // SIGKILL: an OOM kill, a node lost
        WaitForJob(job, TimeSpan.FromMinutes(1));
        Assert.That(States(job)[$"{job}_0"], Is.Not.EqualTo("COMPLETED"));
        Assert.That(Directory.Exists(layout.ShardFolder(0)), Is.False, "nothing published");
        var (_, status) = Run(SacamBuild.Executable, "fleet", "status", "--plan", fleet);
        Assert.That(status, Does.Contain("missing: 0"));

        // Shard 1 (the corrupt recording) was never submitted in this job: the helper says so and exits 1.
        var (exit, requeued) = Run(Script("requeue-missing.sh"), job, fleet);
        Assert.That(requeued, Does.Contain($"requeued {job}_0").And.Contain("shard 1 is not a task of job"));
        Assert.That(exit, Is.EqualTo(1));
        Thread.Sleep(1000);
        WaitForJob(job, TimeSpan.FromMinutes(3));
        Assert.That(States(job)[$"{job}_0"], Is.EqualTo("COMPLETED"), Run("squeue", "-t", "all").Output);
        Assert.That(FleetStatus.Read(layout).Done, Does.Contain(0));
        Assert.That(Directory.GetFileSystemEntries(layout.Temp), Is.Empty, "the killed task's folder was swept by the rerun");
    }

    [Test]
    public void A_plan_edited_after_submission_is_refused_by_the_tasks()
    {
        string fleet = Plan("edited", framesPerShard: 1000);
        var layout = new FleetLayout(fleet);
        File.AppendAllText(layout.Plan, "\n");
        string job = Submit(fleet, "0-1");
        WaitForJob(job, TimeSpan.FromMinutes(1));
        Assert.That(States(job).Values, Is.All.EqualTo("FAILED"));
        Assert.That(Directory.GetFileSystemEntries(layout.Shards), Is.Empty);
        Assert.That(File.ReadAllText(Path.Combine(_work, $"sacam-fleet-{job}_0.log")), Does.Contain("changed after it was made"));
    }
}
