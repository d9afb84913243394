using System.Globalization;
using SaCam.Evaluation;

namespace SaCam.Reports;

/// <summary>
/// The section every report that compares methods ends with: for one metric, each pair of methods' mean difference
/// over the same images with its paired bootstrap 95% interval and the win counts, as a table, a plot and CSV rows
/// (evaluation "bootstrap-METRIC", method "A vs B"). The number of images and the seed are written beside them.
/// </summary>
public static class PairedComparisons
{
    /// <param name="metric">The metric's name in the CSV and the plot's file name ("overall", "road-combined").</param>
    /// <param name="higherIsBetter">Says which sign of A - B is a win for A.</param>
    /// <param name="values">Each method's value per image, all in the same image order.</param>
    /// <param name="unit">What one value is of: "images", "objects", "frames".</param>
    public static void Write(Report report, PairedBootstrap bootstrap, string metric, string title, bool higherIsBetter,
                             IReadOnlyList<(string Method, IReadOnlyList<double> Values)> values, string unit = "images")
    {
        if (values.Count < 2 || values[0].Values.Count == 0) return;
        int n = values[0].Values.Count;
        var pairs = bootstrap.AllPairs(values);
        string better = higherIsBetter ? "higher" : "lower";
        report.Paragraph($"**{title}, method against method** ({better} is better): mean of the per-{Singular(unit)} differences A - B, its paired bootstrap 95% interval " +
                         $"(percentile interval, {bootstrap.Resamples} resamples of the {n} {unit}, seed {bootstrap.Seed}) and on how many {unit} each method was better." +
                         (n < 2 ? $" With one {Singular(unit)} there is nothing to resample: each interval is that {Singular(unit)}'s difference." : ""));
        var rows = new List<string[]>();
        foreach (var p in pairs)
        {
            int winsA = higherIsBetter ? p.WinsA : p.WinsB, winsB = higherIsBetter ? p.WinsB : p.WinsA;
            string verdict = !p.Separated ? "not separated" : (p.MeanDifference > 0) == higherIsBetter ? $"{p.A} better" : $"{p.B} better";
            rows.Add([$"{p.A} vs {p.B}", F(p.MeanDifference), $"[{F(p.Low)}, {F(p.High)}]", winsA.ToString(CultureInfo.InvariantCulture),
                      winsB.ToString(CultureInfo.InvariantCulture), p.Ties.ToString(CultureInfo.InvariantCulture), verdict]);
            string pair = $"{p.A} vs {p.B}";
            report.Value($"bootstrap-{metric}", pair, "all", "mean-difference", p.MeanDifference);
            report.Value($"bootstrap-{metric}", pair, "all", "ci-low", p.Low);
            report.Value($"bootstrap-{metric}", pair, "all", "ci-high", p.High);
            report.Value($"bootstrap-{metric}", pair, "all", "wins-a", winsA);
            report.Value($"bootstrap-{metric}", pair, "all", "wins-b", winsB);
            report.Value($"bootstrap-{metric}", pair, "all", "ties", p.Ties);
            report.Value($"bootstrap-{metric}", pair, "all", unit, n);
            report.Value($"bootstrap-{metric}", pair, "all", "seed", bootstrap.Seed);
        }
        report.Table(["A vs B", "mean A - B", "95% interval", "A better on", "B better on", "ties", "verdict"], rows);
        report.IntervalPlot($"bootstrap_{metric}", $"{title}: A - B", $"A - B ({better} is better); 95% paired bootstrap, {n} {unit}, seed {bootstrap.Seed}",
            pairs.Select(p => ($"{p.A} vs {p.B}", p.MeanDifference, p.Low, p.High)).ToList());
    }

    private static string Singular(string unit) => unit.EndsWith('s') ? unit[..^1] : unit;

    private static string F(double v) => v.ToString("F4", CultureInfo.InvariantCulture);
}
