using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpenCvSharp;
using SaCam.Video.Pipeline;
using SaCam.Video.Sinks;

namespace SaCam.Review;

/// <summary>How a review page is written.</summary>
public sealed record ReviewOptions
{
    /// <summary>Inline every frame into index.html (one file to mail around). Refused above <see cref="MaxInlineBytes"/>.</summary>
    public bool SelfContained { get; init; }

    /// <summary>Frames per lazily loaded chunk file: the page fetches a chunk only when the scrubber reaches it.</summary>
    public int ChunkSize { get; init; } = 16;

    /// <summary>JPEG quality for frames of a video that is not MJPG (a run's own MJPG frames are passed through).</summary>
    public int JpegQuality { get; init; } = 85;

    /// <summary>Largest page a self-contained review may produce.</summary>
    public long MaxInlineBytes { get; init; } = 64L << 20;
}

/// <summary>What was written. <paramref name="Note"/> says when fewer frames are shown than a run's records list
/// (a run killed before its videos were flushed); <paramref name="Warnings"/> name each line of a run's JSON Lines
/// that was not a frame record and was left out.</summary>
public sealed record ReviewPage(string IndexPath, int Frames, IReadOnlyList<string> Layers, long Bytes, string? Note = null)
{
    public IReadOnlyList<string> Warnings { get; init; } = [];
}

/// <summary>
/// Builds the review page of one or more runs of the same footage (one per method): the original frames of the first
/// run, each run's annotated frames, and a timeline of class score, map peak, entropy, (where a run checked them) map quality and (for sacam-rt) its confidence in its score term. Frames are JPEG data URLs
/// in small script files (frames/LAYER-CHUNK.js) that the page loads on demand: it works from file:// (no server,
/// no fetch), images from data URLs keep the export canvas untainted, and a long run never becomes one huge page.
/// </summary>
public static class ReviewBuilder
{
    private const string PageResource = "SaCam.Review.review.html";
    private const string DataPlaceholder = "/*SACAM_DATA*/null";
    private const string InlineChunksPlaceholder = "<!--SACAM_INLINE_CHUNKS-->";

