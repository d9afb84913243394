using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace SaCam.Benchmarks;

/// <summary>
/// The fleet on this machine, through the `sacam` the solution builds, as an engine would run it (one process per
/// shard): throughput at 1, 2 and 4 concurrent workers, the fleet's own overhead (plan, publish, status, merge) as a
/// share of the annotation time, and how fast a worker leaves a shard that is already done.
/// </summary>
public sealed class FleetBenchmark(string repoRoot)
{
    private string Sacam => Path.Combine(repoRoot, "src", "SaCam.Cli", "bin", "Release", "net10.0", "linux-x64", "sacam");

    public string Run(int recordings, int framesPerShard)
    {
        if (!File.Exists(Sacam)) throw new InvalidOperationException($"{Sacam} is missing: dotnet build -c Release first");
        var root = Directory.CreateTempSubdirectory("sacam-bench-fleet-").FullName;
        try
        {
            var sources = Directory.CreateDirectory(Path.Combine(root, "recordings")).FullName;
            for (int i = 0; i < recordings; i++) File.Copy(Path.Combine(repoRoot, "media", "street_clip.mp4"), Path.Combine(sources, $"drive-{i:D3}.mp4"));
            var text = new StringBuilder();
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"### {recordings} recordings of the project's clip (48 frames, 640x360), {framesPerShard}-frame shards, sacam-rt at the automatic budget, embedded model\n"));
            text.AppendLine("| concurrent workers | shards | wall s | frames per second | ratio to 1 worker | plan s | merge s | overhead share (plan + status + merge) |");
            text.AppendLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
            double? single = null;
            double doneExit = 0;
            foreach (int workers in new[] { 1, 2, 4 })
            {
                string fleet = Path.Combine(root, $"fleet-{workers}");
                var plan = Time(() => Exec("fleet", "plan", sources, "--out", fleet, "--frames-per-shard", framesPerShard.ToString(CultureInfo.InvariantCulture)));
                int shards = Directory.GetFiles(Path.Combine(fleet), "plan.json").Length == 1
                    ? System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(fleet, "plan.json"))).RootElement.GetProperty("shards").GetArrayLength() : 0;
                var queue = new System.Collections.Concurrent.ConcurrentQueue<int>(Enumerable.Range(0, shards));
                var clock = Stopwatch.StartNew();
                var threads = Enumerable.Range(0, workers).Select(_ => new Thread(() =>
                {
                    while (queue.TryDequeue(out int shard)) Exec("fleet", "work", "--plan", fleet, "--shard", shard.ToString(CultureInfo.InvariantCulture));
                })).ToList();
                threads.ForEach(t => t.Start());
                threads.ForEach(t => t.Join());
                double wall = clock.Elapsed.TotalSeconds;
                double status = Time(() => Exec("fleet", "status", "--plan", fleet));
                double merge = Time(() => Exec("fleet", "merge", "--plan", fleet, "--no-review"));
                long frames = recordings * 48L;
                double fps = frames / wall;
                single ??= fps;
                text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {workers} | {shards} | {wall:F1} | {fps:F1} | {fps / single.Value:F2}x | {plan:F2} | {merge:F2} | {(plan + status + merge) / wall:P1} |"));
                doneExit = Time(() => Exec("fleet", "work", "--plan", fleet, "--shard", "0"));
            }
            text.AppendLine();
            text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"A worker on a shard that is already done exits in {doneExit:F2} s (process start included; goal < 1 s)."));
            text.AppendLine();
            text.AppendLine("Overhead share: the fleet's own commands (plan, status, merge) over the wall time of the annotation. Publishing (one rename and " +
                            "a record per shard) happens inside the workers' time; each worker also starts a process and loads the model once per shard, " +
                            "which is why shards should be minutes long (here they are seconds long, the worst case).");
            return text.ToString();
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static double Time(Action action)
    {
        var clock = Stopwatch.StartNew();
        action();
        return clock.Elapsed.TotalSeconds;
    }

    private void Exec(params string[] args)
    {
        var start = new ProcessStartInfo(Sacam) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        p.StandardOutput.ReadToEndAsync();
        p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"sacam {string.Join(' ', args)} exited {p.ExitCode}");
    }
}
