using System.Diagnostics;

namespace SaCam.Benchmarks;

/// <summary>
/// Interleaved timing: every round runs each contender once, in the same order, so that drift on a shared machine
/// hits all of them alike; ratios are taken per round and summarized by their median.
/// </summary>
public static class Measure
{
    public static Dictionary<string, List<double>> Interleaved(int warmup, int rounds, IReadOnlyList<(string Name, Action Run)> contenders)
    {
        for (int w = 0; w < warmup; w++) foreach (var c in contenders) c.Run();
        var times = contenders.ToDictionary(c => c.Name, _ => new List<double>());
        for (int r = 0; r < rounds; r++)
            foreach (var c in contenders)
            {
                var clock = Stopwatch.StartNew();
                c.Run();
                times[c.Name].Add(clock.Elapsed.TotalSeconds);
            }
        return times;
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /// <summary>Median over rounds of a[i] / b[i].</summary>
    public static double MedianRatio(List<double> a, List<double> b) => Median(a.Zip(b, (x, y) => x / y));

    public static (double Low, double High) Spread(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return (sorted[(int)(0.1 * (sorted.Length - 1))], sorted[(int)Math.Ceiling(0.9 * (sorted.Length - 1))]);
    }
}