    public static ReviewPage Build(IReadOnlyList<string> runPaths, string outputFolder, ReviewOptions? options = null)
    {
        options ??= new ReviewOptions();
        if (runPaths.Count == 0) throw new ArgumentException("Name at least one run folder (written by: sacam video SOURCE --run DIR).");
        if (options.ChunkSize < 1) throw new ArgumentException($"Chunk size must be at least 1 (got {options.ChunkSize}).");
        var runs = runPaths.Select(LoadRun).ToList();
        var primary = runs[0];
        if (primary.Lines.Records.Count == 0) throw new InvalidDataException($"Run '{primary.Folder.Path}' has no frames in {RunFolder.FramesName}.");
        foreach (var other in runs.Skip(1))
            if (!string.Equals(other.Manifest.Source, primary.Manifest.Source, StringComparison.Ordinal))
                throw new ArgumentException($"Runs show different footage: '{primary.Manifest.Source}' ({primary.Folder.Path}) and '{other.Manifest.Source}' ({other.Folder.Path}); review runs of the same source side by side.");

        // A run killed mid-way can list frames in its JSON Lines that its videos never received (the writer buffers):
        // the review shows only the frames the primary run's videos hold.
        int held = CountFrames(primary.Folder.OriginalVideo);
        if (primary.Overlay is null) held = Math.Min(held, CountFrames(primary.Folder.AnnotatedVideo));
        var positions = primary.Lines.Records.Where(r => r.VideoFrame < held).Select(r => FrameIndex(r.Record)).ToList();
        int listed = primary.Lines.Records.Count;
        string? note = null;
        if (positions.Count < listed)
        {
            note = $"run '{primary.Folder.Path}' lists {listed} frames but its videos hold {held}{(primary.Manifest.Ended is null ? " (it did not finish)" : "")}: the review shows {positions.Count}";
            if (positions.Count == 0) throw new InvalidDataException($"Run '{primary.Folder.Path}' has no frame its videos hold: {note}.");
        }
        var warnings = runs.SelectMany(r => r.Lines.Skipped.Select(line => $"{line}: left out of the review")).ToList();
        Directory.CreateDirectory(outputFolder);
        var framesDir = Path.Combine(outputFolder, "frames");
        if (Directory.Exists(framesDir)) Directory.Delete(framesDir, recursive: true);
        Directory.CreateDirectory(framesDir);

        var layers = new List<(string Key, string Title, string Video, Run Run)> { ("original", "original", primary.Folder.OriginalVideo, primary) };
        for (int i = 0; i < runs.Count; i++) layers.Add(($"m{i}", MethodTitle(runs, i), runs[i].Folder.AnnotatedVideo, runs[i]));
        var medical = MedicalExtras(primary);

        var inline = new StringBuilder();
        long inlineBytes = 0;
        (int Width, int Height) size = (0, 0);
        // Self-contained pages inline every chunk script, up to a size limit.
        void Inline(string chunkScript)
        {
            if (!options.SelfContained) return;
            inlineBytes += chunkScript.Length;
            if (inlineBytes > options.MaxInlineBytes)
                throw new InvalidOperationException($"A self-contained page would exceed {options.MaxInlineBytes >> 20} MB ({positions.Count} frames x {layers.Count} layers); write the default folder form (frames load lazily) or serve it with --serve.");
            inline.Append("<script>").Append(chunkScript).Append("</script>\n");
        }
        foreach (var layer in layers)
        {
            // A method's overlay is drawn by the page from the original frames and the run's 8-bit maps (a run folder
            // keeps no annotated video then); a medical page draws every panel from its values and maps.
            if (layer.Key != "original" && (layer.Run.Overlay is not null || medical is not null)) continue;
            var frameSize = WriteLayer(layer.Key, layer.Video, layer.Run, positions, framesDir, options, Inline);
            if (layer.Key == "original") size = frameSize;
        }
        for (int i = 0; i < runs.Count; i++)
            if (runs[i].Overlay is not null && medical is null) WriteMaps(OverlayMapsKey(i), runs[i], positions, framesDir, options, Inline);

        // A medical run (a DICOM source) also keeps each frame's values at full depth and each map at frame size:
        // the page re-windows the originals and blends the maps itself, with a preset menu and an opacity slider.
        if (medical is not null)
        {
            void Png(string key, Run run, string folder)
            {
                var chunk = new ChunkWriter(key, framesDir, options.ChunkSize, positions.Count, Inline);
                for (int p = 0; p < positions.Count; p++)
                {
                    var file = Path.Combine(run.Folder.SourceExtras, folder, $"{positions[p]:D6}.png");
                    if (File.Exists(file)) chunk.Add(p, "data:image/png;base64," + Convert.ToBase64String(File.ReadAllBytes(file)));
                }
                chunk.Finish();
            }
            Png("values", primary, "values");
            for (int i = 0; i < runs.Count; i++) Png($"map{i}", runs[i], "maps");
        }
        // An object run's per-object maps, one stacked PNG per frame (rows in the order of the frame's objects), for
        // the panel that follows one track.
        bool trackMaps = medical is null && primary.MapsOverlay is not null && WriteObjectMaps(TrackMapsKey, primary, positions, framesDir, options, Inline);
        var data = PageData(runs, layers.Select(l => (l.Key, l.Title)).ToList(), positions, size, options, drawOverlays: medical is null);
        if (trackMaps) data["trackMaps"] = new JsonObject { ["key"] = TrackMapsKey, ["overlay"] = OverlayData(primary.MapsOverlay!) };
        if (medical is not null) data["medical"] = MedicalPageData(medical, positions);
        string html = LoadTemplate()
            .Replace(DataPlaceholder, data.ToJsonString(), StringComparison.Ordinal)
            .Replace(InlineChunksPlaceholder, inline.ToString(), StringComparison.Ordinal);
        var index = Path.Combine(outputFolder, "index.html");
        File.WriteAllText(index, html);
        if (options.SelfContained) Directory.Delete(framesDir, recursive: true);
        long bytes = new FileInfo(index).Length + (Directory.Exists(framesDir) ? Directory.EnumerateFiles(framesDir).Sum(f => new FileInfo(f).Length) : 0);
        return new ReviewPage(index, positions.Count, layers.Select(l => l.Title).ToList(), bytes, note) { Warnings = warnings };
    }

