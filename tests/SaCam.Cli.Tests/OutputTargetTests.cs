using System.Text.Json.Nodes;

namespace SaCam.Tests;

/// <summary>
/// A regressor (a tiny graph: Conv, Relu = "features", Tanh, pooling: eight raw outputs "steering") described by a
/// model card: output:NAME[i] explains one of its values through the CLI, and a gradient method is refused in one line
/// naming the op the importer lacks (Tanh) and the method that works.
/// </summary>
[TestFixture]
public class OutputTargetTests : TempFolderTest
{
    private (string Model, string Card) Regressor() => TinyRegressor.Save(Dir);

    private static string Image => Path.Combine(SharedData.RepoRoot, "media", "street_car.png");

    [Test]
    public void An_output_target_explains_one_raw_value()
    {
        var (model, card) = Regressor();
        string maps = Path.Combine(Dir, "maps");
        var (exit, stdout, stderr) = SacamInProcess.Run("explain", Image, "--model", model, "--model-card", card, "--target", "output:steering[3]", "--method", "scorecam", "--save-maps", maps);
        Assert.That(exit, Is.EqualTo(0), stderr);
        var objects = JsonNode.Parse(File.ReadAllText(Path.Combine(maps, "objects.json")))!.AsArray();
        Assert.That(objects, Has.Count.EqualTo(1));
        Assert.That(objects[0]!["map"]!.GetValue<string>(), Is.EqualTo("obj-0.npy"));
        Assert.That(File.Exists(Path.Combine(maps, "obj-0.npy")));
        Assert.That(stdout, Does.Contain("target  output:steering[3]"));
    }

    /// <summary>A video run checks its object target against the model before it opens any output.</summary>
    [Test]
    public void An_object_target_that_does_not_fit_the_model_fails_before_any_output_is_written()
    {
        var video = Path.Combine(Dir, "x.mp4");
        var (exit, _, stderr) = SacamInProcess.Run("video", Path.Combine(SharedData.RepoRoot, "media", "street_clip.mp4"), "--target", "det:all", "--out", video, "--max-frames", "2");
        Assert.That(stderr, Does.Contain("--target det:all needs a detection model").And.Not.Contain("frames done before it"));
        Assert.That(exit, Is.EqualTo(2), stderr);
        Assert.That(File.Exists(video), Is.False, "nothing was written");
    }

    [Test]
    public void Bad_output_targets_and_a_gradient_method_the_graph_cannot_take_are_one_line_each()
    {
        var (model, card) = Regressor();
        var cases = new (string Target, string Method, string Expected)[]
        {
            ("output:steering[0]", "gradcam", "Gradient methods cannot explain model 'regressor' (TorchSharp's importer lacks op Tanh): use a method that needs no gradients: scorecam."),
            ("output:speed[0]", "scorecam", "is read from output 'steering', not 'speed'"),
            ("output:steering[8]", "scorecam", "output 'steering' has 8 values (0..7)"),
            ("output:steering", "scorecam", "write output:NAME[i]"),
            ("seg:car", "scorecam", "needs a segmentation model, but model 'regressor' is a regressor"),
        };
        foreach (var (target, method, expected) in cases)
        {
            var (exit, _, stderr) = SacamInProcess.Run("explain", Image, "--model", model, "--model-card", card, "--target", target, "--method", method);
            Assert.That(stderr, Does.Contain(expected), target);
            Assert.That(exit, Is.EqualTo(2), stderr);
            Assert.That(stderr.Trim().Split('\n'), Has.Length.EqualTo(1), stderr);
        }
    }
}
