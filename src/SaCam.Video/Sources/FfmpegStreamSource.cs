using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using OpenCvSharp;

namespace SaCam.Video.Sources;

/// <summary>
/// A network stream (http, https, rtsp, rtmp, udp, ...) read through the <c>ffmpeg</c> program as raw BGR frames.
/// Why a process: the FFmpeg linked into OpenCvSharp4's official Linux runtime (4.13.0.20260627) was built with
/// <c>--disable-network</c>, so OpenCV cannot open any URL there (fixed upstream for OpenCvSharp5 in
/// shimat/opencvsharp#2084). Debian's ffmpeg reads every protocol FFmpeg knows. The frame size and rate come from
/// <c>ffprobe</c> when the source is opened; a stream that ends or breaks is reopened with backoff, as a camera is.
/// </summary>
public sealed class FfmpegStreamSource : IFrameSource
{
    private readonly string _url;
    private readonly FfmpegTools _tools;
    private readonly int _reconnectAttempts;
    private readonly int _width;
    private readonly int _height;

    private FfmpegStreamSource(string url, FfmpegTools tools, int reconnectAttempts, int width, int height, double? fps)
    {
        _url = url;
        _tools = tools;
        _reconnectAttempts = reconnectAttempts;
        _width = width;
        _height = height;
        FramesPerSecond = fps;
        Description = $"stream '{url}'";
    }

    public string Description { get; }
    public bool IsLive => true;
    public double? FramesPerSecond { get; }
    public long? FrameCount => null;

    /// <summary>Probes <paramref name="url"/> now, so that an unreachable stream fails before any pipeline starts.</summary>
    public static FfmpegStreamSource Open(string url, FfmpegTools tools, int reconnectAttempts = 5)
    {
        var (width, height, fps) = tools.ProbeVideo(url);
        return new FfmpegStreamSource(url, tools, reconnectAttempts, width, height, fps);
    }

    public IObservable<VideoFrame> Frames() => CaptureLoop.Run(Description, ReadLoop);

    private void ReadLoop(IObserver<VideoFrame> observer, CancellationToken cancellation)
    {
        long index = 0;
        int failures = 0;
        var clock = Stopwatch.StartNew();
        int frameBytes = _width * _height * 3;
        var buffer = new byte[frameBytes];
        while (!cancellation.IsCancellationRequested)
        {
            string? lastError;
            using (var decoder = _tools.StartDecoder(_url, _width, _height))
            using (cancellation.Register(decoder.Kill))
            {
                while (!cancellation.IsCancellationRequested && decoder.ReadExactly(buffer))
                {
                    failures = 0;
                    var image = new Mat(_height, _width, MatType.CV_8UC3);
                    Marshal.Copy(buffer, 0, image.Data, frameBytes);
                    observer.OnNext(new VideoFrame(index++, clock.Elapsed, image));
                }
                lastError = decoder.LastError();
            }
            if (cancellation.IsCancellationRequested) return;
            if (++failures > _reconnectAttempts)
                throw new FrameSourceException($"{Description} stopped delivering frames and did not come back after {_reconnectAttempts} reconnects" +
                                               (string.IsNullOrEmpty(lastError) ? "." : $" (ffmpeg: {lastError})."));
            if (!Backoff.Wait(failures, cancellation)) return;
        }
    }
}
