using System.CommandLine;
using System.Reflection;
using SaCam.Fleet;
using SaCam.Review;

namespace SaCam.Cli;

/// <summary>
/// sacam fleet plan|work|status|merge: annotate a fleet's recordings as shards on the batch engine a team already runs
/// (Slurm arrays, Kubernetes Indexed Jobs, Grid Engine). The engine schedules and retries; every shard is idempotent.
/// See docs/fleet.md and deploy/.
/// </summary>
public static class FleetCommand
{
    public static string SoftwareVersion =>
        typeof(FleetCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    public static Command Create()
    {
        var fleet = new Command("fleet", "Annotate many recordings as shards on Slurm, Kubernetes or Grid Engine: plan, work, status, merge.");
        fleet.Subcommands.Add(Plan());
        fleet.Subcommands.Add(Work());
        fleet.Subcommands.Add(Status());
        fleet.Subcommands.Add(Merge());
        return fleet;
    }

    private static Command Plan()
    {
        var sources = new Argument<string[]>("sources") { Description = "Recordings: files, folders (their videos), globs, or list files (.txt) with one path per line.", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--out") { Description = "A new folder for the plan and everything the workers write.", Required = true };
        var shards = new Option<int?>("--shards") { Description = "Cut the frames into this many shards." }.AtLeast(1);
        var perShard = new Option<long?>("--frames-per-shard") { Description = $"Frames a shard holds at most (default {FleetPlanner.DefaultFramesPerShard}: minutes of work)." }.AtLeast(1L);
        var command = new Command("plan", "Write an immutable plan: the video options, the model's SHA-256, each recording's fingerprint and frames, the shards.");
        command.Arguments.Add(sources);
        command.Options.Add(output);
        command.Options.Add(shards);
        command.Options.Add(perShard);
        var video = new VideoOptions();
        foreach (var o in video.PlanOptions) command.Options.Add(o);
        command.SetAction(parse => CliRunner.Guard(() =>
        {
            if (parse.GetValue(shards) is not null && parse.GetValue(perShard) is not null) throw new ArgumentException("Give --shards or --frames-per-shard, not both.");
            var plan = FleetPlanner.Plan(new PlanRequest
            {
                Sources = parse.GetValue(sources)!, Video = video.ToSpec(parse, source: ""), Shards = parse.GetValue(shards), FramesPerShard = parse.GetValue(perShard),
                SoftwareVersion = SoftwareVersion,
            });
            var layout = new FleetLayout(parse.GetValue(output)!);
            string hash = FleetPlanner.Write(plan, layout);
            int unreadable = plan.Recordings.Count(r => r.Frames <= 0);
            Console.WriteLine($"{plan.Recordings.Count} recordings, {plan.Recordings.Where(r => r.Frames > 0).Sum(r => r.Frames)} frames, {plan.Shards.Count} shards (0-{plan.Shards.Count - 1}); plan {hash[..12]} in {layout.Root}");
            if (unreadable > 0) Console.WriteLine($"{unreadable} recording(s) could not be opened now; their shards will fail and be reported.");
            Console.WriteLine($"next: sacam fleet work --plan {layout.Root} --shard I   (or deploy/slurm, deploy/kubernetes)");
            return CliRunner.Ok;
        }));
        return command;
    }

    private static Option<string> PlanOption() => new("--plan") { Description = "The fleet folder (as given to `fleet plan --out`).", Required = true };

    private static FleetLayout Layout(string plan) => new(File.Exists(plan) ? Path.GetDirectoryName(Path.GetFullPath(plan))! : plan);

    private static Command Work()
    {
        var plan = PlanOption();
        var shard = new Option<int?>("--shard") { Description = "The shard (default: JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID [+ SACAM_SHARD_OFFSET], or SGE_TASK_ID - 1)." }.AtLeast(0);
        var command = new Command("work", "Do one shard. Exit 0: done (or done before); 1: retry; 2: bad plan or index; 3: the recording cannot be read (recorded, do not retry); 130: stopped.");
        command.Options.Add(plan);
        command.Options.Add(shard);
        command.SetAction(parse => CliRunner.Guard(stop =>
        {
            try
            {
                int index = ShardIndex.Resolve(parse.GetValue(shard), Environment.GetEnvironmentVariable);
                var worker = new ShardWorker(Layout(parse.GetValue(plan)!), new VideoPartRenderer(ConsoleFeedback.Instance, Log), SoftwareVersion, Log);
                return worker.Work(index, stop);
            }
            catch (FleetException e)
            {
                Console.Error.WriteLine($"sacam fleet: {CliFlags.MessageOf(e)}");
                return e.Permanent ? WorkExit.Usage : WorkExit.Retry;
            }
        }));
        return command;
    }

    private static Command Status()
    {
        var plan = PlanOption();
        var command = new Command("status", "Done, failed and missing shards (missing in Slurm's array syntax), and the time left.");
        command.Options.Add(plan);
        command.SetAction(parse => CliRunner.Guard(() =>
        {
            Console.Write(FleetStatus.Read(Layout(parse.GetValue(plan)!)).Describe());
            return CliRunner.Ok;
        }));
        return command;
    }

    private static Command Merge()
    {
        var plan = PlanOption();
        var output = new Option<string?>("--out") { Description = "Folder for the report (default: FLEET/report)." };
        var noReview = new Option<bool>("--no-review") { Description = "Do not build review pages for the parts that hold flagged frames." };
        var command = new Command("merge", "The fleet report: totals, throughput, per recording classes and attention, failures, frames worth a look (Markdown, CSV, HTML).");
        command.Options.Add(plan);
        command.Options.Add(output);
        command.Options.Add(noReview);
        command.SetAction(parse => CliRunner.Guard(() =>
        {
            var layout = Layout(parse.GetValue(plan)!);
            string report = parse.GetValue(output) ?? layout.Report;
            string? BuildReview(string partFolder)
            {
                var target = Path.Combine(report, "reviews", Path.GetFileName(Path.GetDirectoryName(partFolder)!) + "-" + Path.GetFileName(partFolder));
                try { return ReviewBuilder.Build([partFolder], target).IndexPath; }
                catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException) { return null; }
            }
            string index = FleetReport.Merge(layout, report, parse.GetValue(noReview) ? null : BuildReview);
            var status = FleetStatus.Read(layout);
            Console.WriteLine($"report: {index} ({status.Done.Count} of {status.Shards} shards done{(status.Missing.Count > 0 ? $"; missing {status.MissingArraySyntax}" : "")}{(status.Failed.Count > 0 ? $"; {status.Failed.Count} failed" : "")})");
            return CliRunner.Ok;
        }));
        return command;
    }

    private static void Log(string message) => Console.Error.WriteLine($"sacam fleet: {message}");
}
