using System.Text.Json;
using SaCam.Cli;
using SaCam.Core.Tensors;
using SaCam.Imaging;

namespace SaCam.Tests;

/// <summary>The `sacam explain` command, run in-process with real files.</summary>
[TestFixture]
public class CliTests : TempFolderTest
{
    [NeedsSharedData]
    [Test]
    public void Explain_writes_a_map_an_overlay_and_json()
    {
        var both = SharedData.Path_("media", "images", "both.png");
        var map = Path.Combine(Dir, "map.npy");
        var overlay = Path.Combine(Dir, "overlay.png");
        var (exit, stdout, stderr) = SacamInProcess.Run("explain", both, "--model", SharedData.MobileNetV2, "--method", "gradcam",
            "--class", "tiger cat", "--save-map", map, "--out", overlay, "--json");
        Assert.That(exit, Is.EqualTo(0), stderr);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        using var saved = NpyFile.Read(map);
        using var image = ImageFile.ReadBgr(overlay);
        Assert.Multiple(() =>
        {
            Assert.That(root.GetProperty("class").GetInt32(), Is.EqualTo(283));
            Assert.That(root.GetProperty("label").GetString(), Is.EqualTo("tiger cat"));
            Assert.That(root.GetProperty("top5")[0].GetProperty("label").GetString(), Is.EqualTo("bull mastiff"));
            Assert.That(root.GetProperty("top5").GetArrayLength(), Is.EqualTo(5));
            Assert.That(root.GetProperty("seconds").GetDouble(), Is.GreaterThan(0));
            Assert.That(saved.shape, Is.EqualTo(new long[] { 224, 224 }));
            Assert.That(saved.min().item<float>(), Is.GreaterThanOrEqualTo(0f));
            Assert.That(saved.max().item<float>(), Is.EqualTo(1f).Within(1e-6));
            Assert.That((image.Width, image.Height), Is.EqualTo((224, 224)));
        });
    }

    /// <summary>--input-tensor skips preprocessing: the fixture's input gives the fixture's Grad-CAM map.</summary>
    [NeedsSharedData]
    [Test]
    public void Input_tensor_reproduces_the_reference_map_without_an_image()
    {
        var c = ReferenceCase.All().First(c => c.Name == "both_c283");
        var map = Path.Combine(Dir, "map.npy");
        var (exit, _, stderr) = SacamInProcess.Run("explain", "--input-tensor", Path.Combine(c.Folder, "input.npy"), "--model", SharedData.MobileNetV2,
            "--method", "gradcam", "--class", "283", "--save-map", map);
        Assert.That(exit, Is.EqualTo(0), stderr);
        using var saved = NpyFile.Read(map);
        using var expected = c.Load("gradcam_cam");
        Compare.MapMatches(saved, expected, "CLI gradcam both_c283");
    }

    /// <summary>1000 ImageNet labels (no "background") for TensorFlow's 1001-class MobileNetV2 would put every label
    /// one class off: refused, saying how to fix it; with --labels-offset 1 the labels are right.</summary>
    [NeedsSharedData]
    [Test]
    public void Labels_one_short_are_refused_and_the_offset_fixes_them()
    {
        var labels = Path.Combine(Dir, "imagenet1000.txt");
        File.WriteAllLines(labels, File.ReadAllLines(SharedData.ImageNetLabels).Skip(1));
        var both = SharedData.Path_("media", "images", "both.png");
        var (refused, _, refusedErr) = SacamInProcess.Run("explain", both, "--model", SharedData.MobileNetV2, "--labels", labels, "--method", "gradcam");
        var (exit, stdout, stderr) = SacamInProcess.Run("explain", both, "--model", SharedData.MobileNetV2, "--labels", labels, "--labels-offset", "1",
            "--method", "gradcam", "--json");
        Assert.Multiple(() =>
        {
            Assert.That(refused, Is.EqualTo(CliRunner.UsageError));
            Assert.That(refusedErr, Does.Contain("has 1000 labels, but model 'mobilenet_v2_1.0_224' has 1001 classes").And.Contain("--labels-offset 1"));
            Assert.That(exit, Is.EqualTo(0), stderr);
            using var json = JsonDocument.Parse(stdout);
            Assert.That(json.RootElement.GetProperty("class").GetInt32(), Is.EqualTo(244));
            Assert.That(json.RootElement.GetProperty("label").GetString(), Is.EqualTo("bull mastiff"));
        });
    }

