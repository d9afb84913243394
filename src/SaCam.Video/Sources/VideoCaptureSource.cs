using OpenCvSharp;

namespace SaCam.Video.Sources;

/// <summary>
/// Frames through OpenCV's VideoCapture (FFmpeg): a video file, a camera by index, or a network stream URL.
/// Files: a read that fails before the container's frame count is reached is reported as a truncated or corrupt
/// file, after every frame read so far. Live sources reconnect with exponential backoff before giving up.
/// </summary>
public sealed class VideoCaptureSource : IFrameSource
{
    private readonly Func<VideoCapture> _open;
    private readonly int _reconnectAttempts;

    private VideoCaptureSource(string description, bool isLive, Func<VideoCapture> open, int reconnectAttempts)
    {
        Description = description;
        IsLive = isLive;
        _open = open;
        _reconnectAttempts = reconnectAttempts;
    }

    public string Description { get; }
    public bool IsLive { get; }
    public double? FramesPerSecond { get; private set; }
    public long? FrameCount { get; private set; }

    /// <summary>A video file: checked for existence and readability now, so a bad path fails before any pipeline starts.</summary>
    public static VideoCaptureSource File(string path)
    {
        if (!System.IO.File.Exists(path)) throw new FrameSourceException($"Video '{path}' does not exist.");
        var source = new VideoCaptureSource($"video '{path}'", false, () => new VideoCapture(path, VideoCaptureAPIs.FFMPEG), 0);
        using var probe = source.OpenOrThrow();
        source.FramesPerSecond = probe.Fps > 0 ? probe.Fps : null;
        source.FrameCount = probe.FrameCount > 0 ? probe.FrameCount : null;
        return source;
    }

    public static VideoCaptureSource Camera(int index, int reconnectAttempts = 5) =>
        new($"camera {index}", true, () => new VideoCapture(index), reconnectAttempts);

    public static VideoCaptureSource Stream(string url, int reconnectAttempts = 5) =>
        new($"stream '{url}'", true, () => new VideoCapture(url, VideoCaptureAPIs.FFMPEG), reconnectAttempts);

    public IObservable<VideoFrame> Frames() => CaptureLoop.Run(Description, ReadLoop);

    private VideoCapture OpenOrThrow()
    {
        var capture = _open();
        if (!capture.IsOpened())
        {
            capture.Dispose();
            throw new FrameSourceException($"Cannot open {Description} (not a video OpenCV/FFmpeg can read, or the device is busy or absent).");
        }
        return capture;
    }

    private void ReadLoop(IObserver<VideoFrame> observer, CancellationToken cancellation)
    {
        var capture = OpenOrThrow();
        try
        {
            double fps = capture.Fps > 0 ? capture.Fps : 25;
            long expected = IsLive ? 0 : (long)capture.FrameCount;
            long index = 0;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            int failures = 0;
            while (!cancellation.IsCancellationRequested)
            {
                var mat = new Mat();
                bool ok;
                try { ok = capture.Read(mat) && !mat.Empty(); }
                catch (Exception) { ok = false; }
                if (!ok)
                {
                    mat.Dispose();
                    if (!IsLive)
                    {
                        // FFmpeg may report a frame or two more than it decodes; more missing is a truncated file.
                        if (expected > 0 && index < expected - 2)
                            throw new FrameSourceException($"{Description} ended after {index} of {expected} frames: the file is truncated or corrupt.");
                        return;
                    }
                    if (++failures > _reconnectAttempts)
                        throw new FrameSourceException($"{Description} stopped delivering frames and did not come back after {_reconnectAttempts} reconnects.");
                    capture.Dispose();
                    if (!Backoff.Wait(failures, cancellation)) return;
                    capture = _open();
                    continue;
                }
                failures = 0;
                // Files: frame time from the index (container timestamps can be missing); live: time since capture began.
                var timestamp = IsLive ? clock.Elapsed : TimeSpan.FromSeconds(index / fps);
                observer.OnNext(new VideoFrame(index++, timestamp, ToBgr(mat)));
            }
        }
        finally
        {
            capture.Dispose();
        }
    }

    private static Mat ToBgr(Mat mat) => mat.Type() == MatType.CV_8UC3 ? mat : Imaging.ImageFile.ToBgr8(mat);
}
