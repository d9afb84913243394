using OpenCvSharp;
using SaCam.Video.Pipeline;

namespace SaCam.Video.Sinks;

/// <summary>
/// An annotated video file (mp4v in .mp4/.mov, MJPG in .avi/.mjpg; H.264 does not encode on these machines).
/// Opened at the first frame with that frame's size; released on Dispose, which the pipeline always calls, so an
/// interrupted run still leaves a closed, playable file with every frame done so far. With
/// <paramref name="original"/> it writes the frames as they came from the source, without the overlay (a run folder
/// keeps both, so that a review can show them side by side).
/// </summary>
public sealed class VideoFileSink(string path, double fps, bool original = false) : IFrameSink
{
    private VideoWriter? _writer;

    public string Path { get; } = path;
    public long FramesWritten { get; private set; }

    public void Write(AnnotatedFrame frame)
    {
        var image = original ? frame.Frame.Image : frame.Overlay ?? frame.Frame.Image;
        _writer ??= Open(image.Size());
        _writer.Write(image);
        FramesWritten++;
    }

    private VideoWriter Open(Size size)
    {
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path));
        if (dir is not null) Directory.CreateDirectory(dir);
        string ext = System.IO.Path.GetExtension(Path).ToLowerInvariant();
        var fourcc = ext is ".avi" or ".mjpg" or ".mjpeg" ? FourCC.MJPG : FourCC.MP4V;
        var writer = new VideoWriter(Path, fourcc, fps > 0 ? fps : 25, size);
        if (!writer.IsOpened())
        {
            writer.Dispose();
            throw new IOException($"Cannot write video '{Path}' (use .mp4 or .avi, in a writable folder).");
        }
        return writer;
    }

    public void Dispose()
    {
        _writer?.Release();
        _writer?.Dispose();
        _writer = null;
    }
}
