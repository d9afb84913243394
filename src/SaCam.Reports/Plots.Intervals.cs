namespace SaCam.Reports;

public static partial class Plots
{
    /// <summary>Intervals, one row each (label on the left), the point estimate as a dot, and a vertical line at 0:
    /// which differences are told apart from none.</summary>
    public static void Intervals(string path, string title, string xLabel, IReadOnlyList<(string Label, double Estimate, double Low, double High)> rows)
    {
        var plot = new ScottPlot.Plot();
        var positions = new double[rows.Count];
        var labels = new string[rows.Count];
        for (int i = 0; i < rows.Count; i++)
        {
            double y = rows.Count - 1 - i; // the first row on top
            var (label, estimate, low, high) = rows[i];
            var bar = plot.Add.Line(low, y, high, y);
            bar.LineWidth = 2;
            bar.Color = ScottPlot.Colors.SteelBlue;
            var dot = plot.Add.Marker(estimate, y);
            dot.Color = ScottPlot.Colors.Black;
            positions[i] = y;
            labels[i] = label;
        }
        var zero = plot.Add.VerticalLine(0);
        zero.Color = ScottPlot.Colors.Gray;
        zero.LinePattern = ScottPlot.LinePattern.Dashed;
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(positions, labels);
        plot.Axes.SetLimitsY(-0.75, rows.Count - 0.25);
        plot.Title(title);
        plot.XLabel(xLabel);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        plot.SavePng(path, 720, Math.Max(240, 90 + 28 * rows.Count));
    }
}
