using System.Diagnostics;
using System.Text.Json;
using SaCam.Fleet;
using SaCam.TestSupport;

namespace SaCam.Tests;

/// <summary>
/// `sacam fleet` without a cluster: the shard index from each engine's variable, the plan's cuts, a whole fleet of
/// the project's clip, a mirrored copy and a corrupt file (frames add up, the corrupt one fails permanently with its
/// reason in the report), a plan edited under the workers, a done shard exiting at once, two workers on one shard, a
/// worker killed or stopped mid-shard, and the Kubernetes manifest read by the official client's strict reader.
/// </summary>
[TestFixture]
[NonParallelizable]
public class FleetTests : TempFolderTest
{
    private static string Clip => Path.Combine(SharedData.RepoRoot, "media", "street_clip.mp4");
    private static string Car => "exemplar:" + Path.Combine(SharedData.RepoRoot, "media", "street_car.png");

    [Test]
    public void The_shard_index_comes_from_the_flag_or_the_engines_variable_and_disagreement_is_an_error()
    {
        string? None(string _) => null;
        Func<string, string?> Env(params (string Name, string Value)[] vars) => n => vars.FirstOrDefault(v => v.Name == n).Value;
        Assert.Multiple(() =>
        {
            Assert.That(ShardIndex.Resolve(7, None), Is.EqualTo(7));
            Assert.That(ShardIndex.Resolve(null, Env(("JOB_COMPLETION_INDEX", "4"))), Is.EqualTo(4));
            Assert.That(ShardIndex.Resolve(null, Env(("SLURM_ARRAY_TASK_ID", "5"))), Is.EqualTo(5));
            Assert.That(ShardIndex.Resolve(null, Env(("SLURM_ARRAY_TASK_ID", "5"), ("SACAM_SHARD_OFFSET", "1000"))), Is.EqualTo(1005));
            Assert.That(ShardIndex.Resolve(null, Env(("SGE_TASK_ID", "1"))), Is.EqualTo(0), "Grid Engine counts from 1");
            Assert.That(ShardIndex.Resolve(3, Env(("SLURM_ARRAY_TASK_ID", "3"))), Is.EqualTo(3), "agreeing sources are fine");
            Assert.That(() => ShardIndex.Resolve(2, Env(("JOB_COMPLETION_INDEX", "3"))),
                Throws.TypeOf<FleetException>().With.Message.Contains("--shard gives 2").And.Message.Contains("JOB_COMPLETION_INDEX gives 3"));
            Assert.That(() => ShardIndex.Resolve(null, None), Throws.TypeOf<FleetException>().With.Message.Contains("SLURM_ARRAY_TASK_ID"));
        });
    }

    [Test]
    public void Missing_shards_read_in_slurms_array_syntax() =>
        Assert.That(FleetStatusReport.ArraySyntax([3, 17, 40, 41, 42, 43, 44, 45, 47]), Is.EqualTo("3,17,40-45,47"));

    [Test]
    public void A_plan_cuts_long_recordings_and_packs_short_ones()
    {
        var files = Enumerable.Range(0, 3).Select(i => { var f = Path.Combine(Dir, $"r{i}.mp4"); File.WriteAllBytes(f, [(byte)i, 1, 2, 3]); return f; }).ToList();
        var frames = new Dictionary<string, long> { [files[0]] = 250, [files[1]] = 40, [files[2]] = 30 };
        var plan = FleetPlanner.Plan(new PlanRequest { Sources = files, Video = new SaCam.App.Specs.VideoRunSpec { Source = "" }, FramesPerShard = 100, SoftwareVersion = "t" },
            path => (frames[Path.GetFullPath(path)], 25));
        Assert.That(plan.Shards.Select(s => s.Frames), Is.EqualTo(new long[] { 100, 100, 100, 20 }));
        Assert.That(plan.Shards[2].Parts.Select(p => (p.Recording, p.Start, p.Count)),
            Is.EqualTo(new[] { ("r00001", 200L, 50L), ("r00002", 0L, 40L), ("r00003", 0L, 10L) }), "the end of one recording and the next ones packed");
        Assert.That(plan.Recordings.Select(r => r.Fingerprint), Is.Unique);
    }