    [TestCase("missing.png", "does not exist")]
    public void A_missing_image_fails_on_stderr(string image, string message)
    {
        var (exit, stdout, stderr) = SacamInProcess.Run("explain", Path.Combine(Dir, image));
        Assert.Multiple(() =>
        {
            Assert.That(exit, Is.EqualTo(CliRunner.Failed));
            Assert.That(stderr, Does.Contain(image).And.Contain(message));
            Assert.That(stdout, Is.Empty);
        });
    }

    [NeedsSharedData]
    [Test]
    public void Bad_class_layer_and_tensor_are_reported_with_the_exit_code_of_their_kind()
    {
        var both = SharedData.Path_("media", "images", "both.png");
        var badTensor = Path.Combine(Dir, "small.npy");
        NpyFile.Write(badTensor, TorchSharp.torch.zeros(1, 3, 32, 32));
        var cases = new (string[] Args, int Exit, string Expect)[]
        {
            (["explain", both, "--model", SharedData.MobileNetV2, "--class", "1001"], CliRunner.UsageError, "out of range"),
            (["explain", both, "--model", SharedData.MobileNetV2, "--class", "unicorn"], CliRunner.UsageError, "'unicorn' is not a label"),
            (["explain", both, "--model", SharedData.MobileNetV2, "--layer", "nope"], CliRunner.UsageError, "'nope' does not exist"),
            (["explain", "--input-tensor", badTensor, "--model", SharedData.MobileNetV2], CliRunner.Failed, "small.npy"),
            (["explain", both, "--model", Path.Combine(Dir, "none.onnx")], CliRunner.Failed, "none.onnx"),
            (["explain", both, "--method", "magiccam"], CliRunner.UsageError, "'magiccam'"),
        };
        Assert.Multiple(() =>
        {
            foreach (var (args, code, expect) in cases)
            {
                var (exit, _, stderr) = SacamInProcess.Run(args);
                Assert.That(exit, Is.EqualTo(code), string.Join(" ", args));
                Assert.That(stderr, Does.Contain(expect), string.Join(" ", args));
            }
        });
    }

