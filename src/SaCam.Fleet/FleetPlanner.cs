using System.Security.Cryptography;
using System.Text.Json;
using SaCam.App.Specs;
using SaCam.Video.Sources;

namespace SaCam.Fleet;

/// <summary>How `fleet plan` cuts the work.</summary>
public sealed record PlanRequest
{
    public required IReadOnlyList<string> Sources { get; init; }
    /// <summary>What every part explains and how; its source, outputs, frame range and mode are set per part.</summary>
    public required VideoRunSpec Video { get; init; }
    public int? Shards { get; init; }
    /// <summary>Frames a shard holds at most (default 3,000: about 2 minutes of 25 fps video explained at ~25 fps).</summary>
    public long? FramesPerShard { get; init; }
    public required string SoftwareVersion { get; init; }
}

/// <summary>
/// Makes a plan: expands the sources (files, folders, globs, list files with one path per line), fingerprints each
/// recording, counts its frames, and cuts the frames into shards of at most N frames (a long recording into several
/// frame ranges, short ones packed together). Recordings that cannot be opened stay in the plan with their own shard,
/// so their failure is recorded and reported, not lost.
/// </summary>
public static class FleetPlanner
{
    public const long DefaultFramesPerShard = 3000;
    private static readonly string[] VideoExtensions = [".mp4", ".mov", ".mkv", ".avi", ".m4v", ".webm", ".mpg", ".ts"];

    public static FleetPlan Plan(PlanRequest request, Func<string, (long Frames, double Fps)?>? probe = null)
    {
        probe ??= Probe;
        var video = PlanVideo(request.Video);
        var paths = Expand(request.Sources);
        if (paths.Count == 0) throw new FleetException("The sources name no recording (files, folders of videos, globs, or a list file with one path per line).", permanent: true);
        var recordings = new List<PlannedRecording>();
        foreach (var (path, i) in paths.Select((p, i) => (p, i)))
        {
            var info = new FileInfo(path);
            var counted = probe(path);
            recordings.Add(new PlannedRecording($"r{i + 1:D5}", info.FullName, info.Length, Fingerprint(path), counted?.Frames ?? -1, counted?.Fps ?? 0));
        }
        long known = recordings.Where(r => r.Frames > 0).Sum(r => r.Frames);
        long perShard = request.FramesPerShard ?? (request.Shards is int n && n > 0 ? Math.Max(1, (known + n - 1) / n) : DefaultFramesPerShard);
        if (perShard < 1) throw new FleetException("--frames-per-shard must be at least 1.", permanent: true);
        var shards = new List<Shard>();
        var parts = new List<ShardPart>();
        long inShard = 0;
        void Close()
        {
            if (parts.Count == 0) return;
            shards.Add(new Shard(shards.Count, parts.ToList()));
            parts.Clear();
            inShard = 0;
        }
        foreach (var r in recordings)
        {
            if (r.Frames <= 0)
            {
                Close();
                parts.Add(new ShardPart(r.Id, 0, -1)); // unreadable when planned: a shard of its own, to fail and be reported
                Close();
                continue;
            }
            for (long start = 0; start < r.Frames;)
            {
                long take = Math.Min(r.Frames - start, perShard - inShard);
                parts.Add(new ShardPart(r.Id, start, take));
                inShard += take;
                start += take;
                if (inShard >= perShard) Close();
            }
        }
        Close();
        return new FleetPlan
        {
            CreatedUtc = DateTime.UtcNow, SoftwareVersion = request.SoftwareVersion, Video = video,
            ModelSha256 = ModelHash(video.Model.Id), Recordings = recordings, Shards = shards,
        };
    }

    /// <summary>Writes plan.json and plan.sha256 into a new or empty folder (a plan is never replaced).</summary>
    public static string Write(FleetPlan plan, FleetLayout layout)
    {
        if (Directory.Exists(layout.Root) && Directory.EnumerateFileSystemEntries(layout.Root).Any())
            throw new FleetException($"--out '{layout.Root}' is not empty: a plan goes into a new folder (a plan that workers use is never replaced).", permanent: true);
        Directory.CreateDirectory(layout.Root);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(plan, FleetPlan.Json);
        Core.IO.AtomicFile.WriteAllBytes(layout.Plan, bytes);
        string hash = FleetPlan.Hash(bytes);
        Core.IO.AtomicFile.WriteAllText(layout.PlanHash, hash + "\n");
        foreach (var dir in new[] { layout.Shards, layout.Done, layout.Failed, layout.Temp }) Directory.CreateDirectory(dir);
        return hash;
    }

