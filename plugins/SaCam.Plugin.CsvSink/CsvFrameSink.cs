using System.Globalization;
using SaCam.Plugins;
using SaCam.Video.Pipeline;
using SaCam.Video.Sinks;

[assembly: SaCamPlugin(PluginContract.Version)]

namespace SaCam.Plugin.CsvSink;

/// <summary>
/// One row per frame: index, timestamp, class, label, score, peak x/y, entropy, explain and end-to-end latency.
/// Flushed row by row, so an interrupted run leaves whole rows. Labels are quoted (ImageNet labels hold commas).
/// </summary>
public sealed class CsvFrameSink : IFrameSink
{
    public const string Header = "index,timestamp_s,class,label,score,peak_x,peak_y,entropy,explain_ms,latency_ms";
    private readonly StreamWriter _writer;

    public CsvFrameSink(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException("The csv sink needs a file: --sink csv:FILE.csv");
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        _writer = new StreamWriter(path, append: false) { AutoFlush = true };
        _writer.WriteLine(Header);
    }

    public void Write(AnnotatedFrame frame)
    {
        var e = frame.Explanation;
        var s = e.Statistics;
        string label = "\"" + (e.Label ?? "").Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
        _writer.WriteLine(string.Join(',',
            frame.Frame.Index.ToString(CultureInfo.InvariantCulture),
            frame.Frame.Timestamp.TotalSeconds.ToString("F6", CultureInfo.InvariantCulture),
            e.ClassIndex.ToString(CultureInfo.InvariantCulture),
            label,
            e.Score.ToString("F6", CultureInfo.InvariantCulture),
            s is null ? "" : s.Peak.X.ToString(CultureInfo.InvariantCulture),
            s is null ? "" : s.Peak.Y.ToString(CultureInfo.InvariantCulture),
            s is null ? "" : s.Entropy.ToString("F6", CultureInfo.InvariantCulture),
            e.ExplainMs.ToString("F2", CultureInfo.InvariantCulture),
            frame.LatencyMs.ToString("F2", CultureInfo.InvariantCulture)));
    }

    public void Dispose() => _writer.Dispose();
}

/// <summary>Adds sink id <c>csv</c> (<c>--sink csv:FILE.csv</c>).</summary>
public sealed class CsvSinkPlugin : ISaCamPlugin
{
    public string Name => "CSV sink";

    public void Register(IPluginRegistry registry) => registry.AddSink("csv", path => new CsvFrameSink(path));
}
