using OpenCvSharp;
using SaCam.Video.Pipeline;

namespace SaCam.Video.Sinks;

/// <summary>
/// An annotated video file: mp4v in .mp4/.mov/.mkv, MJPG in .avi (H.264 does not encode on these machines).
/// Opened at the first frame with that frame's size; released on Dispose, which the pipeline always calls, so an
/// interrupted run still leaves a closed, playable file with every frame done so far. With
/// <paramref name="original"/> it writes the frames as they came from the source, without the overlay (a run folder
/// keeps both, so that a review can show them side by side).
/// OpenCV's writer reports nothing when a write fails (a full disk only prints "Failed to write frame" and the run
/// used to exit 0 with a broken file), so the sink checks for itself: free space on the output's disk before every
/// frame, and on close that the file decodes and holds every frame written.
/// What survives what: a run stopped by Ctrl+C, SIGTERM or an error closes the file, whatever the container; after
/// SIGKILL or a power cut, .mkv and .avi keep every frame flushed so far, while .mp4/.mov are unreadable (their
/// index is written at the end).
/// </summary>
public sealed class VideoFileSink(string path, double fps, bool original = false) : IFrameSink
{
    /// <summary>Below this much free space on the output's disk a run stops: a frame of 1080p MJPG is ~0.5 MB, and
    /// OpenCV's writer buffers before it writes, so running to zero loses frames without a word.</summary>
    public const long MinFreeBytes = 4L << 20;

    private VideoWriter? _writer;
    private readonly IFreeSpace _freeSpace = FreeSpaceProbe;

    public string Path { get; } = path;
    public long FramesWritten { get; private set; }

    /// <summary>Bytes free on the disk that holds <see cref="Path"/> (replaceable in tests).</summary>
    public IFreeSpace FreeSpace { get => _freeSpace; init => _freeSpace = value; }

    public void Write(AnnotatedFrame frame)
    {
        var image = original ? frame.Frame.Image : frame.Overlay ?? frame.Frame.Image;
        _writer ??= Open(image.Size());
        long free = FreeSpace.BytesFree(Path);
        if (free < MinFreeBytes)
            throw new IOException($"Writing '{Path}' stopped after {FramesWritten} frames: its disk is full ({free / 1024} KB free). " +
                                  "The frames written so far are kept; free some space and run again.");
        _writer.Write(image);
        FramesWritten++;
    }

    private VideoWriter Open(Size size)
    {
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path));
        if (dir is not null) Directory.CreateDirectory(dir);
        string ext = System.IO.Path.GetExtension(Path).ToLowerInvariant();
        // Lower-case mp4v is the tag the mp4 muxer takes as is (upper-case MP4V makes FFmpeg print a fallback warning).
        FourCC fourcc = ext is ".avi" or ".mjpg" or ".mjpeg" ? FourCC.MJPG : FourCC.FromString("mp4v");
        var writer = new VideoWriter(Path, fourcc, fps > 0 ? fps : 25, size);
        if (!writer.IsOpened())
        {
            writer.Dispose();
            throw new IOException($"Cannot write video '{Path}' (use .mp4, .mkv, .mov or .avi, in a writable folder).");
        }
        return writer;
    }

    public void Dispose()
    {
        if (_writer is null) return;
        _writer.Release();
        _writer.Dispose();
        _writer = null;
        VerifyWritten();
    }

    /// <summary>A closed file must decode and hold every frame written; else the write failed somewhere (a disk
    /// that filled up between two checks, a folder removed under the run) and the run must not end with 0.</summary>
    private void VerifyWritten()
    {
        if (FramesWritten == 0) return;
        using var capture = new VideoCapture(Path);
        long held = capture.IsOpened() ? (long)capture.Get(VideoCaptureProperties.FrameCount) : -1;
        if (held < 0)
            throw new IOException($"Writing '{Path}' failed: the closed file cannot be read back ({FreeSpace.BytesFree(Path) / 1024} KB free on its disk).");
        if (held < FramesWritten)
            throw new IOException($"Writing '{Path}' failed: the file holds {held} of the {FramesWritten} frames written ({FreeSpace.BytesFree(Path) / 1024} KB free on its disk).");
    }

    private static readonly IFreeSpace FreeSpaceProbe = new DriveFreeSpace();
}

/// <summary>Free bytes on the disk that holds a path.</summary>
public interface IFreeSpace
{
    long BytesFree(string path);
}

/// <summary>statvfs through DriveInfo: the space available to this user on the path's file system.</summary>
public sealed class DriveFreeSpace : IFreeSpace
{
    public long BytesFree(string path)
    {
        try
        {
            var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path)) ?? "/";
            return new DriveInfo(dir).AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return long.MaxValue; // unknown: do not stop a run for want of a figure
        }
    }
}
