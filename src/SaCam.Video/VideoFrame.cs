using OpenCvSharp;

namespace SaCam.Video;

/// <summary>One captured frame: its index in the source, its timestamp in the source's time, and the BGR image.</summary>
public sealed class VideoFrame(long index, TimeSpan timestamp, Mat image) : IDisposable
{
    public long Index { get; } = index;
    public TimeSpan Timestamp { get; } = timestamp;
    public Mat Image { get; } = image;

    /// <summary>What the model sees instead of <see cref="Image"/>, when a source has more than 8 bits to give
    /// (a DICOM frame on raw scaled values: 32-bit float BGR, 255 = 1.0, unclamped); overlays still draw on Image.</summary>
    public Mat? ModelImage { get; init; }

    /// <summary>When the frame was captured, on the process clock (latency is measured from here).</summary>
    public double CapturedAtMs { get; } = Core.StopwatchTimeSource.Shared.NowMs;

    public void Dispose()
    {
        Image.Dispose();
        ModelImage?.Dispose();
    }
}