    /// <summary>Frames a video holds, by demuxing without decoding (a missing file holds none).</summary>
    private static int CountFrames(string videoPath)
    {
        if (!File.Exists(videoPath)) return 0;
        using var capture = new VideoCapture(videoPath);
        if (!capture.IsOpened()) return 0;
        int n = 0;
        while (capture.Grab()) n++;
        return n;
    }

    /// <summary>A run as the page needs it: its records by frame index, each with the video frame it belongs to.</summary>
    /// <param name="Overlay">Set when the page draws this run's panel from its maps (no annotated video).</param>
    /// <param name="MapsOverlay">How the run's maps are drawn, whenever it kept maps (object runs keep an annotated
    /// video for their boxes, and their per-object maps are drawn from this).</param>
    private sealed record Run(RunFolder Folder, RunManifest Manifest, FrameLines Lines, Dictionary<long, (JsonObject Record, int VideoFrame)> ByIndex, RunOverlay? Overlay,
        RunOverlay? MapsOverlay);

    /// <summary>The chunk key of run <paramref name="i"/>'s 8-bit maps.</summary>
    private static string OverlayMapsKey(int i) => $"ov{i}";

    private static Run LoadRun(string path)
    {
        var folder = new RunFolder(path);
        var manifest = folder.ReadManifest();
        // A run that kept its annotated frames (an older run; a plugin's overlay or object boxes drawn on them) is shown
        // from those; any other run needs only the original video and draws its maps (maps/overlay.json). The videos are named before any is read: a run folder
        // missing one is not whole, and the error says which.
        var mapsOverlay = Directory.Exists(folder.Maps) ? RunOverlay.Read(folder.Maps) : null;
        var overlay = !File.Exists(folder.AnnotatedVideo) ? mapsOverlay : null;
        var videos = overlay is null ? new[] { folder.OriginalVideo, folder.AnnotatedVideo } : [folder.OriginalVideo];
        foreach (var video in videos)
            if (!File.Exists(video))
                throw new FileNotFoundException(overlay is null
                    ? $"Run '{folder.Path}' has no {Path.GetFileName(video)} (a run folder without maps holds {RunFolder.OriginalVideoName} and {RunFolder.AnnotatedVideoName}; write it again with: sacam video SOURCE --run DIR)."
                    : $"Run '{folder.Path}' has no {Path.GetFileName(video)} (write it again with: sacam video SOURCE --run DIR).", video);
        var lines = folder.ReadFrameLines();
        var byIndex = new Dictionary<long, (JsonObject, int)>();
        foreach (var r in lines.Records) byIndex.TryAdd(FrameIndex(r.Record), r);
        return new Run(folder, manifest, lines, byIndex, overlay, mapsOverlay);
    }

    private static long FrameIndex(JsonObject record) =>
        record["index"]?.GetValue<long>() ?? throw new InvalidDataException("a frame record has no \"index\"");

    private static string MethodTitle(List<Run> runs, int i)
    {
        var manifest = runs[i].Manifest;
        // Runs of several models name the model on each panel; two runs alike in both are told apart by folder.
        bool severalModels = runs.Select(r => r.Manifest.Model).Distinct(StringComparer.Ordinal).Count() > 1;
        string title = severalModels ? $"{manifest.Method} ({ModelName(manifest.Model)})" : manifest.Method;
        bool ambiguous = runs.Count(r => r.Manifest.Method == manifest.Method && r.Manifest.Model == manifest.Model) > 1;
        return ambiguous ? $"{title} ({Path.GetFileName(runs[i].Folder.Path)})" : title;
    }

