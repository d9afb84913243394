using OpenCvSharp;
using static TorchSharp.torch;

namespace SaCam.Imaging;

/// <summary>How a map is drawn over its frame.</summary>
public sealed record OverlayOptions
{
    public ColorMap ColorMap { get; init; } = ColorMap.Jet;
    /// <summary>Weight of the heat map in the blend (0 = frame only, 1 = heat map only).</summary>
    public double Alpha { get; init; } = 0.45;
    /// <summary>Outline of the attended area (map >= ContourLevel); null draws none.</summary>
    public double? ContourLevel { get; init; } = null;
    public bool PeakMarker { get; init; } = false;
    /// <summary>A caption drawn at the top left (class label and score), or null.</summary>
    public string? Caption { get; init; }
}

/// <summary>
/// Draws a CAM map (at model input size) over the original frame: the map is mapped back through the
/// preprocessing geometry, coloured by lookup table, and alpha-blended.
/// </summary>
public static class HeatmapOverlay
{
    public static Mat Render(Mat frameBgr, Tensor map, FrameGeometry geometry, OverlayOptions options)
    {
        using var floatMap = MatTensor.ToFloatMat(map);
        return Render(frameBgr, floatMap, geometry, options);
    }

    /// <summary>The same, from a map already in a CV_32FC1 Mat at model input size (a run folder's map, read back).</summary>
    public static Mat Render(Mat frameBgr, Mat map, FrameGeometry geometry, OverlayOptions options)
    {
        using var mapOnFrame = MapToFrame(map, geometry);
        using var heat8 = new Mat();
        mapOnFrame.ConvertTo(heat8, MatType.CV_8UC1, 255.0);
        using var colored = new Mat();
        ColorMaps.Apply(heat8, colored, options.ColorMap);
        var output = new Mat();
        Cv2.AddWeighted(frameBgr, 1 - options.Alpha, colored, options.Alpha, 0, output);
        if (options.ContourLevel is double level) DrawContour(output, mapOnFrame, level);
        if (options.PeakMarker) DrawPeak(output, mapOnFrame);
        if (options.Caption is not null) DrawCaption(output, options.Caption);
        return output;
    }

    /// <summary>The map in frame coordinates (CV_32FC1, frame size); zero where the model saw nothing of the frame.</summary>
    public static Mat MapToFrame(Tensor map, FrameGeometry g)
    {
        using var full = MatTensor.ToFloatMat(map);
        return MapToFrame(full, g);
    }

    /// <summary>The same, from a CV_32FC1 map at model input size.</summary>
    public static Mat MapToFrame(Mat full, FrameGeometry g)
    {
        using var content = new Mat(full, g.TargetRect);
        var onFrame = new Mat(g.FrameSize, MatType.CV_32FC1, Scalar.All(0));
        using var region = new Mat(onFrame, g.SourceRect);
        Cv2.Resize(content, region, g.SourceRect.Size, 0, 0, InterpolationFlags.Linear);
        return onFrame;
    }

    private static void DrawContour(Mat output, Mat map, double level)
    {
        using var mask = new Mat();
        Cv2.Threshold(map, mask, level, 255, ThresholdTypes.Binary);
        using var mask8 = new Mat();
        mask.ConvertTo(mask8, MatType.CV_8UC1);
        Cv2.FindContours(mask8, out var contours, out _, RetrievalModes.External, ContourApproximationModes.ApproxSimple);
        Cv2.DrawContours(output, contours, -1, Scalar.White, Math.Max(1, output.Width / 400));
    }

    private static void DrawPeak(Mat output, Mat map)
    {
        Cv2.MinMaxLoc(map, out _, out _, out _, out var peak);
        int r = Math.Max(4, output.Width / 80);
        Cv2.DrawMarker(output, peak, Scalar.White, MarkerTypes.Cross, 2 * r, Math.Max(1, r / 3));
    }

    private static void DrawCaption(Mat output, string caption)
    {
        double scale = Math.Max(0.4, output.Width / 900.0);
        int thickness = Math.Max(1, (int)Math.Round(scale * 1.5));
        var size = Cv2.GetTextSize(caption, HersheyFonts.HersheySimplex, scale, thickness, out int baseline);
        Cv2.Rectangle(output, new Rect(0, 0, size.Width + 12, size.Height + baseline + 12), Scalar.Black, -1);
        Cv2.PutText(output, caption, new Point(6, size.Height + 6), HersheyFonts.HersheySimplex, scale, Scalar.White, thickness, LineTypes.AntiAlias);
    }
}
