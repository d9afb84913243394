namespace SaCam.Evaluation;

/// <summary>
/// Method A against method B on the same images: the mean of the per-image differences (A - B, in the metric's own
/// direction: positive means A scored higher), its paired bootstrap 95% interval, and how many images each won.
/// </summary>
public sealed record PairedDifference(string A, string B, int Images, double MeanDifference, double Low, double High, int WinsA, int WinsB, int Ties)
{
    /// <summary>The interval excludes 0: on these images the difference is not a resampling accident.</summary>
    public bool Separated => Images > 1 && (Low > 0 || High < 0);
}

/// <summary>
/// Paired bootstrap of the difference of two methods' means over the same images (Efron and Tibshirani 1993, the
/// percentile interval): draw the images with replacement <see cref="Resamples"/> times, take the mean of the
/// per-image differences of each draw, and read the 2.5th and 97.5th percentiles of those means. Pairing matters: the
/// spread between images (one hard image moves every method) cancels in the per-image difference.
/// Seeded: the same seed, values and resample count give the same interval on every machine (System.Random with a
/// seed is the .NET Framework-compatible generator, fixed across runtimes).
/// </summary>
public sealed class PairedBootstrap(int seed = 0, int resamples = 10_000)
{
    public int Seed { get; } = seed;
    public int Resamples { get; } = resamples > 0 ? resamples : throw new ArgumentOutOfRangeException(nameof(resamples), "at least one resample");

    /// <summary>Ties closer than this count as ties in the win counts (metrics are computed in float32).</summary>
    public const double TieTolerance = 1e-9;

    /// <param name="a">Method A's value on each image.</param>
    /// <param name="b">Method B's value on the same images, in the same order.</param>
    public PairedDifference Compare(string nameA, IReadOnlyList<double> a, string nameB, IReadOnlyList<double> b)
    {
        if (a.Count != b.Count) throw new ArgumentException($"{nameA} has {a.Count} values and {nameB} {b.Count}: a paired comparison needs one of each per image.");
        if (a.Count == 0) throw new ArgumentException("No image to compare on.");
        int n = a.Count;
        var d = new double[n];
        for (int i = 0; i < n; i++) d[i] = a[i] - b[i];
        int winsA = d.Count(v => v > TieTolerance), winsB = d.Count(v => v < -TieTolerance);
        double mean = d.Average();
        var means = new double[Resamples];
        var random = new Random(Seed);
        for (int r = 0; r < Resamples; r++)
        {
            double sum = 0;
            for (int i = 0; i < n; i++) sum += d[random.Next(n)];
            means[r] = sum / n;
        }
        Array.Sort(means);
        return new PairedDifference(nameA, nameB, n, mean, Percentile(means, 2.5), Percentile(means, 97.5), winsA, winsB, n - winsA - winsB);
    }

    /// <summary>Every pair of methods (i before j in the given order), each compared on the images both have.</summary>
    public IReadOnlyList<PairedDifference> AllPairs(IReadOnlyList<(string Method, IReadOnlyList<double> Values)> methods)
    {
        var pairs = new List<PairedDifference>();
        for (int i = 0; i < methods.Count; i++)
            for (int j = i + 1; j < methods.Count; j++)
                pairs.Add(Compare(methods[i].Method, methods[i].Values, methods[j].Method, methods[j].Values));
        return pairs;
    }

    /// <summary>The p-th percentile of sorted values, linear between the closest ranks (numpy's default, "type 7"):
    /// position p/100 * (n - 1).</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double p)
    {
        if (sorted.Count == 0) throw new ArgumentException("No values.");
        double position = p / 100 * (sorted.Count - 1);
        int lower = (int)Math.Floor(position);
        int upper = Math.Min(lower + 1, sorted.Count - 1);
        return sorted[lower] + (position - lower) * (sorted[upper] - sorted[lower]);
    }
}