    /// <summary>
    /// Reads one video of a run in order and writes the frames the review shows as chunk scripts. The k-th video
    /// frame belongs to the k-th JSONL record; a frame the video lacks (an interrupted run) stays empty in the page.
    /// </summary>
    private static (int Width, int Height) WriteLayer(string key, string videoPath, Run run, List<long> positions, string framesDir,
        ReviewOptions options, Action<string> onChunk)
    {
        if (!File.Exists(videoPath)) throw new FileNotFoundException($"Run '{run.Folder.Path}' has no {Path.GetFileName(videoPath)}.", videoPath);
        var wanted = new Dictionary<int, int>(); // frame of this run's video -> position in the review
        for (int p = 0; p < positions.Count; p++)
            if (run.ByIndex.TryGetValue(positions[p], out var r)) wanted[r.VideoFrame] = p;

        using var capture = new VideoCapture(videoPath);
        if (!capture.IsOpened()) throw new InvalidDataException($"Cannot read video '{videoPath}'.");
        var size = (capture.FrameWidth, capture.FrameHeight);
        // Chunks are written as soon as the video has passed them, so memory holds one chunk, not the run.
        var chunk = new ChunkWriter(key, framesDir, options.ChunkSize, positions.Count, onChunk);
        int k = 0;
        foreach (var jpeg in JpegFrames(videoPath, options.JpegQuality))
        {
            if (wanted.TryGetValue(k, out int p)) chunk.Add(p, "data:image/jpeg;base64," + Convert.ToBase64String(jpeg));
            k++;
        }
        chunk.Finish();
        return size;
    }

    /// <summary>
    /// A video's frames as JPEG files, in order. A run's MJPG video already is one JPEG per frame: those bytes are
    /// passed through as they are (what the run stored, not a second lossy generation, and smaller: 4.8 MB for 150
    /// dashcam frames where re-encoding at quality 85 made 6.0 MB). Any other codec is decoded and encoded at
    /// <paramref name="quality"/>.
    /// </summary>
    private static IEnumerable<byte[]> JpegFrames(string videoPath, int quality)
    {
        using (var raw = new VideoCapture(videoPath, VideoCaptureAPIs.FFMPEG))
        {
            // Format -1 asks FFmpeg for the demuxed packets instead of decoded frames.
            if (raw.IsOpened() && raw.Set(VideoCaptureProperties.Format, -1))
            {
                using var packet = new Mat();
                bool first = true;
                while (raw.Read(packet) && !packet.Empty())
                {
                    var bytes = new byte[packet.Total() * packet.ElemSize()];
                    System.Runtime.InteropServices.Marshal.Copy(packet.Data, bytes, 0, bytes.Length);
                    bool jpeg = bytes.Length > 2 && bytes[0] == 0xFF && bytes[1] == 0xD8;
                    if (first && !jpeg) break;       // not MJPG: decode and encode below
                    first = false;
                    yield return bytes;
                }
                if (!first) yield break;
            }
        }
        using var capture = new VideoCapture(videoPath);
        var encode = new ImageEncodingParam(ImwriteFlags.JpegQuality, quality);
        using var frame = new Mat();
        while (capture.Read(frame) && !frame.Empty())
        {
            Cv2.ImEncode(".jpg", frame, out byte[] jpeg, encode);
            yield return jpeg;
        }
    }

    /// <summary>A run's 8-bit PNG maps as they are (no re-encoding: the page reads the same levels the run stored), in
    /// review order; a frame the run has no map of stays empty.</summary>
    private static void WriteMaps(string key, Run run, List<long> positions, string framesDir, ReviewOptions options, Action<string> onChunk)
    {
        var chunk = new ChunkWriter(key, framesDir, options.ChunkSize, positions.Count, onChunk);
        for (int p = 0; p < positions.Count; p++)
        {
            if (!run.ByIndex.ContainsKey(positions[p])) continue;
            var file = Path.Combine(run.Folder.Maps, RunFolder.MapFileName(positions[p]));
            if (File.Exists(file)) chunk.Add(p, "data:image/png;base64," + Convert.ToBase64String(File.ReadAllBytes(file)));
        }
        chunk.Finish();
    }

    private const string TrackMapsKey = "objmaps";