    /// <summary>The README's first command, on the project's own clip and the embedded default model (cut to 4 frames).</summary>
    [Test]
    public void Video_on_the_generated_clip_with_the_default_model_writes_every_output()
    {
        var clip = Path.Combine(SharedData.RepoRoot, "media", "street_clip.mp4");
        string video = Path.Combine(Dir, "out.mp4"), jsonl = Path.Combine(Dir, "frames.jsonl"), maps = Path.Combine(Dir, "maps");
        var (exit, stdout, stderr) = SacamInProcess.Run("video", clip, "--out", video, "--jsonl", jsonl, "--save-maps", maps, "--max-frames", "4");
        Assert.That(exit, Is.EqualTo(0), stderr);
        var lines = File.ReadAllLines(jsonl).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(stdout, Does.Contain("4 frames written, 0 dropped").And.Contain("sacam-rt"));
            Assert.That(lines.Select(l => l.GetProperty("index").GetInt64()), Is.EqualTo(new long[] { 0, 1, 2, 3 }));
            Assert.That(lines[0].GetProperty("channels_scored").GetDouble(), Is.EqualTo(1), "the first frame probes the cost");
            Assert.That(lines.All(l => l.TryGetProperty("channels_scored", out _) && l.TryGetProperty("cache_coverage", out _) && l.TryGetProperty("score_confidence", out _)));
            Assert.That(VideoFiles.CountDecodedFrames(video), Is.EqualTo(4));
            Assert.That(Directory.GetFiles(maps).Select(Path.GetFileName).Order(), Is.EqualTo(new[] { "000000.npy", "000001.npy", "000002.npy", "000003.npy" }));
        });
        using var map = NpyFile.Read(Path.Combine(maps, "000002.npy"));
        Assert.That(map.shape, Is.EqualTo(new long[] { 224, 224 }));
    }

    /// <summary>Two runs of the clip (two methods) into run folders, then one review page showing both: the files a
    /// browser needs exist: the original frames' JPEGs and each run's maps, one per frame (the browser side is tested
    /// in SaCam.Review.Tests).</summary>
    [Test]
    public void Video_run_folders_become_one_review_page()
    {
        var clip = Path.Combine(SharedData.RepoRoot, "media", "street_clip.mp4");
        string gradcam = Path.Combine(Dir, "gradcam"), layercam = Path.Combine(Dir, "layercam");
        foreach (var (method, run) in new[] { ("gradcam", gradcam), ("layercam", layercam) })
        {
            var (code, _, err) = SacamInProcess.Run("video", clip, "--method", method, "--max-frames", "5", "--run", run);
            Assert.That(code, Is.EqualTo(0), err);
        }
        Assert.Multiple(() =>
        {
            Assert.That(File.Exists(Path.Combine(gradcam, "annotated.avi")), Is.False, "the footage is stored once: the review draws the overlays from the maps");
            Assert.That(VideoFiles.CountDecodedFrames(Path.Combine(gradcam, "original.avi")), Is.EqualTo(5));
            Assert.That(File.ReadAllLines(Path.Combine(gradcam, "frames.jsonl")), Has.Length.EqualTo(5));
            Assert.That(Directory.GetFiles(Path.Combine(gradcam, "maps"), "*.png"), Has.Length.EqualTo(5));
            Assert.That(Video.Sinks.RunOverlay.Read(Path.Combine(gradcam, "maps"))!.Geometry.FrameSize, Is.EqualTo(new OpenCvSharp.Size(640, 360)), "maps/overlay.json: how the maps lie on the frames");
            Assert.That(File.ReadAllText(Path.Combine(layercam, "run.json")), Does.Contain("\"method\": \"layercam\""));
        });
        var review = Path.Combine(Dir, "review");
        var (exit, stdout, stderr) = SacamInProcess.Run("review", gradcam, layercam, "--out", review);
        Assert.That(exit, Is.EqualTo(0), stderr);
        Assert.That(stdout, Does.Contain("5 frames, panels original | gradcam | layercam"));
        var chunks = Directory.GetFiles(Path.Combine(review, "frames")).Select(Path.GetFileName).Order().ToArray();
        Assert.That(chunks, Is.EqualTo(new[] { "original-0.js", "ov0-0.js", "ov1-0.js" }));
        Assert.That(System.Text.RegularExpressions.Regex.Matches(File.ReadAllText(Path.Combine(review, "frames", "ov1-0.js")), "data:image/png;base64,").Count, Is.EqualTo(5));
        (exit, _, stderr) = SacamInProcess.Run("review", Path.Combine(Dir, "no-such-run"));
        Assert.That(exit, Is.EqualTo(CliRunner.Failed));
        Assert.That(stderr, Does.Contain("no-such-run").And.Contain("does not exist"));
    }

    [Test]
    public void Video_errors_name_the_source_and_the_option()
    {
        var (exit, _, stderr) = SacamInProcess.Run("video", Path.Combine(Dir, "nope.mp4"));
        Assert.That(exit, Is.EqualTo(CliRunner.Failed));
        Assert.That(stderr, Does.Contain("nope.mp4").And.Contain("does not exist"));
        var clip = Path.Combine(SharedData.RepoRoot, "media", "street_clip.mp4");
        (exit, _, stderr) = SacamInProcess.Run("video", clip, "--mode", "sometimes");
        Assert.That(exit, Is.EqualTo(CliRunner.UsageError));
        Assert.That(stderr, Does.Contain("--mode 'sometimes'"));
    }

    /// <summary>sacam eval writes report.md, results.csv with every number, and plots that decode.</summary>
    [NeedsSharedData]
    [Test]
    public void Eval_deletion_insertion_writes_a_report_a_csv_and_plots()
    {
        var outDir = Path.Combine(Dir, "report");
        var (exit, _, stderr) = SacamInProcess.Run("eval", "deletion-insertion", "--model", SharedData.MobileNetV2, "--methods", "gradcam,layercam",
            "--images", SharedData.Path_("media", "images", "both.png"), "--step-pixels", "2240", "--out", outDir);
        Assert.That(exit, Is.EqualTo(0), stderr);
        var csv = File.ReadAllLines(Path.Combine(outDir, "results.csv"));
        var report = File.ReadAllText(Path.Combine(outDir, "report.md"));
        using var plot = OpenCvSharp.Cv2.ImRead(Path.Combine(outDir, "plots", "deletion_01.png"));
        Assert.Multiple(() =>
        {
            Assert.That(csv[0], Is.EqualTo("evaluation,method,image,key,value"));
            Assert.That(csv.Skip(1).Count(l => l.StartsWith("deletion,")), Is.EqualTo(2), "one deletion AUC per method");
            Assert.That(csv.Skip(1).All(l => double.TryParse(l.Split(',')[^1], System.Globalization.CultureInfo.InvariantCulture, out var v) && v >= -1 && v <= 1));
            Assert.That(report, Does.Contain("| gradcam |").And.Contain("| layercam |").And.Contain("plots/insertion_01.png"));
            Assert.That(plot.Empty(), Is.False, "the plot is a PNG that decodes");
            Assert.That((plot.Width, plot.Height), Is.EqualTo((720, 420)));
        });
    }

    [NeedsSharedData]
    [Test]
    public void Eval_temporal_writes_a_timeline_for_each_method()
    {
        var outDir = Path.Combine(Dir, "temporal");
        var (exit, _, stderr) = SacamInProcess.Run("eval", "temporal", "--model", SharedData.MobileNetV2, "--methods", "gradcam,sacam-rt@30,sacam-rt@30~0.9",
            "--video", SharedData.Path_("media", "driving", "traffic_frames.mp4"), "--max-frames", "4", "--out", outDir);
        Assert.That(exit, Is.EqualTo(0), stderr);
        var csv = File.ReadAllLines(Path.Combine(outDir, "results.csv")).Skip(1).ToList();
        double MeanChange(string id) => csv.Where(l => l.Contains($",{id},")).Average(l => double.Parse(l.Split(',')[^1], System.Globalization.CultureInfo.InvariantCulture));
        using var plot = OpenCvSharp.Cv2.ImRead(Path.Combine(outDir, "plots", "temporal.png"));
        Assert.Multiple(() =>
        {
            Assert.That(csv.Count(l => l.Contains(",gradcam,")), Is.EqualTo(3), "3 consecutive pairs in 4 frames");
            Assert.That(csv.Count(l => l.Contains(",sacam-rt@30,")), Is.EqualTo(3));
            Assert.That(MeanChange("sacam-rt@30~0.9"), Is.LessThan(MeanChange("sacam-rt@30")), "smoothing 0.9 keeps most of the previous map");
            Assert.That(plot.Empty(), Is.False);
        });
    }

    [NeedsSharedData]
    [Test]
    public void Eval_without_its_input_says_what_is_missing()
    {
        var (exit, _, stderr) = SacamInProcess.Run("eval", "temporal", "--model", SharedData.MobileNetV2, "--out", Dir);
        Assert.That(exit, Is.EqualTo(CliRunner.UsageError));
        Assert.That(stderr, Does.Contain("temporal needs --video"));
    }

    [NeedsSharedData]
    [Test]
    public void Bad_sacam_rt_settings_are_refused_by_name_before_anything_is_written()
    {
        var clip = Path.Combine(SharedData.RepoRoot, "media", "street_clip.mp4");
        string video = Path.Combine(Dir, "out.mp4");
        var (smoothingExit, _, smoothingErr) = SacamInProcess.Run("video", clip, "--smoothing", "1.5", "--out", video);
        var (budgetExit, _, budgetErr) = SacamInProcess.Run("video", clip, "--budget-ms", "0", "--out", video);
        var (specExit, _, specErr) = SacamInProcess.Run("eval", "temporal", "--model", SharedData.MobileNetV2, "--methods", "sacam-rt@fast",
            "--video", clip, "--out", Path.Combine(Dir, "eval"));
        Assert.Multiple(() =>
        {
            Assert.That(smoothingExit, Is.EqualTo(CliRunner.UsageError));
            Assert.That(smoothingErr, Does.Contain("--smoothing must lie in [0, 1)"));
            Assert.That(budgetExit, Is.EqualTo(CliRunner.UsageError));
            Assert.That(budgetErr, Does.Contain("--budget-ms").And.Contain("'0' is not a budget"));
            Assert.That(File.Exists(video), Is.False, "no output was opened");
            Assert.That(specExit, Is.EqualTo(CliRunner.UsageError));
            Assert.That(specErr, Does.Contain("'sacam-rt@fast'").And.Contain("sacam-rt@BUDGET_MS~SMOOTHING"));
        });
    }
}
