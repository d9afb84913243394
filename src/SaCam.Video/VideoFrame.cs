using OpenCvSharp;

namespace SaCam.Video;

/// <summary>One captured frame: its index in the source, its timestamp in the source's time, and the BGR image.</summary>
public sealed class VideoFrame(long index, TimeSpan timestamp, Mat image) : IDisposable
{
    public long Index { get; } = index;
    public TimeSpan Timestamp { get; } = timestamp;
    public Mat Image { get; } = image;

    /// <summary>When the frame was captured, on the process clock (latency is measured from here).</summary>
    public double CapturedAtMs { get; } = Core.StopwatchTimeSource.Shared.NowMs;

    public void Dispose() => Image.Dispose();
}
