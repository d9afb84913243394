using OpenCvSharp;
using SaCam.Imaging;
using static TorchSharp.torch;

namespace SaCam.App.Building;

/// <summary>
/// Where one object's map lies on the image, as explain, video and eval report it: the map at the image's size, its
/// peak, and the share of its mass inside the object's box or on its mask (the energy-based pointing game). One
/// place, so the three front-ends cannot measure an object differently.
/// </summary>
internal sealed class ObjectMapFigures : IDisposable
{
    private readonly float[]? _box;
    private readonly Mat? _mask;

    private ObjectMapFigures(Mat onImage, Point peak, float[]? box, Mat? mask)
    {
        OnImage = onImage;
        Peak = peak;
        _box = box;
        _mask = mask;
    }

    /// <summary>The map (model input size) on the image through the preprocessing geometry.</summary>
    public static ObjectMapFigures Of(Tensor map, FrameGeometry geometry, ExplainedObject o)
    {
        var onImage = HeatmapOverlay.MapToFrame(map, geometry);
        Cv2.MinMaxLoc(onImage, out _, out _, out _, out Point peak);
        return new ObjectMapFigures(onImage, peak, o.Box, o.Mask);
    }

    /// <summary>CV_32FC1 at the image's size (the caller may keep it past this object's life by cloning).</summary>
    public Mat OnImage { get; }
    public Point Peak { get; }

    /// <summary>The share of the map's mass inside the box (x0, y0, x1, y1, image pixels); null without a box.</summary>
    public double? EnergyInBox() => _box is null ? null : EnergyIn(OnImage, _box);

    /// <summary>The share of the map's mass on the segment's pixels; null without a mask.</summary>
    public double? EnergyInMask() => _mask is null ? null : EnergyIn(OnImage, _mask);

    /// <summary>Whether the peak is on the object: on its mask, else inside its box.</summary>
    public bool PeakInside => _mask is not null
        ? _mask.At<float>(Peak.Y, Peak.X) > 0
        : _box is not null && Peak.X >= _box[0] && Peak.X <= _box[2] && Peak.Y >= _box[1] && Peak.Y <= _box[3];

    private static double EnergyIn(Mat map, float[] box)
    {
        double total = Cv2.Sum(map).Val0;
        if (total <= 0) return 0;
        int x0 = Math.Clamp((int)Math.Floor(box[0]), 0, map.Width), y0 = Math.Clamp((int)Math.Floor(box[1]), 0, map.Height);
        int x1 = Math.Clamp((int)Math.Ceiling(box[2]), x0, map.Width), y1 = Math.Clamp((int)Math.Ceiling(box[3]), y0, map.Height);
        if (x1 == x0 || y1 == y0) return 0;
        using var inside = new Mat(map, new Rect(x0, y0, x1 - x0, y1 - y0));
        return Cv2.Sum(inside).Val0 / total;
    }

    private static double EnergyIn(Mat map, Mat mask)
    {
        double total = Cv2.Sum(map).Val0;
        if (total <= 0) return 0;
        using var product = new Mat();
        Cv2.Multiply(map, mask, product);
        return Cv2.Sum(product).Val0 / total;
    }

    public void Dispose() => OnImage.Dispose();
}
