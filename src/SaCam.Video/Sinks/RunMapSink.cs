using OpenCvSharp;
using SaCam.Imaging;
using SaCam.Video.Pipeline;

namespace SaCam.Video.Sinks;

/// <summary>
/// A run folder's maps: each frame's map as an 8-bit greyscale PNG at the model's input size (maps/000123.png,
/// grey = round(255 x map)). The overlay colours a map through a 256-entry table, so float32 buys nothing a viewer
/// sees: a map read back from its PNG draws an overlay whose colour index differs by at most one level (measured
/// figures in docs/review.md), at about a 35th of the bytes of a float32 .npy (measured 2026-12-02). The user's own float maps are
/// <c>--save-maps DIR</c> (<see cref="MapFileSink"/>). With the first map it writes the run's <see cref="RunOverlay"/>,
/// which is how the review draws these maps over the original frames. Object targets add each object's map
/// (maps/000123-t2.png for track 2), which the review shows when a track is followed.
/// </summary>
public sealed class RunMapSink(string folder, OverlayOptions overlay) : IFrameSink
{
    private bool _overlayWritten;

    /// <summary>zlib level of the PNGs: 9 takes a little more time than the default on a 224x224 map and makes a
    /// smaller file.</summary>
    public const int PngCompression = 9;

    public void Write(AnnotatedFrame frame)
    {
        if (frame.Explanation.Map is null) return;
        if (!_overlayWritten)
        {
            RunOverlay.Of(frame.Explanation.Geometry, overlay).Write(folder);
            _overlayWritten = true;
        }
        WritePng(frame.Explanation.Map, RunFolder.MapFileName(frame.Frame.Index));
        // Object targets: each object's own map too, so a review can follow one track with its map.
        foreach (var o in frame.Explanation.Objects ?? [])
            WritePng(o.Map, RunFolder.ObjectMapFileName(frame.Frame.Index, o.Track));
    }

    private void WritePng(TorchSharp.torch.Tensor floatMap, string name)
    {
        using var map = MatTensor.ToFloatMat(floatMap);
        using var grey = Quantize(map);
        Cv2.ImEncode(".png", grey, out byte[] png, new ImageEncodingParam(ImwriteFlags.PngCompression, PngCompression));
        Core.IO.AtomicFile.WriteAllBytes(Path.Combine(folder, name), png);
    }

    /// <summary>A float map in [0, 1] as 8 bits: round(255 x value), saturated (what the overlay does with it).</summary>
    public static Mat Quantize(Mat floatMap)
    {
        var grey = new Mat();
        floatMap.ConvertTo(grey, MatType.CV_8UC1, 255.0);
        return grey;
    }

    public void Dispose() { }
}