    /// <summary>The tracks of a frame's objects that have a map in the run folder, in the order of the record's
    /// objects: row k of the frame's stacked map image is the k-th of them.</summary>
    private static List<int> TracksWithMaps(Run run, long index)
    {
        var tracks = new List<int>();
        if (!run.ByIndex.TryGetValue(index, out var r) || r.Record["objects"] is not JsonArray objects) return tracks;
        foreach (var o in objects)
            if (o?["track"] is JsonValue track && File.Exists(Path.Combine(run.Folder.Maps, RunFolder.ObjectMapFileName(index, track.GetValue<int>()))))
                tracks.Add(track.GetValue<int>());
        return tracks;
    }

    /// <summary>Per frame, its objects' 8-bit maps stacked top to bottom in one PNG (the levels as stored); false when
    /// the run has no object maps at all.</summary>
    private static bool WriteObjectMaps(string key, Run run, List<long> positions, string framesDir, ReviewOptions options, Action<string> onChunk)
    {
        if (!positions.Any(i => TracksWithMaps(run, i).Count > 0)) return false;
        var chunk = new ChunkWriter(key, framesDir, options.ChunkSize, positions.Count, onChunk);
        for (int p = 0; p < positions.Count; p++)
        {
            var tracks = TracksWithMaps(run, positions[p]);
            if (tracks.Count == 0) continue;
            var maps = tracks.Select(t => Cv2.ImRead(Path.Combine(run.Folder.Maps, RunFolder.ObjectMapFileName(positions[p], t)), ImreadModes.Grayscale)).ToArray();
            try
            {
                using var stacked = new Mat();
                Cv2.VConcat(maps, stacked);
                Cv2.ImEncode(".png", stacked, out byte[] png);
                chunk.Add(p, "data:image/png;base64," + Convert.ToBase64String(png));
            }
            finally
            {
                foreach (var m in maps) m.Dispose();
            }
        }
        chunk.Finish();
        return true;
    }

    /// <summary>Collects one layer's frames in review order and writes each chunk script once the frames have moved
    /// past it (frames arrive in order; a frame the video lacks stays null, an empty panel in the page).</summary>
    private sealed class ChunkWriter(string key, string folder, int chunkSize, int frames, Action<string> onChunk)
    {
        private readonly string?[] _current = new string?[chunkSize];
        private int _chunk;

        public void Add(int position, string url)
        {
            while (position / chunkSize > _chunk) Flush();
            _current[position % chunkSize] = url;
        }

        public void Finish()
        {
            while (_chunk * chunkSize < frames) Flush();
        }

        // The default encoder writes every '+' of base64 as \u002B (8% of a page of JPEG frames). The relaxed one writes it
        // as itself but would also leave '<' alone, which inside an inlined <script> could end it: so it serves only
        // arrays without '<' (data: URLs and the builder's own relative paths always are).
        private static readonly JsonSerializerOptions RelaxedEscaping = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

        private static string UrlArray(string?[] urls) =>
            urls.Any(u => u is not null && u.Contains('<')) ? JsonSerializer.Serialize(urls) : JsonSerializer.Serialize(urls, RelaxedEscaping);

        private void Flush()
        {
            int length = Math.Min(chunkSize, frames - _chunk * chunkSize);
            string script = $"window.sacamReview.chunk({JsonSerializer.Serialize(key)},{_chunk},{UrlArray(_current.Take(length).ToArray())});";
            File.WriteAllText(Path.Combine(folder, $"{key}-{_chunk}.js"), script);
            onChunk(script);
            Array.Clear(_current);
            _chunk++;
        }
    }

