using OpenCvSharp;
using SaCam.Core.Tensors;
using SaCam.Imaging;
using SaCam.Video.Sinks;
using static TorchSharp.torch;
using Size = OpenCvSharp.Size;

namespace SaCam.Tests;

/// <summary>
/// A run folder keeps its maps as 8-bit PNGs (docs/review.md): on a real run of the README's demo they are at most a
/// fifth of the float32 .npy files `--save-maps` writes for the same frames, and the overlay drawn from them uses a
/// colour index at most one level away from the one drawn from the float maps. Runs written before keep their .npy
/// maps, which still read.
/// </summary>
[TestFixture]
public class RunMapTests : TempFolderTest
{
    private const int Frames = 8;

    [Test]
    public void The_demo_runs_png_maps_are_a_fifth_of_the_float_maps_and_draw_the_same_overlay()
    {
        var media = Path.Combine(SharedData.RepoRoot, "media");
        string run = Path.Combine(Dir, "run"), floats = Path.Combine(Dir, "floats");
        var (exit, _, stderr) = SacamInProcess.Run("video", Path.Combine(media, "street_clip.mp4"), "--target", "exemplar:" + Path.Combine(media, "street_car.png"),
            "--run", run, "--save-maps", floats, "--max-frames", Frames.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.That(exit, Is.EqualTo(0), stderr);

        var folder = new RunFolder(run);
        var pngs = Directory.GetFiles(folder.Maps, "*.png");
        long pngBytes = pngs.Sum(f => new FileInfo(f).Length), npyBytes = Directory.GetFiles(floats).Sum(f => new FileInfo(f).Length);
        int worstIndex = 0, worstBgr = 0, worstBgr16 = 0;
        long pixels = 0, pixelsOverOne = 0, png16Bytes = 0;
        double worstValue = 0;
        using var video = new VideoCapture(folder.OriginalVideo);
        using var frame = new Mat();
        for (int k = 0; k < Frames; k++)
        {
            Assert.That(video.Read(frame), $"original.avi holds frame {k}");
            using var stored = Cv2.ImRead(Path.Combine(folder.Maps, RunFolder.MapFileName(k)), ImreadModes.Unchanged);
            Assert.That((stored.Type(), stored.Width), Is.EqualTo((MatType.CV_8UC1, 224)), "an 8-bit map at the model's input size");
            using var scope = NewDisposeScope();
            var exact = NpyFile.Read(Path.Combine(floats, $"{k:D6}.npy"));
            using var read = folder.ReadMap(k)!;
            var fromPng = ToTensor(read);
            worstValue = Math.Max(worstValue, (exact - fromPng).abs().max().item<float>());
            var g = new FrameGeometry(frame.Size(), new Size(224, 224), new Rect(0, 0, frame.Width, frame.Height), new Rect(0, 0, 224, 224));
            using var exactIndex = HeatIndex(exact, g);
            using var pngIndex = HeatIndex(fromPng, g);
            worstIndex = Math.Max(worstIndex, MaxDifference(exactIndex, pngIndex));
            using var a = HeatmapOverlay.Render(frame, exact, g, new OverlayOptions());
            using var b = HeatmapOverlay.Render(frame, fromPng, g, new OverlayOptions());
            worstBgr = Math.Max(worstBgr, MaxDifference(a, b));
            pixels += (long)a.Rows * a.Cols;
            pixelsOverOne += PixelsDifferingByMoreThanOne(a, b);
            // For the record in docs/review.md: what 16 bits would have given (not what runs write).
            using var exactMat = MatTensor.ToFloatMat(exact);
            using var wide = new Mat();
            exactMat.ConvertTo(wide, MatType.CV_16UC1, 65535.0);
            Cv2.ImEncode(".png", wide, out byte[] png16, new ImageEncodingParam(ImwriteFlags.PngCompression, RunMapSink.PngCompression));
            png16Bytes += png16.Length;
            using var wideBack = new Mat();
            wide.ConvertTo(wideBack, MatType.CV_32FC1, 1.0 / 65535);
            using var c = HeatmapOverlay.Render(frame, ToTensor(wideBack), g, new OverlayOptions());
            worstBgr16 = Math.Max(worstBgr16, MaxDifference(a, c));
        }
        TestContext.Out.WriteLine($"maps of {Frames} frames: png {pngBytes} B, npy {npyBytes} B ({(double)npyBytes / pngBytes:F1}x); " +
                                  $"max |map difference| {worstValue * 255:F3}/255, colour index {worstIndex}, overlay BGR {worstBgr} " +
                                  $"({pixelsOverOne} of {pixels} pixels by more than 1); 16-bit PNG would be {png16Bytes} B, overlay BGR {worstBgr16}");
        Assert.Multiple(() =>
        {
            Assert.That(pngs.Select(Path.GetFileName), Is.EquivalentTo(Enumerable.Range(0, Frames).Select(k => RunFolder.MapFileName(k))));
            Assert.That(pngBytes * 5, Is.LessThanOrEqualTo(npyBytes), "the PNG maps are at most a fifth of the float maps");
            Assert.That(worstValue, Is.LessThanOrEqualTo(0.5 / 255 + 1e-6), "a stored value is the float value rounded to 1/255");
            Assert.That(worstIndex, Is.LessThanOrEqualTo(1), "the overlay's colour index moves by at most one of its 256 levels");
        });
    }

    [Test]
    public void A_run_written_before_with_float_maps_still_reads()
    {
        var folder = new RunFolder(Dir);
        Directory.CreateDirectory(folder.Maps);
        using var scope = NewDisposeScope();
        var map = linspace(0, 1, 12).reshape(3, 4);
        NpyFile.Write(Path.Combine(folder.Maps, "000007.npy"), map);
        using var read = folder.ReadMap(7)!;
        Assert.Multiple(() =>
        {
            Assert.That((read.Type(), read.Rows, read.Cols), Is.EqualTo((MatType.CV_32FC1, 3, 4)));
            Assert.That(read.At<float>(2, 3), Is.EqualTo(1f));
            Assert.That(read.At<float>(0, 1), Is.EqualTo(1f / 11).Within(1e-6));
            Assert.That(folder.ReadMap(8), Is.Null, "a frame without a map");
        });
    }

    [Test]
    public void A_sixteen_bit_png_map_reads_on_its_own_scale()
    {
        var folder = new RunFolder(Dir);
        Directory.CreateDirectory(folder.Maps);
        using (var wide = new Mat(2, 2, MatType.CV_16UC1, Scalar.All(65535)))
        {
            wide.Set(0, 0, (ushort)32768);
            Cv2.ImWrite(Path.Combine(folder.Maps, RunFolder.MapFileName(3)), wide);
        }
        using var read = folder.ReadMap(3)!;
        Assert.That((read.At<float>(0, 0), read.At<float>(1, 1)), Is.EqualTo((32768f / 65535, 1f)));
    }

    private static Tensor ToTensor(Mat map)
    {
        map.GetArray(out float[] values);
        return tensor(values, [map.Rows, map.Cols]);
    }

    /// <summary>The 8-bit index the overlay looks its colour up with (as HeatmapOverlay.Render makes it).</summary>
    private static Mat HeatIndex(Tensor map, FrameGeometry g)
    {
        using var onFrame = HeatmapOverlay.MapToFrame(map, g);
        var heat = new Mat();
        onFrame.ConvertTo(heat, MatType.CV_8UC1, 255.0);
        return heat;
    }

    private static long PixelsDifferingByMoreThanOne(Mat a, Mat b)
    {
        using var diff = new Mat();
        Cv2.Absdiff(a, b, diff);
        using var channels = diff.Reshape(1, diff.Rows * diff.Cols);
        using var perPixel = new Mat();
        Cv2.Reduce(channels, perPixel, ReduceDimension.Column, ReduceTypes.Max, -1);
        using var over = new Mat();
        Cv2.Threshold(perPixel, over, 1, 255, ThresholdTypes.Binary);
        return Cv2.CountNonZero(over);
    }

    private static int MaxDifference(Mat a, Mat b)
    {
        using var diff = new Mat();
        Cv2.Absdiff(a, b, diff);
        using var flat = diff.Reshape(1);
        Cv2.MinMaxLoc(flat, out _, out double max);
        return (int)max;
    }
}
