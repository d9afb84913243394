using System.Globalization;
using System.Text;

namespace SaCam.Reports;

/// <summary>
/// An evaluation report in a folder: report.md (tables and the plots), results.csv (every number, long format:
/// one row per measurement), and plots/*.png.
/// </summary>
public sealed class Report
{
    private readonly StringBuilder _markdown = new();
    private readonly StringBuilder _csv = new("evaluation,method,image,key,value\n");

    public Report(string folder, string title)
    {
        Folder = folder;
        Directory.CreateDirectory(Path.Combine(folder, "plots"));
        _markdown.AppendLine($"# {title}").AppendLine();
    }

    public string Folder { get; }

    public void Paragraph(string text) => _markdown.AppendLine(text).AppendLine();

    public void Table(string[] header, IEnumerable<string[]> rows)
    {
        _markdown.AppendLine("| " + string.Join(" | ", header) + " |");
        _markdown.AppendLine("|" + string.Concat(header.Select((_, i) => i == 0 ? " --- |" : " ---: |")));
        foreach (var row in rows) _markdown.AppendLine("| " + string.Join(" | ", row) + " |");
        _markdown.AppendLine();
    }

    public void Value(string evaluation, string method, string image, string key, double value) =>
        _csv.AppendLine(string.Join(",", Csv(evaluation), Csv(method), Csv(image), Csv(key), value.ToString("R", CultureInfo.InvariantCulture)));

    /// <summary>A line plot with one series per entry; returns the PNG's path relative to the report.</summary>
    public string LinePlot(string name, string title, string xLabel, string yLabel, IEnumerable<(string Label, double[] X, double[] Y)> series)
    {
        var relative = Path.Combine("plots", name + ".png");
        Plots.Line(Path.Combine(Folder, relative), title, xLabel, yLabel, series);
        _markdown.AppendLine($"![{title}]({relative})").AppendLine();
        return relative;
    }

    /// <summary>An interval plot (see <see cref="Plots.Intervals"/>); returns the PNG's path relative to the report.</summary>
    public string IntervalPlot(string name, string title, string xLabel, IReadOnlyList<(string Label, double Estimate, double Low, double High)> rows)
    {
        var relative = Path.Combine("plots", name + ".png");
        Plots.Intervals(Path.Combine(Folder, relative), title, xLabel, rows);
        _markdown.AppendLine($"![{title}]({relative})").AppendLine();
        return relative;
    }

    public void Save()
    {
        File.WriteAllText(Path.Combine(Folder, "report.md"), _markdown.ToString());
        File.WriteAllText(Path.Combine(Folder, "results.csv"), _csv.ToString());
    }

    private static string Csv(string s) => s.Contains(',') || s.Contains('"') ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
}
