namespace SaCam.Video.Sources;

/// <summary>Turns what a user names into a source: a camera index, a URL, a folder or glob of images, or a video file.</summary>
public static class FrameSources
{
    public static IFrameSource Open(string spec)
    {
        if (int.TryParse(spec, out int camera)) return VideoCaptureSource.Camera(camera);
        if (spec.Contains("://", StringComparison.Ordinal)) return VideoCaptureSource.Stream(spec);
        if (Directory.Exists(spec) || spec.Contains('*') || spec.Contains('?')) return new ImageFolderSource(spec);
        return VideoCaptureSource.File(spec);
    }
}
