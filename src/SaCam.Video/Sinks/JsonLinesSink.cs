using System.Text.Json;
using System.Text.Json.Nodes;
using SaCam.Video.Pipeline;

namespace SaCam.Video.Sinks;

/// <summary>
/// One JSON object per frame: index, timestamp, class, label, score, top-5, map peak, attended box, map entropy,
/// latency and the method's budget figures. Flushed line by line, so an interrupted run leaves whole lines.
/// </summary>
public sealed class JsonLinesSink : IFrameSink
{
    private readonly StreamWriter _writer;

    public JsonLinesSink(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        _writer = new StreamWriter(path, append: false) { AutoFlush = true };
    }

    public void Write(AnnotatedFrame frame) => _writer.WriteLine(ToJson(frame).ToJsonString());

    public static JsonObject ToJson(AnnotatedFrame frame)
    {
        var e = frame.Explanation;
        var line = new JsonObject
        {
            ["index"] = frame.Frame.Index,
            ["timestamp"] = Math.Round(frame.Frame.Timestamp.TotalSeconds, 6),
            ["method"] = e.MethodId,
            ["class"] = e.ClassIndex,
            ["label"] = e.Label,
            ["score"] = Math.Round(e.Score, 6),
            ["top5"] = new JsonArray(e.Top5.Select(t => (JsonNode)new JsonObject
            {
                ["index"] = t.Index, ["label"] = t.Label, ["probability"] = Math.Round(t.Probability, 6),
            }).ToArray()),
            ["latency_ms"] = Math.Round(frame.LatencyMs, 2),
            ["explain_ms"] = Math.Round(e.ExplainMs, 2),
            ["dropped_before"] = frame.DroppedSoFar,
        };
        if (e.Statistics is { } s)
        {
            line["peak"] = new JsonObject { ["x"] = s.Peak.X, ["y"] = s.Peak.Y };
            line["box"] = new JsonObject { ["x"] = s.AttendedBox.X, ["y"] = s.AttendedBox.Y, ["w"] = s.AttendedBox.Width, ["h"] = s.AttendedBox.Height };
            line["entropy"] = Math.Round(s.Entropy, 6);
        }
        if (e.Quality is { } q) line["quality"] = QualityJson(q);
        if (e.Objects is not null) line["objects"] = new JsonArray(e.Objects.Select(o => (JsonNode)ObjectJson(o)).ToArray());
        foreach (var (key, value) in e.Diagnostics) line[key] = Math.Round(value, 4);
        return line;
    }

    private static JsonObject ObjectJson(ObjectExplanation o)
    {
        var entry = new JsonObject
        {
            ["track"] = o.Track, ["label"] = o.Label, ["class"] = o.Class, ["score"] = Math.Round(o.Score, 6),
            ["box"] = new JsonArray(o.Box.X, o.Box.Y, o.Box.X + o.Box.Width, o.Box.Y + o.Box.Height),
            ["peak"] = new JsonArray(o.Peak.X, o.Peak.Y), ["energy_in_box"] = Math.Round(o.EnergyInBox, 4), ["explain_ms"] = Math.Round(o.ExplainMs, 2),
        };
        if (o.Quality is { } q) entry["quality"] = QualityJson(q);
        return entry;
    }

    /// <summary>A map's quality check as a record carries it (`--quality-every`).</summary>
    public static JsonObject QualityJson(MapQuality q) => new() { ["deletion"] = Math.Round(q.Deletion, 6), ["insertion"] = Math.Round(q.Insertion, 6) };

    public void Dispose() => _writer.Dispose();
}
