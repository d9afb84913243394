namespace SaCam.Video.Sources;

/// <summary>Turns what a user names into a source: a camera index, a URL, a folder or glob of images, or a video file.</summary>
public static class FrameSources
{
    public static IFrameSource Open(string spec)
    {
        if (int.TryParse(spec, out int camera)) return VideoCaptureSource.Camera(camera);
        if (spec.Contains("://", StringComparison.Ordinal)) return OpenStream(spec, FfmpegTools.FromPath());
        if (Directory.Exists(spec) || spec.Contains('*') || spec.Contains('?')) return new ImageFolderSource(spec);
        return VideoCaptureSource.File(spec);
    }

    /// <summary>
    /// A stream URL: through OpenCV when its FFmpeg can open it, else through the ffmpeg program. OpenCvSharp4's
    /// official Linux runtime has no network protocols (see <see cref="FfmpegStreamSource"/>), so there every http,
    /// rtsp or udp URL goes to the program; file:// and Windows builds stay with OpenCV.
    /// </summary>
    public static IFrameSource OpenStream(string url, FfmpegTools? tools)
    {
        using (var probe = new OpenCvSharp.VideoCapture(url, OpenCvSharp.VideoCaptureAPIs.FFMPEG))
            if (probe.IsOpened()) return VideoCaptureSource.Stream(url);
        if (tools is not null) return FfmpegStreamSource.Open(url, tools);
        throw new FrameSourceException($"Cannot open stream '{url}': OpenCV's FFmpeg cannot read it (OpenCvSharp4's official Linux runtime is built " +
                                       "without network protocols) and no ffmpeg/ffprobe program is on PATH to read it instead. Install FFmpeg " +
                                       "(Debian: apt-get install ffmpeg) or check the URL.");
    }
}
