using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace SaCam.Fleet;

/// <summary>What rendering one part came to.</summary>
public enum PartOutcome { Done, RecordingUnreadable, Stopped, Failed }

public sealed record PartResult(PartOutcome Outcome, long Frames, string? Reason = null);

/// <summary>Renders one part into a run folder: what `sacam video RECORDING --start-frame S --max-frames N --run FOLDER`
/// with the plan's settings writes. <see cref="VideoPartRenderer"/> does it through the application layer; tests
/// give fakes.</summary>
public interface IPartRenderer
{
    PartResult Render(FleetPlan plan, PlannedRecording recording, ShardPart part, string runFolder, CancellationToken stop);
}

/// <summary>The record of a finished or failed shard (done/NNNNNN.json, failed/NNNNNN.json, shards/NNNNNN/shard.json).</summary>
public sealed record ShardRecord
{
    public required int Shard { get; init; }
    public required string PlanSha256 { get; init; }
    public required string State { get; init; }
    public required IReadOnlyList<string> Fingerprints { get; init; }
    public long Frames { get; init; }
    public string? Reason { get; init; }
    public string? Recording { get; init; }
    public required string SoftwareVersion { get; init; }
    public required string Host { get; init; }
    public required DateTime StartedUtc { get; init; }
    public required DateTime EndedUtc { get; init; }
    [JsonIgnore] public double Seconds => (EndedUtc - StartedUtc).TotalSeconds;
}

/// <summary>Exit codes of `sacam fleet work`, the contract with the engines (Slurm, Kubernetes podFailurePolicy).</summary>
public static class WorkExit
{
    /// <summary>Done, already done, or done by another worker first.</summary>
    public const int Done = 0;
    /// <summary>Anything a retry may fix (the engine retries).</summary>
    public const int Retry = 1;
    /// <summary>A bad plan, shard index or option: retrying cannot help.</summary>
    public const int Usage = 2;
    /// <summary>The recording cannot be read (recorded in failed/): retrying cannot help; Kubernetes FailIndex.</summary>
    public const int Permanent = 3;
    /// <summary>Stopped by SIGTERM/SIGINT (preemption, scancel, eviction): nothing published.</summary>
    public const int Stopped = 130;
}

/// <summary>
/// Does one shard, idempotently: a shard already published exits at once; the parts render into a private temporary
/// folder beside the shards (same filesystem), which is published by one atomic rename, then the done record is
/// written. A duplicate worker that loses the rename discards its copy and exits 0. A stop publishes nothing.
/// </summary>
public sealed class ShardWorker(FleetLayout layout, IPartRenderer renderer, string softwareVersion, Action<string>? log = null)
{
    private readonly Action<string> _log = log ?? (_ => { });

