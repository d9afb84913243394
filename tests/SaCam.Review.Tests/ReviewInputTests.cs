using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using OpenCvSharp;

namespace SaCam.Review.Tests;

/// <summary>Run folders that are not quite right (docs/bad-input.md): a bad line in the JSON Lines, a path that is a
/// file, a missing video, and runs of two models. Each says what it is and the review keeps what is good.</summary>
public class ReviewInputTests
{
    private string _root = null!;

    [SetUp]
    public void CreateFolder() => _root = Directory.CreateTempSubdirectory("sacam-review-input-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_root, recursive: true);

    /// <summary>Line 4 of 10 is garbage: the page keeps the 9 good frames, each with its own video frame (the frame
    /// of line 4 is left out, not shifted onto its neighbours), and the warning names the file and the line.</summary>
    [Test]
    public void A_garbage_line_leaves_out_its_frame_keeps_the_other_nine_and_is_named()
    {
        var a = SyntheticRun.Write(Path.Combine(_root, "a"), "gradcam", 10, 2);
        var jsonl = Path.Combine(a, "frames.jsonl");
        var lines = File.ReadAllLines(jsonl);
        lines[3] = "this is not JSON {";
        File.WriteAllLines(jsonl, lines);

        var page = ReviewBuilder.Build([a], Path.Combine(_root, "out"), new ReviewOptions { ChunkSize = 16 });

        var data = PageData(page.IndexPath);
        var shown = data["frames"]!.AsArray().Select(f => f!["index"]!.GetValue<int>()).ToList();
        var originals = ChunkImages(Path.Combine(_root, "out", "frames", "original-0.js"));
        Assert.Multiple(() =>
        {
            Assert.That(page.Frames, Is.EqualTo(9));
            Assert.That(shown, Is.EqualTo(new[] { 0, 1, 2, 4, 5, 6, 7, 8, 9 }));
            Assert.That(page.Warnings, Has.Count.EqualTo(1));
            Assert.That(page.Warnings[0], Does.Contain($"{jsonl} line 4 is not a frame record").And.Contain("this is not JSON"));
            // Each shown frame is its own video frame: the original of frame k is grey 20 + 20k.
            for (int p = 0; p < shown.Count; p++)
                Assert.That(originals[p], Is.EqualTo(SyntheticRun.Level(shown[p])).Within(6), $"position {p} shows video frame {shown[p]}");
        });
    }

    [Test]
    public void A_torn_last_line_is_left_out_without_a_warning()
    {
        var a = SyntheticRun.Write(Path.Combine(_root, "a"), "gradcam", 5, 2);
        File.AppendAllText(Path.Combine(a, "frames.jsonl"), "{\"index\": 5, \"timesta");
        var page = ReviewBuilder.Build([a], Path.Combine(_root, "out"));
        Assert.That(page.Frames, Is.EqualTo(5));
        Assert.That(page.Warnings, Is.Empty);
    }

    [Test]
    public void A_run_path_that_is_a_file_is_called_a_file()
    {
        var file = Path.Combine(_root, "notes.txt");
        File.WriteAllText(file, "not a run");
        var e = Assert.Throws<IOException>(() => ReviewBuilder.Build([file], Path.Combine(_root, "out")));
        Assert.That(e!.Message, Does.Contain(file).And.Contain("is a file, not a run folder"));
    }

    [TestCase("original.avi", false)]
    [TestCase("original.avi", true)]
    [TestCase("annotated.avi", true)]
    public void A_missing_video_is_named(string video, bool annotatedRun)
    {
        var a = SyntheticRun.Write(Path.Combine(_root, "a"), "gradcam", 3, 2, annotated: annotatedRun);
        File.Delete(Path.Combine(a, video));
        var e = Assert.Throws<FileNotFoundException>(() => ReviewBuilder.Build([a], Path.Combine(_root, "out")));
        Assert.That(e!.Message, Does.Contain(a).And.Contain($"has no {video}"));
    }

    /// <summary>Runs of two models: the header data lists both (in panel order), and each panel names its model.</summary>
    [Test]
    public void Runs_of_two_models_name_both_models()
    {
        var a = SyntheticRun.Write(Path.Combine(_root, "a"), "gradcam", 3, 2, model: "/models/resnet18.onnx");
        var b = SyntheticRun.Write(Path.Combine(_root, "b"), "gradcam", 3, 1, model: "mobilenet_v2");
        var page = ReviewBuilder.Build([a, b], Path.Combine(_root, "out"));
        var models = PageData(page.IndexPath)["models"]!.AsArray().Select(m => m!.GetValue<string>());
        Assert.Multiple(() =>
        {
            Assert.That(models, Is.EqualTo(new[] { "/models/resnet18.onnx", "mobilenet_v2" }));
            Assert.That(page.Layers, Is.EqualTo(new[] { "original", "gradcam (resnet18.onnx)", "gradcam (mobilenet_v2)" }));
        });
    }

    /// <summary>The JSON the builder put into the page.</summary>
    internal static JsonObject PageData(string indexPath)
    {
        var m = Regex.Match(File.ReadAllText(indexPath), @"window\.SACAM_DATA = (\{.*\});\r?\n");
        Assert.That(m.Success, "the page holds its data");
        return JsonNode.Parse(m.Groups[1].Value)!.AsObject();
    }

    /// <summary>The grey level at the centre of each image of a chunk script (null: an empty panel).</summary>
    private static List<double?> ChunkImages(string chunkScript)
    {
        var array = Regex.Match(File.ReadAllText(chunkScript), @"^window\.sacamReview\.chunk\(""\w+"",\d+,(\[.*\])\);$");
        Assert.That(array.Success, $"{chunkScript} is a chunk script");
        return JsonNode.Parse(array.Groups[1].Value)!.AsArray().Select(url =>
        {
            if (url is null) return (double?)null;
            var base64 = url.GetValue<string>()["data:image/jpeg;base64,".Length..];
            using var image = Cv2.ImDecode(Convert.FromBase64String(base64), ImreadModes.Color);
            return image.At<Vec3b>(image.Height / 2, image.Width / 2).Item0;
        }).ToList();
    }
}
