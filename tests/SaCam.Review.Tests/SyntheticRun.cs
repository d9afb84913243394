using System.Text.Json.Nodes;
using OpenCvSharp;
using SaCam.Imaging;
using SaCam.Video.Sinks;

namespace SaCam.Review.Tests;

/// <summary>
/// A run folder written without a model, with frames whose content says which frame they are: the original frame k
/// is grey <see cref="Level"/>(k). A run as `sacam video --run` writes it now keeps 8-bit maps and their overlay
/// (maps/overlay.json), and the page draws the method's panel itself: here map k is flat at
/// <see cref="MapLevel"/>(k, channel) inside the map's content rectangle (the rest of the map, which the page must not
/// use, is 255). A legacy run (<c>annotated: true</c>) keeps an annotated video instead, whose frame k has its own
/// channel at <see cref="Level"/>(k). So a pixel read back from the browser tells exactly which frame of which run
/// the page shows.
/// </summary>
internal static class SyntheticRun
{
    public const int Width = 64, Height = 48;
    /// <summary>The synthetic model's input: 32x32, the frame letterboxed into rows 4-27.</summary>
    public static readonly FrameGeometry Geometry = new(new Size(Width, Height), new Size(32, 32), new Rect(0, 0, Width, Height), new Rect(0, 4, 32, 24));
    public static readonly OverlayOptions Overlay = new() { ColorMap = ColorMap.Jet, Alpha = 0.45 };

    public static string Write(string folder, string method, int frames, int channel, string source = "video 'synthetic.avi'", string model = "synthetic",
        bool annotated = false, Func<int, JsonArray>? objects = null, Func<int, JsonObject?>? quality = null, Func<int, double?>? scoreConfidence = null)
    {
        var run = new RunFolder(folder);
        Directory.CreateDirectory(folder);
        run.WriteManifest(new RunManifest(source, model, method, "exact", 10, DateTime.UtcNow));
        using (var original = new VideoWriter(run.OriginalVideo, FourCC.MJPG, 10, new Size(Width, Height)))
        using (var annotatedVideo = annotated ? new VideoWriter(run.AnnotatedVideo, FourCC.MJPG, 10, new Size(Width, Height)) : null)
        {
            for (int k = 0; k < frames; k++)
            {
                using var grey = new Mat(Height, Width, MatType.CV_8UC3, Scalar.All(Level(k)));
                original.Write(grey);
                if (annotatedVideo is null) continue;
                var colour = new Scalar(0, 0, 0);
                colour[channel] = Level(k);
                using var tinted = new Mat(Height, Width, MatType.CV_8UC3, colour);
                annotatedVideo.Write(tinted);
            }
        }
        if (!annotated)
        {
            Directory.CreateDirectory(run.Maps);
            RunOverlay.Of(Geometry, Overlay).Write(run.Maps);
            for (int k = 0; k < frames; k++)
            {
                using var map = new Mat(32, 32, MatType.CV_8UC1, Scalar.All(255));
                map[Geometry.TargetRect].SetTo(Scalar.All(MapLevel(k, channel)));
                Cv2.ImWrite(Path.Combine(run.Maps, RunFolder.MapFileName(k)), map);
            }
        }
        using var jsonl = new StreamWriter(run.Frames);
        for (int k = 0; k < frames; k++)
        {
            var record = new JsonObject
            {
                ["index"] = k, ["timestamp"] = k / 10.0, ["method"] = method, ["class"] = 7, ["label"] = "cock",
                ["score"] = k / (double)frames, ["peak"] = new JsonObject { ["x"] = k * 4, ["y"] = 24 }, ["entropy"] = 3 + k * 0.1,
            };
            if (objects is not null) record["objects"] = objects(k);
            if (quality?.Invoke(k) is { } q) record["quality"] = q;
            if (scoreConfidence?.Invoke(k) is double c) record["score_confidence"] = c;
            jsonl.WriteLine(record.ToJsonString());
        }
        return folder;
    }

    public static double Level(int k) => 20 + k * 20;

    /// <summary>The flat map level of frame k in a run of the given channel (distinct per run and per frame).</summary>
    public static int MapLevel(int k, int channel) => 10 * channel + 17 * k;

    /// <summary>What the page must draw over a flat frame of grey <paramref name="grey"/> with a flat map: sacam's blend
    /// of the frame and the map's jet colour (BGR).</summary>
    public static Vec3b Blend(double grey, int mapLevel)
    {
        var colour = ColorMaps.Table(ColorMap.Jet).At<Vec3b>(0, mapLevel);
        byte Channel(byte c) => (byte)Math.Round((1 - Overlay.Alpha) * grey + Overlay.Alpha * c, MidpointRounding.ToEven);
        return new Vec3b(Channel(colour.Item0), Channel(colour.Item1), Channel(colour.Item2));
    }
}
