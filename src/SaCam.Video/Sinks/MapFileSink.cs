using SaCam.Core.Tensors;
using SaCam.Video.Pipeline;

namespace SaCam.Video.Sinks;

/// <summary>Each frame's map as float32 .npy [H, W] in [0, 1] at the model's input size, named by frame index
/// (000123.npy); for an object target, each object's map, named by frame and track (000123-4.npy).</summary>
public sealed class MapFileSink(string folder) : IFrameSink
{
    public void Write(AnnotatedFrame frame)
    {
        if (frame.Explanation.Objects is { } objects)
        {
            foreach (var o in objects) NpyFile.Write(Path.Combine(folder, $"{frame.Frame.Index:D6}-{o.Track}.npy"), o.Map);
            return;
        }
        if (frame.Explanation.Map is null) return;
        NpyFile.Write(Path.Combine(folder, $"{frame.Frame.Index:D6}.npy"), frame.Explanation.Map);
    }

    public void Dispose() { }
}

/// <summary>PNG overlays of chosen frames (by index), or of every Nth frame.</summary>
public sealed class PngFrameSink(string folder, IReadOnlySet<long>? indices = null, int every = 0) : IFrameSink
{
    public void Write(AnnotatedFrame frame)
    {
        long i = frame.Frame.Index;
        bool chosen = (indices?.Contains(i) ?? false) || (every > 0 && i % every == 0);
        if (!chosen) return;
        Imaging.ImageFile.Write(Path.Combine(folder, $"{i:D6}.png"), frame.Overlay ?? frame.Frame.Image);
    }

    public void Dispose() { }
}

/// <summary>A live window (highgui). Only where a display exists: without one it refuses at construction, and
/// headless runs simply do not ask for it.</summary>
public sealed class WindowSink : IFrameSink
{
    private readonly string _title;

    public WindowSink(string title)
    {
        if (OperatingSystem.IsLinux() && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DISPLAY")) &&
            string.IsNullOrEmpty(Environment.GetEnvironmentVariable("WAYLAND_DISPLAY")))
            throw new InvalidOperationException("--show needs a display (neither DISPLAY nor WAYLAND_DISPLAY is set): run without --show, or under Xvfb.");
        _title = title;
    }

    public void Write(AnnotatedFrame frame)
    {
        OpenCvSharp.Cv2.ImShow(_title, frame.Overlay ?? frame.Frame.Image);
        OpenCvSharp.Cv2.WaitKey(1);
    }

    public void Dispose() => OpenCvSharp.Cv2.DestroyWindow(_title);
}
