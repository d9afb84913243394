using SaCam.Video.Pipeline;

namespace SaCam.Video.Sinks;

/// <summary>
/// Where annotated frames go. Write is called in frame order from one thread; Dispose finishes the output (closes
/// files) and is always called, also after an error or a cancellation, so what was written stays valid.
/// </summary>
public interface IFrameSink : IDisposable
{
    void Write(AnnotatedFrame frame);
}
