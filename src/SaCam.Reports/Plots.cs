namespace SaCam.Reports;

/// <summary>The project's plots, one look for every report (evaluation, fleet): ScottPlot PNGs, 720x420.</summary>
public static partial class Plots
{
    /// <summary>A line plot with one series per entry, written as a PNG at <paramref name="path"/>.</summary>
    public static void Line(string path, string title, string xLabel, string yLabel, IEnumerable<(string Label, double[] X, double[] Y)> series)
    {
        var plot = new ScottPlot.Plot();
        foreach (var (label, x, y) in series)
        {
            var line = plot.Add.Scatter(x, y);
            line.LegendText = label;
            line.MarkerSize = 0;
            line.LineWidth = 2;
        }
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.ShowLegend();
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        plot.SavePng(path, 720, 420);
    }
}