    public int Work(int shardIndex, CancellationToken stop)
    {
        var (plan, hash) = layout.LoadPlan();
        if (shardIndex < 0 || shardIndex >= plan.Shards.Count)
            throw new FleetException($"Shard {shardIndex} is not in the plan (it has shards 0-{plan.Shards.Count - 1}).", permanent: true);
        string published = layout.ShardFolder(shardIndex);
        if (Directory.Exists(published))
        {
            EnsureDoneRecord(shardIndex, published);
            _log($"shard {shardIndex}: already done");
            return WorkExit.Done;
        }
        if (File.Exists(layout.FailedRecord(shardIndex)))
        {
            _log($"shard {shardIndex}: failed before, permanently (see {layout.FailedRecord(shardIndex)})");
            return WorkExit.Permanent;
        }
        var shard = plan.Shards[shardIndex];
        var started = DateTime.UtcNow;
        SweepDeadTemporaries(shardIndex);
        string temp = Path.Combine(layout.Temp, $"{FleetLayout.Name(shardIndex)}-{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temp);
        try
        {
            long frames = 0;
            var fingerprints = new List<string>();
            foreach (var part in shard.Parts)
            {
                var recording = plan.Recording(part.Recording);
                string reason = "";
                string now = File.Exists(recording.Path) ? FleetPlanner.Fingerprint(recording.Path) : "missing";
                if (now != recording.Fingerprint)
                    reason = now == "missing" ? "the recording is gone" : "the recording changed since the plan was made (its fingerprint differs)";
                var result = reason.Length > 0 ? new PartResult(PartOutcome.RecordingUnreadable, 0, reason)
                    : renderer.Render(plan, recording, part, FleetLayout.PartFolder(temp, part), stop);
                switch (result.Outcome)
                {
                    case PartOutcome.Stopped:
                        _log($"shard {shardIndex}: stopped; nothing published");
                        return WorkExit.Stopped;
                    case PartOutcome.RecordingUnreadable:
                        WriteRecord(layout.FailedRecord(shardIndex), Record(shardIndex, hash, "failed", fingerprints.Append(recording.Fingerprint).ToList(), frames, started,
                            $"{Path.GetFileName(recording.Path)}: {result.Reason}", recording.Id));
                        _log($"shard {shardIndex}: permanent failure: {result.Reason}");
                        return WorkExit.Permanent;
                    case PartOutcome.Failed:
                        _log($"shard {shardIndex}: failed ({result.Reason}); the engine may retry");
                        return WorkExit.Retry;
                }
                frames += result.Frames;
                fingerprints.Add(recording.Fingerprint);
            }
            if (stop.IsCancellationRequested) return WorkExit.Stopped;
            var record = Record(shardIndex, hash, "done", fingerprints, frames, started, null, null);
            WriteRecord(Path.Combine(temp, "shard.json"), record);
            try
            {
                Directory.Move(temp, published); // atomic on one filesystem; fails if another worker published first
            }
            catch (IOException) when (Directory.Exists(published))
            {
                _log($"shard {shardIndex}: another worker published it first; this copy is discarded");
                EnsureDoneRecord(shardIndex, published);
                return WorkExit.Done;
            }
            WriteRecord(layout.DoneRecord(shardIndex), record);
            _log($"shard {shardIndex}: done, {frames} frames in {record.Seconds:F1} s");
            return WorkExit.Done;
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
    }

    private ShardRecord Record(int shard, string hash, string state, IReadOnlyList<string> fingerprints, long frames, DateTime started, string? reason, string? recording) => new()
    {
        Shard = shard, PlanSha256 = hash, State = state, Fingerprints = fingerprints, Frames = frames, Reason = reason, Recording = recording,
        SoftwareVersion = softwareVersion, Host = Environment.MachineName, StartedUtc = started, EndedUtc = DateTime.UtcNow,
    };

    /// <summary>A worker killed between the rename and the done record leaves a published shard without one: write it
    /// from the shard.json that was published with the folder.</summary>
    private void EnsureDoneRecord(int shard, string published)
    {
        if (File.Exists(layout.DoneRecord(shard))) return;
        var inside = Path.Combine(published, "shard.json");
        if (File.Exists(inside)) Core.IO.AtomicFile.WriteAllBytes(layout.DoneRecord(shard), File.ReadAllBytes(inside));
    }

    /// <summary>Temporary folders of this shard left by workers on this host that are gone (SIGKILL, OOM).</summary>
    private void SweepDeadTemporaries(int shard)
    {
        if (!Directory.Exists(layout.Temp)) return;
        foreach (var dir in Directory.EnumerateDirectories(layout.Temp, $"{FleetLayout.Name(shard)}-{Environment.MachineName}-*"))
        {
            var parts = Path.GetFileName(dir).Split('-');
            if (parts.Length >= 4 && int.TryParse(parts[^2], out int pid) && !Alive(pid))
                try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    private static bool Alive(int pid)
    {
        try { using var p = Process.GetProcessById(pid); return !p.HasExited; }
        catch (ArgumentException) { return false; }
    }

    internal static void WriteRecord(string path, ShardRecord record)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        Core.IO.AtomicFile.WriteAllBytes(path, JsonSerializer.SerializeToUtf8Bytes(record, FleetPlan.Json));
    }

    internal static ShardRecord? ReadRecord(string path) =>
        File.Exists(path) ? JsonSerializer.Deserialize<ShardRecord>(File.ReadAllBytes(path), FleetPlan.Json) : null;
}