    private static JsonObject PageData(List<Run> runs, List<(string Key, string Title)> layers, List<long> positions, (int Width, int Height) size, ReviewOptions options, bool drawOverlays)
    {
        var primary = runs[0];
        var frames = new JsonArray();
        foreach (var record in positions.Select(i => primary.ByIndex[i].Record))
        {
            var frame = new JsonObject
            {
                ["index"] = FrameIndex(record),
                ["t"] = record["timestamp"]?.GetValue<double>() ?? 0,
                ["label"] = record["label"]?.GetValue<string>() ?? record["class"]?.ToString(),
                ["score"] = record["score"]?.GetValue<double>() ?? 0,
            };
            if (record["objects"] is JsonArray objects) frame["objects"] = ObjectsOnFrame(objects, size, TracksWithMaps(primary, FrameIndex(record)));
            frames.Add(frame);
        }
        var series = new JsonArray();
        for (int i = 0; i < runs.Count; i++)
        {
            var peakX = new JsonArray();
            var peakY = new JsonArray();
            var entropy = new JsonArray();
            var peaks = new JsonArray();
            var deletion = new JsonArray();
            var insertion = new JsonArray();
            var fails = new JsonArray();
            var confidence = new JsonArray();
            foreach (long index in positions)
            {
                var r = runs[i].ByIndex.TryGetValue(index, out var found) ? found.Record : null;
                peakX.Add(Fraction(r?["peak"]?["x"], size.Width));
                peaks.Add(r?["peak"] is JsonObject peak ? new JsonArray(peak["x"]?.DeepClone(), peak["y"]?.DeepClone()) : null);
                peakY.Add(Fraction(r?["peak"]?["y"], size.Height));
                entropy.Add(r?["entropy"]?.GetValue<double>());
                var quality = FrameQuality(r);
                deletion.Add(quality?.Deletion);
                insertion.Add(quality?.Insertion);
                fails.Add(quality?.Fails);
                // sacam-rt's trust in its score term on that frame (score_confidence); absent for other methods.
                confidence.Add(r?["score_confidence"] is JsonValue c ? c.GetValue<double>() : null);
            }
            series.Add(new JsonObject
            {
                ["layer"] = $"m{i}", ["method"] = layers[i + 1].Title, ["peakX"] = peakX, ["peakY"] = peakY, ["entropy"] = entropy, ["peak"] = peaks,
                ["deletion"] = deletion, ["insertion"] = insertion, ["fails"] = fails, ["confidence"] = confidence,
            });
        }
        return new JsonObject
        {
            ["title"] = $"{primary.Manifest.Source}",
            ["model"] = primary.Manifest.Model,
            ["models"] = new JsonArray(runs.Select(r => r.Manifest.Model).Distinct(StringComparer.Ordinal).Select(m => (JsonNode)JsonValue.Create(m)).ToArray()),
            ["fps"] = primary.Manifest.FramesPerSecond > 0 ? primary.Manifest.FramesPerSecond : 25,
            ["frameWidth"] = size.Width,
            ["frameHeight"] = size.Height,
            ["chunkSize"] = options.ChunkSize,
            ["inline"] = options.SelfContained,
            ["layers"] = new JsonArray(layers.Select((l, i) => (JsonNode)LayerData(l.Key, l.Title, i == 0 || !drawOverlays ? null : runs[i - 1], i - 1)).ToArray()),
            ["frames"] = frames,
            ["series"] = series,
            ["built"] = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
        };
    }

    /// <summary>
    /// A record's quality check (`sacam video --quality-every`), as the timeline plots it: the frame's own, or for an
    /// object run the worst of its objects' (the lowest insertion minus deletion), so a frame is flagged when any
    /// object's map fails; null on frames without a check.
    /// </summary>
    private static MapQuality? FrameQuality(JsonObject? record)
    {
        static MapQuality? Read(JsonNode? q) =>
            q?["deletion"] is JsonValue d && q["insertion"] is JsonValue i ? new MapQuality(d.GetValue<double>(), i.GetValue<double>()) : null;
        if (record is null) return null;
        if (Read(record["quality"]) is { } own) return own;
        return (record["objects"] as JsonArray)?.Select(o => Read(o?["quality"])).OfType<MapQuality>()
            .OrderBy(q => q.Insertion - q.Deletion).FirstOrDefault();
    }

