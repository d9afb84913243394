using System.Text.Json;
using System.Text.Json.Nodes;

namespace SaCam.Video.Sinks;

/// <summary>
/// The folder one <c>sacam video --run DIR</c> writes and <c>sacam review</c> reads: a manifest (run.json), the
/// per-frame JSON Lines, the annotated and the original footage (same frames, same order) and the maps. The names
/// live here so that the writer and the reader cannot drift apart.
/// </summary>
public sealed class RunFolder
{
    public const string ManifestName = "run.json";
    public const string FramesName = "frames.jsonl";
    public const string AnnotatedVideoName = "annotated.avi";
    public const string OriginalVideoName = "original.avi";
    public const string MapsFolderName = "maps";
    public const string ReviewFolderName = "review";
    /// <summary>What the source adds for its review (see <see cref="Sources.IRunExtrasSource"/>).</summary>
    public const string SourceFolderName = "source";

    /// <summary>Everything a run writes directly in its folder (a rerun replaces exactly these).</summary>
    public static readonly IReadOnlyList<string> Entries = [ManifestName, FramesName, AnnotatedVideoName, OriginalVideoName, MapsFolderName, ReviewFolderName, SourceFolderName];

    public RunFolder(string path) => Path = System.IO.Path.GetFullPath(path);

    public string Path { get; }
    public string Manifest => System.IO.Path.Combine(Path, ManifestName);
    public string Frames => System.IO.Path.Combine(Path, FramesName);
    public string AnnotatedVideo => System.IO.Path.Combine(Path, AnnotatedVideoName);
    public string OriginalVideo => System.IO.Path.Combine(Path, OriginalVideoName);
    public string Maps => System.IO.Path.Combine(Path, MapsFolderName);
    public string SourceExtras => System.IO.Path.Combine(Path, SourceFolderName);

    /// <summary>The name of a frame's map in <see cref="MapsFolderName"/>: an 8-bit PNG (see <see cref="RunMapSink"/>).</summary>
    public static string MapFileName(long frameIndex) => $"{frameIndex:D6}.png";

    /// <summary>One explained object's map on a frame (object targets), beside the frame's combined map.</summary>
    public static string ObjectMapFileName(long frameIndex, int track) => $"{frameIndex:D6}-t{track}.png";

    /// <summary>A frame's map as CV_32FC1 in [0, 1] at the model's input size, or null when the run kept none. Reads
    /// the 8-bit PNGs runs write now (16-bit PNGs too) and the float32 .npy files of runs written before them.</summary>
    public OpenCvSharp.Mat? ReadMap(long frameIndex)
    {
        var png = System.IO.Path.Combine(Maps, MapFileName(frameIndex));
        if (File.Exists(png))
        {
            using var stored = OpenCvSharp.Cv2.ImRead(png, OpenCvSharp.ImreadModes.Unchanged);
            if (stored.Empty() || stored.Channels() != 1)
                throw new InvalidDataException($"Map '{png}' is not a one-channel PNG (a run folder's maps are written by sacam video --run).");
            double scale = stored.Depth() == OpenCvSharp.MatType.CV_16U ? 1.0 / 65535 : 1.0 / 255;
            var map = new OpenCvSharp.Mat();
            stored.ConvertTo(map, OpenCvSharp.MatType.CV_32FC1, scale);
            return map;
        }
        var npy = System.IO.Path.Combine(Maps, $"{frameIndex:D6}.npy");
        if (!File.Exists(npy)) return null;
        using var tensor = Core.Tensors.NpyFile.Read(npy);
        return Imaging.MatTensor.ToFloatMat(tensor);
    }

    /// <summary>
    /// Creates the folder, writes the manifest and returns the sinks of a run. MJPG in .avi: every frame is a key
    /// frame, so a review can seek to any of them exactly, and an interrupted file still plays. A run whose maps are
    /// kept stores the footage once: the review draws the overlays from the original frames, the 8-bit maps and
    /// maps/overlay.json. The annotated video is written only when <paramref name="annotatedVideo"/> asks for it
    /// (something is drawn that the maps cannot redraw, such as a plugin's overlay) or when no maps are kept.
    /// <paramref name="maps"/>: how the run draws its maps over the frames; null keeps no maps.
    /// </summary>
    public IReadOnlyList<IFrameSink> Create(RunManifest manifest, double fps, Imaging.OverlayOptions? maps, bool annotatedVideo = false, Sources.IRunExtrasSource? extras = null)
    {
        ClearPreviousRun();
        Directory.CreateDirectory(Path);
        WriteManifest(manifest);
        var sinks = new List<IFrameSink>();
        try
        {
            sinks.Add(new JsonLinesSink(Frames));
            if (annotatedVideo || maps is null) sinks.Add(new VideoFileSink(AnnotatedVideo, fps));
            sinks.Add(new VideoFileSink(OriginalVideo, fps, original: true));
            if (maps is not null)
            {
                Directory.CreateDirectory(Maps);
                sinks.Add(new RunMapSink(Maps, maps));
            }
            if (extras is not null)
            {
                Directory.CreateDirectory(SourceExtras);
                sinks.Add(extras.CreateRunSink(SourceExtras));
            }
        }
        catch
        {
            foreach (var s in sinks) s.Dispose();
            throw;
        }
        return sinks;
    }

    public void WriteManifest(RunManifest manifest) =>
        Core.IO.AtomicFile.WriteAllText(Manifest, JsonSerializer.Serialize(manifest, ManifestJson.Options));