    /// <summary>The project's clip, a mirrored copy and a corrupt file, planned in 30-frame shards.</summary>
    private string Fleet(string name = "fleet", int framesPerShard = 30)
    {
        var recordings = Directory.CreateDirectory(Path.Combine(Dir, "recordings")).FullName;
        if (!File.Exists(Path.Combine(recordings, "a.mp4")))
        {
            File.Copy(Clip, Path.Combine(recordings, "a.mp4"));
            File.Copy(Clip, Path.Combine(recordings, "b.mp4"));
            File.WriteAllBytes(Path.Combine(recordings, "c-corrupt.mp4"), File.ReadAllBytes(Clip)[..30000]);
        }
        string fleet = Path.Combine(Dir, name);
        var (exit, _, err) = SacamInProcess.Run("fleet", "plan", recordings, "--out", fleet, "--frames-per-shard", framesPerShard.ToString(), "--method", "gradcam", "--target", Car);
        Assert.That(exit, Is.Zero, err);
        return fleet;
    }

    [Test, Category("Slow")]
    public void A_fleet_runs_shard_by_shard_its_frames_add_up_and_the_corrupt_recording_is_a_reported_permanent_failure()
    {
        string fleet = Fleet();
        var layout = new FleetLayout(fleet);
        var (plan, _) = layout.LoadPlan();
        Assert.That(plan.Shards, Has.Count.EqualTo(5), "48 + 48 frames in 30-frame shards, and the corrupt file alone");
        var exits = plan.Shards.Select(s => SacamInProcess.Run("fleet", "work", "--plan", fleet, "--shard", s.Index.ToString()).Exit).ToList();
        Assert.That(exits, Is.EqualTo(new[] { 0, 0, 0, 0, WorkExit.Permanent }));

        var status = FleetStatus.Read(layout);
        Assert.That((status.Done.Count, status.Failed.Count, status.Missing.Count), Is.EqualTo((4, 1, 0)));
        long jsonlFrames = Directory.GetFiles(layout.Shards, "frames.jsonl", SearchOption.AllDirectories).Sum(f => File.ReadLines(f).Count());
        Assert.That(jsonlFrames, Is.EqualTo(96), "every frame of the two readable recordings, once");
        Assert.That(status.FramesDone, Is.EqualTo(96));

        var merged = SacamInProcess.Run("fleet", "merge", "--plan", fleet);
        Assert.That(merged.Exit, Is.Zero, merged.Err);
        var report = File.ReadAllText(Path.Combine(layout.Report, "report.md"));
        Assert.That(report, Does.Contain("96 frames of 96 planned").And.Contain("c-corrupt.mp4: Cannot open video"));
        Assert.That(File.ReadAllText(Path.Combine(layout.Report, "failures.csv")), Does.Contain("r00003"));
        var recordings = File.ReadAllLines(Path.Combine(layout.Report, "recordings.csv"));
        Assert.That(recordings.Skip(1).Sum(l => long.Parse(l.Split(',')[2])), Is.EqualTo(96));
        foreach (var plot in new[] { "score", "peak-x", "entropy" })
        {
            using var png = OpenCvSharp.Cv2.ImRead(Path.Combine(layout.Report, "plots", plot + ".png"));
            Assert.That(png.Empty(), Is.False, $"plots/{plot}.png decodes");
            Assert.That(report, Does.Contain($"plots/{plot}.png"));
        }
        var flagged = File.ReadAllLines(Path.Combine(layout.Report, "frames-to-review.csv")).Skip(1).ToList();
        Assert.That(flagged, Is.Not.Empty);
        var link = flagged[0].Split(',')[^1];
        Assert.That(File.Exists(Path.Combine(layout.Report, link.Split('#')[0])), Is.True, $"the review page {link} exists");

        // Done shards exit at once, without loading a model; a permanent failure stays permanent.
        var again = SacamInProcess.Run("fleet", "work", "--plan", fleet, "--shard", "0");
        Assert.That(again.Exit, Is.Zero);
        Assert.That(again.Err + again.Out, Does.Contain("shard 0: already done"), "a done shard is not rendered again");
        Assert.That(SacamInProcess.Run("fleet", "work", "--plan", fleet, "--shard", "4").Exit, Is.EqualTo(WorkExit.Permanent));
    }

