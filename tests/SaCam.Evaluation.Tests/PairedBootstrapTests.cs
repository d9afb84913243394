using SaCam.Evaluation;
using SaCam.Reports;

namespace SaCam.Tests;

/// <summary>The paired bootstrap on cases whose intervals can be worked out by hand.</summary>
[TestFixture]
public class PairedBootstrapTests
{
    [Test]
    public void A_constant_difference_has_a_zero_width_interval_at_that_difference()
    {
        var p = new PairedBootstrap(seed: 3, resamples: 500).Compare("a", [0.5, 0.7, 0.9], "b", [0.3, 0.5, 0.7]);
        Assert.Multiple(() =>
        {
            Assert.That(p.MeanDifference, Is.EqualTo(0.2).Within(1e-12));
            Assert.That(p.Low, Is.EqualTo(0.2).Within(1e-12));
            Assert.That(p.High, Is.EqualTo(0.2).Within(1e-12));
            Assert.That((p.WinsA, p.WinsB, p.Ties), Is.EqualTo((3, 0, 0)));
            Assert.That(p.Separated);
        });
    }

    /// <summary>Differences {0, 1}: a resample's mean is 0 (both draws 0), 0.5 or 1 with probabilities 1/4, 1/2, 1/4,
    /// so with many resamples the 2.5th percentile is 0 and the 97.5th is 1, and about half the means are 0.5.</summary>
    [Test]
    public void Two_images_give_the_interval_of_the_three_possible_resample_means()
    {
        var p = new PairedBootstrap(seed: 1, resamples: 20_000).Compare("a", [1, 3], "b", [1, 2]);
        Assert.Multiple(() =>
        {
            Assert.That(p.MeanDifference, Is.EqualTo(0.5).Within(1e-12));
            Assert.That(p.Low, Is.EqualTo(0).Within(1e-12));
            Assert.That(p.High, Is.EqualTo(1).Within(1e-12));
            Assert.That((p.WinsA, p.WinsB, p.Ties), Is.EqualTo((1, 0, 1)), "image 1 a tie, image 2 a win for a");
            Assert.That(p.Separated, Is.False);
        });
    }

    /// <summary>For n differences with mean m and (population) sd s, the bootstrap mean's sd is s / sqrt(n); on 400
    /// values alternating 0 and 1 (m = 0.5, s = 0.5) the 95% interval is close to 0.5 +- 1.96 * 0.025 = [0.451, 0.549].</summary>
    [Test]
    public void Many_images_give_the_normal_approximation()
    {
        var a = Enumerable.Range(0, 400).Select(i => (double)(i % 2)).ToArray();
        var b = new double[400];
        var p = new PairedBootstrap(seed: 11).Compare("a", a, "b", b);
        Assert.That(p.Low, Is.EqualTo(0.451).Within(0.006));
        Assert.That(p.High, Is.EqualTo(0.549).Within(0.006));
        Assert.That((p.WinsA, p.Ties), Is.EqualTo((200, 200)));
    }

    [Test]
    public void The_same_seed_gives_the_same_interval_and_another_seed_another()
    {
        // 30 distinct differences and few resamples: the percentiles fall between resample means that another seed moves.
        var a = Enumerable.Range(0, 30).Select(i => Math.Sin(i * 1.7)).ToArray();
        var b = new double[30];
        var first = new PairedBootstrap(seed: 5, resamples: 200).Compare("a", a, "b", b);
        var again = new PairedBootstrap(seed: 5, resamples: 200).Compare("a", a, "b", b);
        var other = new PairedBootstrap(seed: 6, resamples: 200).Compare("a", a, "b", b);
        Assert.That(again, Is.EqualTo(first));
        Assert.That((other.Low, other.High), Is.Not.EqualTo((first.Low, first.High)));
    }

    [Test]
    public void One_image_gives_its_own_difference_and_is_never_called_separated()
    {
        var p = new PairedBootstrap().Compare("a", [0.9], "b", [0.4]);
        Assert.That((p.Low, p.MeanDifference, p.High), Is.EqualTo((0.5, 0.5, 0.5)));
        Assert.That(p.Separated, Is.False, "one image is no sample");
    }

    [Test]
    public void Unpaired_values_are_refused()
    {
        Assert.That(() => new PairedBootstrap().Compare("a", [1, 2], "b", [1]), Throws.ArgumentException.With.Message.Contains("one of each per image"));
    }

    [Test]
    public void Percentile_is_linear_between_ranks()
    {
        double[] sorted = [0, 10, 20, 30, 40];
        Assert.That(PairedBootstrap.Percentile(sorted, 2.5), Is.EqualTo(1.0).Within(1e-12));  // position 0.1
        Assert.That(PairedBootstrap.Percentile(sorted, 97.5), Is.EqualTo(39.0).Within(1e-12)); // position 3.9
        Assert.That(PairedBootstrap.Percentile(sorted, 50), Is.EqualTo(20.0));
    }

    /// <summary>A lower-is-better metric counts the lower value as the win; the report holds the table, the plot,
    /// the seed and the image count.</summary>
    [Test]
    public void The_report_section_counts_wins_in_the_metrics_direction_and_names_seed_and_image_count()
    {
        var folder = Directory.CreateTempSubdirectory("sacam-bootstrap-").FullName;
        try
        {
            var report = new Report(folder, "test");
            PairedComparisons.Write(report, new PairedBootstrap(seed: 42, resamples: 100), "deletion", "Deletion AUC", higherIsBetter: false,
                [("a", [0.1, 0.2, 0.3]), ("b", [0.2, 0.3, 0.1])]);
            report.Save();
            var md = File.ReadAllText(Path.Combine(folder, "report.md"));
            var csv = File.ReadAllLines(Path.Combine(folder, "results.csv"));
            Assert.Multiple(() =>
            {
                Assert.That(md, Does.Contain("seed 42").And.Contain("100 resamples of the 3 images"));
                Assert.That(md, Does.Contain("| a vs b | 0.0000 |"));
                Assert.That(csv, Does.Contain("bootstrap-deletion,a vs b,all,wins-a,2"), "a is lower on two images");
                Assert.That(csv, Does.Contain("bootstrap-deletion,a vs b,all,wins-b,1"));
                Assert.That(new FileInfo(Path.Combine(folder, "plots", "bootstrap_deletion.png")).Length, Is.GreaterThan(1000));
            });
        }
        finally { Directory.Delete(folder, true); }
    }
}