    /// <summary>
    /// A cheap content fingerprint: the size and the SHA-256 of the first, middle and last MiB. It catches a recording
    /// replaced, truncated or appended to without reading hours of video; a change confined to other bytes of the same
    /// size would pass (documented in docs/fleet.md).
    /// </summary>
    public static string Fingerprint(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        const int block = 1 << 20;
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[block];
        foreach (long offset in new[] { 0L, Math.Max(0, stream.Length / 2 - block / 2), Math.Max(0, stream.Length - block) }.Distinct())
        {
            stream.Position = offset;
            int read = stream.ReadAtLeast(buffer, (int)Math.Min(block, stream.Length - offset), throwOnEndOfStream: false);
            sha.AppendData(buffer, 0, read);
        }
        return $"v1:{stream.Length}:{Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant()}";
    }

    private static (long, double)? Probe(string path)
    {
        try
        {
            var source = FrameSources.Open(path);
            return source.FrameCount is long n && n > 0 ? (n, source.FramesPerSecond ?? 25) : null;
        }
        catch (Exception e) when (e is FrameSourceException or IOException or InvalidDataException or OpenCvSharp.OpenCVException)
        {
            return null;
        }
    }

    /// <summary>The plan's video spec: checked now (a method, target or colour map that cannot work is refused before any
    /// worker starts), its per-part fields cleared, every file it names made absolute (workers run in other folders).</summary>
    private static VideoRunSpec PlanVideo(VideoRunSpec video)
    {
        try { (video with { Source = "plan" }).Validated(); }
        catch (ArgumentException e) { throw new FleetException(e.Message, permanent: true); }
        var catalog = SaCam.App.Building.PluginCatalogs.Load(video.Plugins);
        try { SaCam.App.Building.MethodFactory.Check(video.Method, catalog); }
        catch (ArgumentException e) { throw new FleetException(e.Message, permanent: true); }
        return video with
        {
            Source = "",
            Model = video.Model with { Id = Absolute(video.Model.Id), Labels = AbsoluteOrNull(video.Model.Labels) },
            Target = video.Target with { Target = video.Target.ExemplarFile is { } file && File.Exists(file) ? "exemplar:" + Path.GetFullPath(file) : video.Target.Target },
            Plugins = AbsoluteOrNull(video.Plugins),
            Frames = new FrameSelection { Stride = video.Frames.Stride },
            Outputs = new VideoOutputs(),
        };
    }

    private static string Absolute(string value) => File.Exists(value) || Directory.Exists(value) ? Path.GetFullPath(value) : value;
    private static string? AbsoluteOrNull(string? value) => value is null ? null : Absolute(value);

    private static string ModelHash(string model)
    {
        if (!File.Exists(model)) return model == "default" ? "embedded" : $"by-id:{model}";
        using var stream = File.OpenRead(model);
        return Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
    }

    /// <summary>Files, folders (their videos, recursively, in name order), globs, and list files (.txt, .list, .lst).</summary>
    public static IReadOnlyList<string> Expand(IEnumerable<string> sources)
    {
        var found = new List<string>();
        foreach (var source in sources)
        {
            if (Directory.Exists(source))
                found.AddRange(Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories)
                    .Where(f => VideoExtensions.Contains(Path.GetExtension(f).ToLowerInvariant())).Order(StringComparer.Ordinal));
            else if (source.Contains('*') || source.Contains('?'))
            {
                var dir = Path.GetDirectoryName(source) is { Length: > 0 } d ? d : ".";
                if (Directory.Exists(dir)) found.AddRange(Directory.EnumerateFiles(dir, Path.GetFileName(source)).Order(StringComparer.Ordinal));
            }
            else if (File.Exists(source) && Path.GetExtension(source).ToLowerInvariant() is ".txt" or ".list" or ".lst")
            {
                var baseDir = Path.GetDirectoryName(Path.GetFullPath(source))!;
                found.AddRange(Expand(File.ReadAllLines(source).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'))
                    .Select(l => Path.IsPathRooted(l) ? l : Path.Combine(baseDir, l))));
            }
            else if (File.Exists(source)) found.Add(source);
            else throw new FleetException($"Source '{source}' does not exist.", permanent: true);
        }
        return found.Select(Path.GetFullPath).Distinct().ToList();
    }
}
