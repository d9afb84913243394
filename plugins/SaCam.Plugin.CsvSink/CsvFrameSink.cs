using System.Globalization;
using SaCam.Plugins;
using SaCam.Video.Pipeline;
using SaCam.Video.Sinks;

[assembly: SaCamPlugin(PluginContract.Version)]

namespace SaCam.Plugin.CsvSink;

/// <summary>
/// One row per frame (index, timestamp, class, label, score, peak x/y, entropy, explain and end-to-end latency), or,
/// on a run of an object target (<c>--target det:all</c>, <c>seg:CLASS</c>, <c>output:NAME</c>), one row per explained
/// object (its track, class, label, score, box, peak, energy in box, explain time). Which of the two a run is shows on
/// its first frame, so the header is written then (a run that wrote no frame gets the frame header, so the file is never
/// empty). Flushed row by row, so an interrupted run leaves whole rows. Labels are quoted (ImageNet labels hold commas).
/// </summary>
public sealed class CsvFrameSink : IFrameSink
{
    public const string Header = "index,timestamp_s,class,label,score,peak_x,peak_y,entropy,explain_ms,latency_ms";
    public const string ObjectHeader = "index,timestamp_s,track,class,label,score,x0,y0,x1,y1,peak_x,peak_y,energy_in_box,explain_ms,latency_ms";
    private readonly StreamWriter _writer;
    private bool _headerWritten;

    public CsvFrameSink(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new ArgumentException("The csv sink needs a file: --sink csv:FILE.csv");
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        _writer = new StreamWriter(path, append: false) { AutoFlush = true };
    }

    public void Write(AnnotatedFrame frame)
    {
        var objects = frame.Explanation.Objects;
        WriteHeaderOnce(objects is null ? Header : ObjectHeader);
        if (objects is null) WriteFrameRow(frame);
        else foreach (var o in objects) WriteObjectRow(frame, o);
    }

    private void WriteHeaderOnce(string header)
    {
        if (_headerWritten) return;
        _writer.WriteLine(header);
        _headerWritten = true;
    }

    private void WriteFrameRow(AnnotatedFrame frame)
    {
        var e = frame.Explanation;
        var s = e.Statistics;
        _writer.WriteLine(string.Join(',',
            Number(frame.Frame.Index),
            frame.Frame.Timestamp.TotalSeconds.ToString("F6", CultureInfo.InvariantCulture),
            Number(e.ClassIndex),
            Quoted(e.Label),
            e.Score.ToString("F6", CultureInfo.InvariantCulture),
            s is null ? "" : Number(s.Peak.X),
            s is null ? "" : Number(s.Peak.Y),
            s is null ? "" : s.Entropy.ToString("F6", CultureInfo.InvariantCulture),
            e.ExplainMs.ToString("F2", CultureInfo.InvariantCulture),
            frame.LatencyMs.ToString("F2", CultureInfo.InvariantCulture)));
    }

    private void WriteObjectRow(AnnotatedFrame frame, ObjectExplanation o)
    {
        _writer.WriteLine(string.Join(',',
            Number(frame.Frame.Index),
            frame.Frame.Timestamp.TotalSeconds.ToString("F6", CultureInfo.InvariantCulture),
            Number(o.Track),
            o.Class is int c ? Number(c) : "",
            Quoted(o.Label),
            o.Score.ToString("F6", CultureInfo.InvariantCulture),
            Number(o.Box.Left), Number(o.Box.Top), Number(o.Box.Right), Number(o.Box.Bottom),
            Number(o.Peak.X), Number(o.Peak.Y),
            o.EnergyInBox.ToString("F4", CultureInfo.InvariantCulture),
            o.ExplainMs.ToString("F2", CultureInfo.InvariantCulture),
            frame.LatencyMs.ToString("F2", CultureInfo.InvariantCulture)));
    }

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Quoted(string? text) => "\"" + (text ?? "").Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    public void Dispose()
    {
        WriteHeaderOnce(Header);
        _writer.Dispose();
    }
}

/// <summary>Adds sink id <c>csv</c> (<c>--sink csv:FILE.csv</c>).</summary>
public sealed class CsvSinkPlugin : ISaCamPlugin
{
    public string Name => "CSV sink";

    public void Register(IPluginRegistry registry) => registry.AddSink("csv", path => new CsvFrameSink(path));
}
