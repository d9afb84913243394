using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using SaCam.App.Specs;

namespace SaCam.Fleet;

/// <summary>One recording of the fleet, as it was when planned.</summary>
public sealed record PlannedRecording(string Id, string Path, long Size, string Fingerprint, long Frames, double FramesPerSecond);

/// <summary>A frame range of one recording: frames [Start, Start + Count).</summary>
public sealed record ShardPart(string Recording, long Start, long Count);

/// <summary>What one worker does: one or more parts, a few minutes of work.</summary>
public sealed record Shard(int Index, IReadOnlyList<ShardPart> Parts)
{
    public long Frames => Parts.Sum(p => p.Count);
}

/// <summary>
/// The immutable plan of a fleet run: the `sacam video` options every shard uses, the model and its SHA-256, each
/// recording with its fingerprint and frame count, and the shards. Written once as plan.json beside its SHA-256
/// (plan.sha256); a worker refuses a plan whose bytes no longer match that hash.
/// </summary>
public sealed record FleetPlan
{
    /// <summary>2: the video settings are a typed spec (<see cref="Video"/>); 1 stored `sacam video` option tokens.</summary>
    public const int FormatVersion = 2;
    public int Version { get; init; } = FormatVersion;
    public required DateTime CreatedUtc { get; init; }
    public required string SoftwareVersion { get; init; }
    /// <summary>What every part explains and how (model, method, target, layer, rendering, stride); the source, run
    /// folder, frame range and mode are set per part.</summary>
    public required VideoRunSpec Video { get; init; }
    [JsonIgnore] public string Model => Video.Model.Id;
    /// <summary>SHA-256 of the model file, or "embedded" for the built-in default.</summary>
    public required string ModelSha256 { get; init; }
    public required IReadOnlyList<PlannedRecording> Recordings { get; init; }
    public required IReadOnlyList<Shard> Shards { get; init; }

    public PlannedRecording Recording(string id) => Recordings.First(r => r.Id == id);

    internal static readonly JsonSerializerOptions Json = new(SaCam.App.Specs.SpecJson.Options) { UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip };

    public static string Hash(byte[] planBytes) => Convert.ToHexString(SHA256.HashData(planBytes)).ToLowerInvariant();
}

/// <summary>
/// The fleet's folder, one place for every name: plan.json and plan.sha256; shards/NNNNNN (a published shard: its
/// run folders and shard.json, arrived by one atomic rename); done/NNNNNN.json and failed/NNNNNN.json (the records);
/// tmp/ (work in progress, never read); report/ (the merge).
/// </summary>
public sealed class FleetLayout(string root)
{
    public string Root { get; } = System.IO.Path.GetFullPath(root);
    public string Plan => System.IO.Path.Combine(Root, "plan.json");
    public string PlanHash => System.IO.Path.Combine(Root, "plan.sha256");
    public string Shards => System.IO.Path.Combine(Root, "shards");
    public string Done => System.IO.Path.Combine(Root, "done");
    public string Failed => System.IO.Path.Combine(Root, "failed");
    public string Temp => System.IO.Path.Combine(Root, "tmp");
    public string Report => System.IO.Path.Combine(Root, "report");

    public static string Name(int shard) => shard.ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
    public string ShardFolder(int shard) => System.IO.Path.Combine(Shards, Name(shard));
    public string DoneRecord(int shard) => System.IO.Path.Combine(Done, Name(shard) + ".json");
    public string FailedRecord(int shard) => System.IO.Path.Combine(Failed, Name(shard) + ".json");
    /// <summary>The run folder of one part inside a shard folder.</summary>
    public static string PartFolder(string shardFolder, ShardPart part) =>
        System.IO.Path.Combine(shardFolder, $"{part.Recording}-{part.Start:D9}");

    /// <summary>Reads the plan and checks it against plan.sha256: a plan edited after it was made is refused.</summary>
    public (FleetPlan Plan, string Hash) LoadPlan()
    {
        if (!File.Exists(Plan)) throw new FleetException($"No plan in '{Root}' (make one with: sacam fleet plan SOURCES... --out {Root}).", permanent: true);
        var bytes = File.ReadAllBytes(Plan);
        string hash = FleetPlan.Hash(bytes);
        string expected = File.Exists(PlanHash) ? File.ReadAllText(PlanHash).Trim() : "";
        if (hash != expected)
            throw new FleetException($"The plan in '{Root}' changed after it was made (its SHA-256 is {hash[..12]}..., plan.sha256 says {(expected.Length >= 12 ? expected[..12] + "..." : "nothing")}): " +
                                     "make a new plan in a new folder instead of editing one that workers use.", permanent: true);
        int version = PlanVersion(bytes);
        if (version != FleetPlan.FormatVersion)
            throw new FleetException($"The plan in '{Root}' has format {version}" + (version < FleetPlan.FormatVersion
                ? $" (written by an older sacam, which stored the video options as command-line words); this sacam reads format {FleetPlan.FormatVersion}: make a new plan with `sacam fleet plan` in a new folder."
                : $"; this sacam reads format {FleetPlan.FormatVersion}: use the sacam that made it."), permanent: true);
        FleetPlan? plan;
        try { plan = JsonSerializer.Deserialize<FleetPlan>(bytes, FleetPlan.Json); }
        catch (JsonException e) { throw new FleetException($"The plan in '{Root}' cannot be read: {e.Message}", permanent: true); }
        return (plan ?? throw new FleetException("The plan is empty.", permanent: true), hash);
    }

    /// <summary>The plan's format number, read before the rest (an old plan's fields do not fit this one).</summary>
    private int PlanVersion(byte[] bytes)
    {
        try
        {
            using var document = JsonDocument.Parse(bytes);
            return document.RootElement.TryGetProperty("version", out var v) && v.TryGetInt32(out int n) ? n : 0;
        }
        catch (JsonException e) { throw new FleetException($"The plan in '{Root}' is not JSON: {e.Message}", permanent: true); }
    }
}

/// <summary>A fleet command cannot go on; <see cref="Permanent"/> says whether retrying could ever help.</summary>
public sealed class FleetException(string message, bool permanent) : Exception(message)
{
    public bool Permanent { get; } = permanent;
}
