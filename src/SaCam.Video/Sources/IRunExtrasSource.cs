using SaCam.Video.Sinks;

namespace SaCam.Video.Sources;

/// <summary>
/// A source that adds to a run folder what its review needs beyond the videos, in the run's
/// <see cref="RunFolder.SourceFolderName"/> folder (a DICOM source: the frames' values at full bit depth for
/// re-windowing, the maps at frame size, slice positions). Video knows nothing of what the source writes there.
/// </summary>
public interface IRunExtrasSource
{
    /// <summary>A sink that writes into <paramref name="folder"/> (created empty) as the run's frames arrive.</summary>
    IFrameSink CreateRunSink(string folder);
}
