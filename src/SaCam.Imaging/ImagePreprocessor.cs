using OpenCvSharp;
using SaCam.Core.Preprocessing;
using TorchSharp;
using static TorchSharp.torch;
using Size = OpenCvSharp.Size;
using Scalar = OpenCvSharp.Scalar;

namespace SaCam.Imaging;

/// <summary>
/// Turns a BGR frame into the model's normalized input [1, 3, H, W] following a <see cref="PreprocessSpec"/>:
/// geometry with OpenCV (bilinear resize), then one copy of the bytes into a tensor and the per-channel
/// normalization as tensor ops on the target device.
/// </summary>
public static class ImagePreprocessor
{
    /// <param name="bgr">8-bit BGR, or 32-bit float BGR on the same scale (255 = 1.0) and not clamped: a DICOM frame
    /// given to a model on raw scaled values (--input-range) keeps values outside 0..255 and every bit below 1.</param>
    public static (Tensor Input, FrameGeometry Geometry) ToTensor(Mat bgr, PreprocessSpec spec, Device? device = null)
    {
        bool isFloat = bgr.Type() == MatType.CV_32FC3;
        if (bgr.Empty() || (bgr.Type() != MatType.CV_8UC3 && !isFloat))
            throw new ArgumentException($"Expected a non-empty 8-bit (or 32-bit float) BGR image, got {bgr.Type()} {bgr.Width}x{bgr.Height}.");
        var geometry = Fit(bgr.Size(), spec);
        using var fitted = Render(bgr, geometry, spec);
        if (spec.InputChannels == 1) return (GrayTensor(fitted, spec, device), geometry);
        using var scope = NewDisposeScope();
        var bytes = empty([spec.Height, spec.Width, 3], isFloat ? ScalarType.Float32 : ScalarType.Byte);
        CopyPixels(fitted, bytes);
        var x = bytes.to(device ?? CPU).permute(2, 0, 1).to_type(ScalarType.Float32).div_(255.0);
        if (spec.Channels == ChannelOrder.Rgb) x = x.flip(0);
        var mean = tensor(spec.Mean, device: x.device).reshape(3, 1, 1);
        var std = tensor(spec.Std, device: x.device).reshape(3, 1, 1);
        var input = ((x - mean) / std).unsqueeze(0).contiguous();
        return (input.MoveToOuterDisposeScope(), geometry);
    }

    /// <summary>A grayscale model's input [1, 1, H, W]: the colour frame as luminance (OpenCV's BT.601 weights),
    /// normalized with the spec's single mean and std.</summary>
    private static Tensor GrayTensor(Mat fitted, PreprocessSpec spec, Device? device)
    {
        using var gray = new Mat();
        Cv2.CvtColor(fitted, gray, ColorConversionCodes.BGR2GRAY);
        using var scope = NewDisposeScope();
        var bytes = empty([spec.Height, spec.Width, 1], gray.Type() == MatType.CV_32FC1 ? ScalarType.Float32 : ScalarType.Byte);
        CopyPixels(gray, bytes);
        var (mean, std) = spec.GrayNormalization;
        var x = bytes.to(device ?? CPU).permute(2, 0, 1).to_type(ScalarType.Float32).div_(255.0);
        return ((x - mean) / std).unsqueeze(0).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>Where the frame goes in the input (and which part of it) for the spec's resize mode.</summary>
    public static FrameGeometry Fit(Size frame, PreprocessSpec spec)
    {
        var input = new Size(spec.Width, spec.Height);
        var whole = new Rect(0, 0, frame.Width, frame.Height);
        var target = new Rect(0, 0, spec.Width, spec.Height);
        switch (spec.Resize)
        {
            case ResizeMode.CenterCrop:
            {
                // Crop the central CropFraction of the shorter side, with the input's aspect ratio.
                double side = Math.Min(frame.Width / (double)spec.Width, frame.Height / (double)spec.Height) * spec.CropFraction;
                int w = Math.Max(1, (int)Math.Round(spec.Width * side)), h = Math.Max(1, (int)Math.Round(spec.Height * side));
                return new FrameGeometry(frame, input, new Rect((frame.Width - w) / 2, (frame.Height - h) / 2, w, h), target);
            }
            case ResizeMode.Letterbox:
            {
                double scale = Math.Min(spec.Width / (double)frame.Width, spec.Height / (double)frame.Height);
                int w = Math.Max(1, (int)Math.Round(frame.Width * scale)), h = Math.Max(1, (int)Math.Round(frame.Height * scale));
                return new FrameGeometry(frame, input, whole, new Rect((spec.Width - w) / 2, (spec.Height - h) / 2, w, h));
            }
            default:
                return new FrameGeometry(frame, input, whole, target);
        }
    }

    private static Mat Render(Mat bgr, FrameGeometry g, PreprocessSpec spec)
    {
        using var source = new Mat(bgr, g.SourceRect);
        if (g.TargetRect.Width == spec.Width && g.TargetRect.Height == spec.Height)
        {
            var resized = new Mat();
            if (source.Width == spec.Width && source.Height == spec.Height) source.CopyTo(resized);
            else Cv2.Resize(source, resized, new Size(spec.Width, spec.Height), 0, 0, InterpolationFlags.Linear);
            return resized;
        }
        // Letterbox: the pad is the mean colour, which normalizes to 0.
        var fill = new Scalar(spec.Mean[2] * 255, spec.Mean[1] * 255, spec.Mean[0] * 255);
        if (spec.Channels == ChannelOrder.Bgr) fill = new Scalar(spec.Mean[0] * 255, spec.Mean[1] * 255, spec.Mean[2] * 255);
        var canvas = new Mat(new Size(spec.Width, spec.Height), bgr.Type(), fill);
        using var scaled = new Mat();
        Cv2.Resize(source, scaled, g.TargetRect.Size, 0, 0, InterpolationFlags.Linear);
        using var roi = new Mat(canvas, g.TargetRect);
        scaled.CopyTo(roi);
        return canvas;
    }

    private static void CopyPixels(Mat image, Tensor bytes) => MatTensor.CopyTo(image, bytes);
}
