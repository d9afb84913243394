using System.Text.Json.Nodes;
using OpenCvSharp;
using SaCam.Video.Sinks;

namespace SaCam.Tests;

/// <summary>
/// The run folders the review rows of docs/bad-input.md read: made before the first row that needs them, beside the
/// matrix's other inputs (so they are hashed, and removed with them). A SetUp rather than a second OneTimeSetUp:
/// NUnit does not order two OneTimeSetUps of one class, and these go into the dictionary the first one makes.
/// </summary>
public partial class BadInputMatrixTests
{
    [SetUp]
    public void MakeReviewRuns()
    {
        if (_files.ContainsKey("run_garbage_line")) return;
        string In(string name) => Path.Combine(_root, "in", name);

        var garbage = WriteRun(In("run-garbage-line"), frames: 10);
        var jsonl = File.ReadAllLines(Path.Combine(garbage, RunFolder.FramesName));
        jsonl[3] = "this is not JSON {";
        File.WriteAllLines(Path.Combine(garbage, RunFolder.FramesName), jsonl);

        var noOriginal = WriteRun(In("run-no-original"), frames: 3);
        File.Delete(Path.Combine(noOriginal, RunFolder.OriginalVideoName));

        var badOverlay = WriteRun(In("run-bad-overlay"), frames: 3);
        File.Delete(Path.Combine(badOverlay, RunFolder.AnnotatedVideoName)); // a run as written now: the page draws its maps
        Directory.CreateDirectory(Path.Combine(badOverlay, RunFolder.MapsFolderName));
        File.WriteAllText(Path.Combine(badOverlay, RunFolder.MapsFolderName, RunOverlay.FileName), "{\"frame_size\": [64, ");

        _files["run_garbage_line"] = garbage;
        _files["run_bad_overlay"] = badOverlay;
        _files["run_no_original"] = noOriginal;
    }

    /// <summary>A small run folder as `sacam video --run` writes it (a manifest, both videos, one record a frame).</summary>
    private static string WriteRun(string folder, int frames)
    {
        var run = new RunFolder(folder);
        Directory.CreateDirectory(folder);
        run.WriteManifest(new RunManifest("video 'synthetic.avi'", "synthetic", "gradcam", "exact", 10, DateTime.UtcNow) { Frames = frames, Ended = "complete" });
        foreach (var video in new[] { run.OriginalVideo, run.AnnotatedVideo })
        {
            using var writer = new VideoWriter(video, FourCC.MJPG, 10, new Size(32, 24));
            for (int k = 0; k < frames; k++)
            {
                using var grey = new Mat(24, 32, MatType.CV_8UC3, Scalar.All(20 + 20 * k));
                writer.Write(grey);
            }
        }
        File.WriteAllLines(run.Frames, Enumerable.Range(0, frames).Select(k => new JsonObject
        {
            ["index"] = k, ["timestamp"] = k / 10.0, ["method"] = "gradcam", ["class"] = 7, ["label"] = "cock", ["score"] = 0.5,
        }.ToJsonString()));
        return folder;
    }
}
