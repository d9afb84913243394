using System.Globalization;
using OpenCvSharp;
using SaCam.Cli;

namespace SaCam.Tests;

/// <summary>`sacam eval adversarial` and `sacam eval road` on MobileNetV2 with Grad-CAM (fast), and the edge cases
/// of issue 23: the same seed gives the same numbers, a folder with one image, an image smaller than the core area,
/// backgrounds of the image's own class.</summary>
[TestFixture, NeedsSharedData]
public class EvidenceEvalTests : TempFolderTest
{
    private static string Image(string name) => SharedData.Path_("media", "imagenet-val", name);

    private string OneImageFolder(string name)
    {
        var folder = Directory.CreateDirectory(Path.Combine(Dir, "one-" + name)).FullName;
        File.Copy(Image(name), Path.Combine(folder, name));
        return folder;
    }

    private (int Exit, string Err, string[] Csv, string Report) Adversarial(string images, string backgrounds, string outName, params string[] more)
    {
        var outDir = Path.Combine(Dir, outName);
        var (exit, _, stderr) = SacamInProcess.Run(["eval", "adversarial", "--model", SharedData.MobileNetV2, "--methods", "gradcam,layercam",
            "--images", images, "--backgrounds", backgrounds, "--pastes", "4", "--resamples", "200", "--out", outDir, .. more]);
        return exit != 0 ? (exit, stderr, [], "")
            : (exit, stderr, File.ReadAllLines(Path.Combine(outDir, "results.csv")), File.ReadAllText(Path.Combine(outDir, "report.md")));
    }

    private static double Value(string[] csv, string prefix) =>
        double.Parse(csv.Single(l => l.StartsWith(prefix, StringComparison.Ordinal)).Split(',')[^1], CultureInfo.InvariantCulture);

    /// <summary>One image (a folder holding only it), pasted into the shared photos: the Tables 4/5 form, the same
    /// numbers for the same seed, other pastes for another seed, and no interval from one image.</summary>
    [Test]
    public void Adversarial_on_a_folder_with_one_image_is_seeded_and_says_one_image_gives_no_interval()
    {
        var images = OneImageFolder("ILSVRC2012_val_00000073.JPEG");
        var backgrounds = SharedData.Path_("media", "images");
        var first = Adversarial(images, backgrounds, "a");
        var again = Adversarial(images, backgrounds, "b");
        var other = Adversarial(images, backgrounds, "c", "--seed", "5");
        Assert.That(first.Exit, Is.EqualTo(0), first.Err);
        string fading = "adversarial-fading-Case-1,gradcam,ILSVRC2012_val_00000073.JPEG,fading-rate,";
        Assert.Multiple(() =>
        {
            Assert.That(again.Csv, Is.EqualTo(first.Csv), "same seed, same numbers");
            Assert.That(Value(other.Csv, fading), Is.Not.EqualTo(Value(first.Csv, fading)), "another seed draws other backgrounds and positions");
            Assert.That(first.Report, Does.Contain("Accuracy (%), higher is better (the paper's Table 4)").And.Contain("Fading rate (%), lower is better (the paper's Table 5)"));
            Assert.That(first.Report, Does.Contain("| Case-1 |").And.Contain("background alone"));
            Assert.That(first.Report, Does.Contain("With one image there is nothing to resample"));
            Assert.That(Value(first.Csv, "adversarial-accuracy-Case-1,background alone,"), Is.EqualTo(0), "no background is of the image's class, so alone none is classified as it");
            Assert.That(Value(first.Csv, fading), Is.InRange(-1.0, 1.0));
        });
    }

    /// <summary>The only background is a copy of the image: it is classified as the image's own class, so there is
    /// nothing to paste into: exit 1 naming the folder.</summary>
    [Test]
    public void Backgrounds_all_of_the_images_own_class_are_refused_naming_the_folder()
    {
        var name = "ILSVRC2012_val_00000057.JPEG";
        var images = OneImageFolder(name);
        var backgrounds = Directory.CreateDirectory(Path.Combine(Dir, "same-class")).FullName;
        File.Copy(Image(name), Path.Combine(backgrounds, "copy.jpg"));
        var (exit, err, _, _) = Adversarial(images, backgrounds, "own");
        Assert.That(exit, Is.EqualTo(CliRunner.Failed), err);
        Assert.That(err, Does.Contain($"No background of '{backgrounds}' is classified as another class than its image"));
    }

    /// <summary>A 3x2 image: the core area lives on the model's 224x224 input grid (the image is stretched to it as
    /// for every method), so it is evaluated like any other, with 20% of 224x224 pixels pasted.</summary>
    [Test]
    public void An_image_smaller_than_the_core_area_is_evaluated_on_the_models_input_grid()
    {
        var images = Directory.CreateDirectory(Path.Combine(Dir, "tiny-images")).FullName;
        using (var tiny = new Mat(2, 3, MatType.CV_8UC3, new Scalar(30, 120, 200)))
        {
            tiny.Set(0, 0, new Vec3b(255, 255, 255));
            Cv2.ImWrite(Path.Combine(images, "tiny.png"), tiny);
        }
        var (exit, err, _, report) = Adversarial(images, SharedData.Path_("media", "imagenet-val"), "tiny");
        Assert.That(exit, Is.EqualTo(0), err);
        Assert.That(report, Does.Contain("| tiny.png |"));
        Assert.That(report, Does.Contain("| 10035 |").Or.Contain("flat map: nothing pasted"), "round(0.2 * 224 * 224) core pixels, or a flat map said as such");
    }

    /// <summary>ROAD on one image: MoRF below LeRF for Grad-CAM (removing what the map points at costs more than
    /// removing what it ignores), nine points per order, and the same numbers for the same seed.</summary>
    [Test]
    public void Road_removes_the_most_relevant_pixels_at_a_cost_and_is_seeded()
    {
        var images = OneImageFolder("ILSVRC2012_val_00000057.JPEG");
        string[] Run(string outName)
        {
            var outDir = Path.Combine(Dir, outName);
            var (exit, _, stderr) = SacamInProcess.Run("eval", "road", "--model", SharedData.MobileNetV2, "--methods", "gradcam",
                "--images", images, "--out", outDir);
            Assert.That(exit, Is.EqualTo(0), stderr);
            return File.ReadAllLines(Path.Combine(outDir, "results.csv"));
        }
        var first = Run("r1");
        var again = Run("r2");
        Assert.Multiple(() =>
        {
            Assert.That(again, Is.EqualTo(first), "same seed, same numbers");
            Assert.That(first.Count(l => l.StartsWith("road-morf,gradcam,") && !l.Contains("mean-change")), Is.EqualTo(9));
            Assert.That(Value(first, "road-morf,gradcam,ILSVRC2012_val_00000057.JPEG,mean-change,"),
                Is.LessThan(Value(first, "road-lerf,gradcam,ILSVRC2012_val_00000057.JPEG,mean-change,")));
            Assert.That(Value(first, "road-combined,gradcam,"), Is.GreaterThan(0));
        });
    }
}