    /// <summary>Records how the run ended and how many frames it wrote. A run killed before this keeps "ended": null
    /// in its manifest, and a review trusts only the frames the videos and the JSON Lines both hold.</summary>
    public void Finish(RunManifest manifest, long frames, string ended) => WriteManifest(manifest with { Frames = frames, Ended = ended });

    /// <summary>
    /// A rerun into the same folder must not leave the old run's maps or review beside the new frames: the entries
    /// of a previous run are removed first. A folder that holds anything else is not a run folder, and nothing in
    /// it is touched.
    /// </summary>
    private void ClearPreviousRun()
    {
        if (!Directory.Exists(Path) || !Directory.EnumerateFileSystemEntries(Path).Any()) return;
        var foreign = Directory.EnumerateFileSystemEntries(Path).Select(System.IO.Path.GetFileName)
            .Where(name => !Entries.Contains(name!)).ToList();
        if (!File.Exists(Manifest) || foreign.Count > 0)
        {
            string why = foreign.Count > 0
                ? $"it holds {string.Join(", ", foreign.Take(5).Select(n => $"'{n}'"))}{(foreign.Count > 5 ? ", ..." : "")}"
                : $"it has no {ManifestName}";
            throw new Core.IO.OutputRefusedException($"--run '{Path}' is not empty and not a previous run's folder ({why}): choose a new or empty folder.");
        }
        foreach (var name in Entries)
        {
            var entry = System.IO.Path.Combine(Path, name);
            if (Directory.Exists(entry)) Directory.Delete(entry, recursive: true);
            else if (File.Exists(entry)) File.Delete(entry);
        }
    }

    /// <summary>Reads the manifest, with an error that names the folder and what is missing.</summary>
    public RunManifest ReadManifest()
    {
        if (File.Exists(Path)) throw new IOException($"'{Path}' is a file, not a run folder (a run folder is written by: sacam video SOURCE --run DIR).");
        if (!Directory.Exists(Path)) throw new DirectoryNotFoundException($"Run folder '{Path}' does not exist (write one with: sacam video SOURCE --run {Path}).");
        if (!File.Exists(Manifest)) throw new FileNotFoundException($"'{Path}' is not a run folder: it has no {ManifestName} (write one with: sacam video SOURCE --run DIR).", Manifest);
        try
        {
            return JsonSerializer.Deserialize<RunManifest>(File.ReadAllText(Manifest), ManifestJson.Options)
                ?? throw new InvalidDataException("empty manifest");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{Manifest} is not a valid run manifest: {e.Message}", e);
        }
    }

    /// <summary>The per-frame records, in the order written (the k-th line belongs to the k-th video frame).</summary>
    public IReadOnlyList<JsonObject> ReadFrames() => ReadFrameLines().Records.Select(r => r.Record).ToList();

    /// <summary>
    /// The per-frame records with the video frame each belongs to (the k-th line is the k-th frame of both videos),
    /// and the lines that are not a frame record. A line that does not parse, or holds no integer "index", is left
    /// out and named in <see cref="FrameLines.Skipped"/>: one bad line must not hide the frames after it. A last line
    /// cut short by an interrupted run (no newline after it) is left out without a word, as expected.
    /// </summary>
    public FrameLines ReadFrameLines()
    {
        if (Directory.Exists(Frames)) throw new IOException($"Run folder '{Path}': {FramesName} is a folder, not a file.");
        if (!File.Exists(Frames)) throw new FileNotFoundException($"Run folder '{Path}' has no {FramesName}.", Frames);
        string text = File.ReadAllText(Frames);
        var lines = text.Split('\n');
        // Split leaves an empty last element after a final newline; without one, the last line may be torn.
        bool lastLineTerminated = text.EndsWith('\n');
        int last = lines.Length - 1;
        while (last >= 0 && string.IsNullOrWhiteSpace(lines[last])) last--;
        var records = new List<(JsonObject, int)>();
        var skipped = new List<string>();
        int videoFrame = 0;
        for (int i = 0; i <= last; i++)
        {
            string line = lines[i].TrimEnd('\r');
            if (string.IsNullOrWhiteSpace(line)) continue;
            var record = ParseRecord(line);
            if (record is not null) records.Add((record, videoFrame));
            else if (i < last || lastLineTerminated)
                skipped.Add($"{Frames} line {i + 1} is not a frame record ({Excerpt(line)})");
            videoFrame++;
        }
        return new FrameLines(records, skipped);
    }

    private static JsonObject? ParseRecord(string line)
    {
        try
        {
            return JsonNode.Parse(line) is JsonObject o && o["index"] is JsonValue v && v.TryGetValue<long>(out _) ? o : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Excerpt(string line) => line.Length <= 40 ? $"\"{line}\"" : $"\"{line[..40]}...\"";
}

/// <summary>A run's frame records, each with the video frame it belongs to, and the lines that were not records
/// (each named by file and line number).</summary>
public sealed record FrameLines(IReadOnlyList<(JsonObject Record, int VideoFrame)> Records, IReadOnlyList<string> Skipped);

/// <summary>What a run was: its source, model, method and frame size. Written before the first frame.</summary>
public sealed record RunManifest(string Source, string Model, string Method, string Mode, double FramesPerSecond, DateTime StartedUtc)
{
    public int Version { get; init; } = 1;

    /// <summary>Frames written, once the run has ended (null while it runs, or after it was killed).</summary>
    public long? Frames { get; init; }

    /// <summary>How the run ended: complete, stopped (Ctrl+C, SIGTERM), failed: REASON; null while it runs or when
    /// it was killed.</summary>
    public string? Ended { get; init; }
}

internal static class ManifestJson
{
    public static readonly JsonSerializerOptions Options = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
}
