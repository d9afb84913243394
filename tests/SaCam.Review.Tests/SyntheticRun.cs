using System.Text.Json.Nodes;
using OpenCvSharp;
using SaCam.Video.Sinks;

namespace SaCam.Review.Tests;

/// <summary>
/// A run folder written without a model, with frames whose content says which frame they are: the original frame k
/// is grey k * 20, and a method's annotated frame k has its own channel at k * 20. So a pixel read back from the
/// browser tells exactly which frame of which run the page shows.
/// </summary>
internal static class SyntheticRun
{
    public const int Width = 64, Height = 48;

    public static string Write(string folder, string method, int frames, int channel, string source = "video 'synthetic.avi'", string model = "synthetic")
    {
        var run = new RunFolder(folder);
        Directory.CreateDirectory(folder);
        run.WriteManifest(new RunManifest(source, model, method, "exact", 10, DateTime.UtcNow));
        using (var original = new VideoWriter(run.OriginalVideo, FourCC.MJPG, 10, new Size(Width, Height)))
        using (var annotated = new VideoWriter(run.AnnotatedVideo, FourCC.MJPG, 10, new Size(Width, Height)))
        {
            for (int k = 0; k < frames; k++)
            {
                using var grey = new Mat(Height, Width, MatType.CV_8UC3, Scalar.All(Level(k)));
                original.Write(grey);
                var colour = new Scalar(0, 0, 0);
                colour[channel] = Level(k);
                using var tinted = new Mat(Height, Width, MatType.CV_8UC3, colour);
                annotated.Write(tinted);
            }
        }
        using var jsonl = new StreamWriter(run.Frames);
        for (int k = 0; k < frames; k++)
            jsonl.WriteLine(new JsonObject
            {
                ["index"] = k, ["timestamp"] = k / 10.0, ["method"] = method, ["class"] = 7, ["label"] = "cock",
                ["score"] = k / (double)frames, ["peak"] = new JsonObject { ["x"] = k * 4, ["y"] = 24 }, ["entropy"] = 3 + k * 0.1,
            }.ToJsonString());
        return folder;
    }

    public static double Level(int k) => 20 + k * 20;
}