    /// <summary>A frame's objects as the page draws them: track, label, score and the box as shares of the frame
    /// (so it scales with the panel); the peak in frame pixels and the row of the frame's stacked object maps that
    /// holds the object's map, when the run kept it.</summary>
    private static JsonArray ObjectsOnFrame(JsonArray objects, (int Width, int Height) size, List<int> tracksWithMaps)
    {
        var result = new JsonArray();
        foreach (var o in objects)
        {
            if (o?["track"] is not JsonValue track || o["box"] is not JsonArray { Count: 4 } box || size.Width <= 0 || size.Height <= 0) continue;
            double B(int i, int extent) => Math.Round(box[i]!.GetValue<double>() / extent, 4);
            result.Add(new JsonObject
            {
                ["track"] = track.GetValue<int>(), ["label"] = o["label"]?.DeepClone(), ["score"] = o["score"]?.DeepClone(),
                ["box"] = new JsonArray(B(0, size.Width), B(1, size.Height), B(2, size.Width), B(3, size.Height)),
                ["peak"] = o["peak"]?.DeepClone(),
                ["map"] = tracksWithMaps.IndexOf(track.GetValue<int>()) is int row and >= 0 ? row : null,
            });
        }
        return result;
    }

    /// <summary>A panel: its key and title and, for a run drawn from its maps, where the maps are and how to draw them.</summary>
    private static JsonObject LayerData(string key, string title, Run? run, int runIndex)
    {
        var layer = new JsonObject { ["key"] = key, ["title"] = title };
        if (run?.Overlay is not RunOverlay o) return layer;
        layer["maps"] = OverlayMapsKey(runIndex);
        layer["overlay"] = OverlayData(o);
        return layer;
    }

    /// <summary>How the page draws a run's 8-bit maps over its original frames, as sacam's overlay does.</summary>
    private static JsonObject OverlayData(RunOverlay o) =>
        new()
        {
            ["frame"] = new JsonArray(o.FrameSize.Select(v => (JsonNode)v).ToArray()),
            ["input"] = new JsonArray(o.InputSize.Select(v => (JsonNode)v).ToArray()),
            ["source"] = new JsonArray(o.SourceRect.Select(v => (JsonNode)v).ToArray()),
            ["target"] = new JsonArray(o.TargetRect.Select(v => (JsonNode)v).ToArray()),
            ["alpha"] = o.Alpha,
            ["contour"] = o.ContourLevel,
            ["peakMarker"] = o.PeakMarker,
            ["colormap"] = o.ColorMap,
            ["table"] = new JsonArray(o.ColorTableRgb.SelectMany(c => c).Select(v => (JsonNode)v).ToArray()),
        };

    /// <summary>The source/medical.json of a run written from a DICOM source, or null.</summary>
    private static JsonObject? MedicalExtras(Run run)
    {
        var file = Path.Combine(run.Folder.SourceExtras, "medical.json");
        return File.Exists(file) ? JsonNode.Parse(File.ReadAllText(file)) as JsonObject : null;
    }

    /// <summary>What the page needs to re-window: presets, the file's window, and each shown frame's slice position.</summary>
    private static JsonObject MedicalPageData(JsonObject medical, List<long> positions)
    {
        var byIndex = new Dictionary<long, JsonNode?>();
        foreach (var f in medical["frames"]?.AsArray() ?? [])
            if (f?["index"]?.GetValue<long>() is long i) byIndex[i] = f["positionMm"]?.DeepClone();
        return new JsonObject
        {
            ["label"] = medical["label"]?.DeepClone(),
            ["kind"] = medical["kind"]?.DeepClone(),
            ["monochrome1"] = medical["monochrome1"]?.DeepClone(),
            ["fileWindow"] = medical["fileWindow"]?.DeepClone(),
            ["presets"] = medical["presets"]?.DeepClone(),
            ["positionsMm"] = new JsonArray(positions.Select(i => byIndex.GetValueOrDefault(i)?.DeepClone()).ToArray()),
        };
    }

    /// <summary>A model as a panel title shows it: a file's name without its folder, an id as it is.</summary>
    private static string ModelName(string model) => Path.GetFileName(model.TrimEnd('/', '\\')) is { Length: > 0 } name ? name : model;

    private static JsonNode? Fraction(JsonNode? value, int extent) =>
        value is null || extent <= 0 ? null : JsonValue.Create(Math.Round(value.GetValue<double>() / extent, 4));

    private static string LoadTemplate()
    {
        using var stream = typeof(ReviewBuilder).Assembly.GetManifestResourceStream(PageResource)
            ?? throw new InvalidOperationException($"resource {PageResource} missing from {typeof(ReviewBuilder).Assembly.GetName().Name}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