    [Test]
    public void A_plan_edited_after_it_was_made_is_refused()
    {
        string fleet = Fleet("edited", framesPerShard: 1000);
        var layout = new FleetLayout(fleet);
        File.WriteAllText(layout.Plan, File.ReadAllText(layout.Plan).Replace("\"frames\": 48", "\"frames\": 40"));
        var (exit, _, err) = SacamInProcess.Run("fleet", "work", "--plan", fleet, "--shard", "0");
        Assert.That(exit, Is.EqualTo(WorkExit.Usage));
        Assert.That(err, Does.Contain("changed after it was made"));
        Assert.That(Directory.GetFileSystemEntries(layout.Shards), Is.Empty);
        Assert.That(SacamInProcess.Run("fleet", "plan", Clip, "--out", fleet).Exit, Is.EqualTo(2), "a plan is never written over");
    }

    [Test]
    public void A_changed_recording_fails_its_shard_permanently()
    {
        string fleet = Fleet("changed", framesPerShard: 1000);
        File.WriteAllBytes(Path.Combine(Dir, "recordings", "b.mp4"), File.ReadAllBytes(Clip)[..^100]);
        // Shard 0 holds a.mp4 and b.mp4 (1,000-frame shards); b.mp4 lost its last 100 bytes after the plan.
        Assert.That(SacamInProcess.Run("fleet", "work", "--plan", fleet, "--shard", "0").Exit, Is.EqualTo(WorkExit.Permanent));
        Assert.That(File.ReadAllText(new FleetLayout(fleet).FailedRecord(0)), Does.Contain("b.mp4: the recording changed since the plan"));
        Assert.That(Directory.GetFileSystemEntries(new FleetLayout(fleet).Shards), Is.Empty, "a.mp4's part is not published alone");
    }

    private static CliProcess Worker(string fleet, int shard, params (string, string)[] env) =>
        CliProcess.Start("fleet", "work", "--plan", fleet, "--shard", shard.ToString());

    [Test, Category("Slow")]
    public void Two_workers_on_one_shard_leave_one_copy_equal_to_a_single_run()
    {
        string fleet = Fleet("twice", framesPerShard: 1000);
        var layout = new FleetLayout(fleet);
        using (var first = Worker(fleet, 0))
        using (var second = Worker(fleet, 0))
        {
            Assert.That(first.WaitForExit(TimeSpan.FromSeconds(120)) && second.WaitForExit(TimeSpan.FromSeconds(120)), Is.True);
            Assert.That((first.ExitCode, second.ExitCode), Is.EqualTo((0, 0)), first.Error + second.Error);
            Assert.That(first.Error + second.Error, Does.Contain("another worker published it first").Or.Contain("already done"));
        }
        Assert.That(Directory.GetDirectories(layout.Shards), Has.Length.EqualTo(1));
        Assert.That(Directory.GetFileSystemEntries(layout.Temp), Is.Empty, "the loser's copy is gone");

        // The same part through `sacam video` alone gives the same frames.
        string single = Path.Combine(Dir, "single.jsonl");
        Assert.That(SacamInProcess.Run("video", Path.Combine(Dir, "recordings", "a.mp4"), "--method", "gradcam", "--target", Car, "--jsonl", single).Exit, Is.Zero);
        static string Essential(string line)
        {
            var r = JsonDocument.Parse(line).RootElement;
            return $"{r.GetProperty("index")} {r.GetProperty("score").GetDouble():F4} {r.GetProperty("peak")}";
        }
        var published = Path.Combine(layout.ShardFolder(0), "r00001-000000000", "frames.jsonl");
        Assert.That(File.ReadAllLines(published).Select(Essential), Is.EqualTo(File.ReadAllLines(single).Select(Essential)));
    }

