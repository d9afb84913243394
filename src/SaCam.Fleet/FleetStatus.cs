using System.Globalization;
using System.Text;

namespace SaCam.Fleet;

/// <summary>Where a fleet stands, read from the folder alone (Slurm without accounting forgets finished tasks, and
/// Kubernetes garbage-collects pods: the outputs on disk are the record).</summary>
public sealed record FleetStatusReport(int Shards, IReadOnlyList<int> Done, IReadOnlyList<int> Failed, IReadOnlyList<int> Missing,
    long FramesDone, long FramesTotal, double? WorkerSecondsLeft, double? WallSecondsLeft, IReadOnlyList<ShardRecord> DoneRecords, IReadOnlyList<ShardRecord> FailedRecords)
{
    /// <summary>The missing shards in the array syntax Slurm takes: 3,17,40-45.</summary>
    public string MissingArraySyntax => ArraySyntax(Missing);

    public static string ArraySyntax(IReadOnlyList<int> indices)
    {
        var text = new StringBuilder();
        for (int i = 0; i < indices.Count;)
        {
            int j = i;
            while (j + 1 < indices.Count && indices[j + 1] == indices[j] + 1) j++;
            if (text.Length > 0) text.Append(',');
            text.Append(indices[i].ToString(CultureInfo.InvariantCulture));
            if (j > i) text.Append('-').Append(indices[j].ToString(CultureInfo.InvariantCulture));
            i = j + 1;
        }
        return text.ToString();
    }

    public string Describe()
    {
        var s = new StringBuilder();
        s.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{Done.Count} of {Shards} shards done ({FramesDone} of {FramesTotal} frames), {Failed.Count} failed, {Missing.Count} missing"));
        if (Missing.Count > 0) s.AppendLine($"missing: {MissingArraySyntax}   (Slurm: sbatch --array={MissingArraySyntax} ...)");
        foreach (var f in FailedRecords) s.AppendLine(string.Create(CultureInfo.InvariantCulture, $"failed {f.Shard}: {f.Reason}"));
        if (WorkerSecondsLeft is double w)
            s.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"time left: about {Format(w)} of worker time{(WallSecondsLeft is double wall ? $", {Format(wall)} at the concurrency seen so far" : "")}"));
        return s.ToString();
    }

    private static string Format(double seconds) => seconds < 120 ? $"{seconds:F0} s" : seconds < 7200 ? $"{seconds / 60:F0} min" : $"{seconds / 3600:F1} h";
}

public static class FleetStatus
{
    public static FleetStatusReport Read(FleetLayout layout)
    {
        var (plan, _) = layout.LoadPlan();
        var done = new List<int>();
        var failed = new List<int>();
        var missing = new List<int>();
        var doneRecords = new List<ShardRecord>();
        var failedRecords = new List<ShardRecord>();
        long framesDone = 0;
        foreach (var shard in plan.Shards)
        {
            var published = layout.ShardFolder(shard.Index);
            if (Directory.Exists(published))
            {
                done.Add(shard.Index);
                var record = ShardWorker.ReadRecord(layout.DoneRecord(shard.Index)) ?? ShardWorker.ReadRecord(Path.Combine(published, "shard.json"));
                if (record is not null)
                {
                    doneRecords.Add(record);
                    framesDone += record.Frames;
                }
            }
            else if (ShardWorker.ReadRecord(layout.FailedRecord(shard.Index)) is { } f)
            {
                failed.Add(shard.Index);
                failedRecords.Add(f);
            }
            else missing.Add(shard.Index);
        }
        long total = plan.Shards.Sum(s => Math.Max(0, s.Frames));
        double? workerLeft = null, wallLeft = null;
        if (doneRecords.Count > 0 && missing.Count > 0)
        {
            double perFrame = doneRecords.Sum(r => r.Seconds) / Math.Max(1, doneRecords.Sum(r => r.Frames));
            long framesLeft = missing.Sum(i => Math.Max(0, plan.Shards[i].Frames));
            workerLeft = perFrame * framesLeft;
            // Concurrency seen: worker time done over the wall time the done shards spanned.
            double span = (doneRecords.Max(r => r.EndedUtc) - doneRecords.Min(r => r.StartedUtc)).TotalSeconds;
            double concurrency = span > 0 ? Math.Max(1, doneRecords.Sum(r => r.Seconds) / span) : 1;
            wallLeft = workerLeft / concurrency;
        }
        return new FleetStatusReport(plan.Shards.Count, done, failed, missing, framesDone, total, workerLeft, wallLeft, doneRecords, failedRecords);
    }
}