    [Test, Category("Slow")]
    public void A_worker_killed_or_stopped_mid_shard_publishes_nothing_and_the_shard_is_done_later()
    {
        string fleet = Fleet("killed", framesPerShard: 1000);
        var layout = new FleetLayout(fleet);
        foreach (var signal in new[] { "KILL", "TERM" })
        {
            using var worker = Worker(fleet, 0);
            var clock = Stopwatch.StartNew();
            // Wait until it renders (its own temporary run folder, named with its pid, has frames), then stop it.
            bool Rendering() => Directory.EnumerateDirectories(layout.Temp, $"*-{worker.Id}-*")
                .Any(d => Directory.EnumerateFiles(d, "frames.jsonl", SearchOption.AllDirectories).Any(f => new FileInfo(f).Length > 0));
            while (clock.Elapsed < TimeSpan.FromSeconds(60) && !Rendering()) Thread.Sleep(50);
            Assert.That(Rendering(), Is.True, "the worker got to rendering");
            using (var kill = Process.Start("kill", ["-" + signal, worker.Id.ToString()])!) kill.WaitForExit();
            Assert.That(worker.WaitForExit(TimeSpan.FromSeconds(10)), Is.True);
            if (signal == "TERM") Assert.That(worker.ExitCode, Is.EqualTo(WorkExit.Stopped), worker.Error);
            Assert.That(Directory.Exists(layout.ShardFolder(0)), Is.False, $"SIG{signal}: nothing published");
            Assert.That(FleetStatus.Read(layout).MissingArraySyntax, Does.StartWith("0"), "status names it missing");
        }
        Assert.That(SacamInProcess.Run("fleet", "work", "--plan", fleet, "--shard", "0").Exit, Is.Zero, "the requeued shard completes");
        Assert.That(Directory.Exists(layout.ShardFolder(0)), Is.True);
        Assert.That(Directory.GetFileSystemEntries(layout.Temp), Is.Empty, "the killed worker's folder was swept");
    }

    [Test]
    public void The_kubernetes_manifest_is_a_valid_indexed_job_with_the_workers_exit_contract()
    {
        var yaml = File.ReadAllText(Path.Combine(SharedData.RepoRoot, "deploy", "kubernetes", "fleet-job.yaml"));
        var job = k8s.KubernetesYaml.Deserialize<k8s.Models.V1Job>(yaml, strict: true);
        var spec = job.Spec;
        Assert.Multiple(() =>
        {
            Assert.That(spec.CompletionMode, Is.EqualTo("Indexed"));
            Assert.That(spec.Template.Spec.RestartPolicy, Is.EqualTo("Never"), "backoffLimitPerIndex needs it");
            Assert.That(spec.BackoffLimitPerIndex, Is.GreaterThan(0));
            var failIndex = spec.PodFailurePolicy.Rules.Single(r => r.Action == "FailIndex");
            Assert.That(failIndex.OnExitCodes.Values, Does.Contain(WorkExit.Permanent).And.Contain(WorkExit.Usage));
            Assert.That(spec.PodFailurePolicy.Rules.Single(r => r.Action == "Ignore").OnPodConditions.Single().Type, Is.EqualTo("DisruptionTarget"));
            Assert.That(spec.Template.Spec.Containers.Single().Args, Is.EqualTo(new[] { "fleet", "work", "--plan", "/fleet" }));
        });
        Assert.That(() => k8s.KubernetesYaml.Deserialize<k8s.Models.V1Job>(yaml.Replace("completionMode:", "completionMod:"), strict: true), Throws.Exception,
            "the strict reader catches a misspelt field");
    }
}
