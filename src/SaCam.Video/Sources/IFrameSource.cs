namespace SaCam.Video.Sources;

/// <summary>
/// A source of frames. Subscribing starts capture on a thread of its own; frames arrive in order with their index
/// and timestamp; the end of the stream completes; a failure is an error event that comes after every frame
/// already read. Unsubscribing (or cancelling) stops capture and releases the device or file.
/// </summary>
public interface IFrameSource
{
    string Description { get; }

    /// <summary>Live sources (cameras, streams) produce frames whether or not anyone keeps up.</summary>
    bool IsLive { get; }

    /// <summary>Frames per second when known.</summary>
    double? FramesPerSecond { get; }

    /// <summary>Number of frames when known (files).</summary>
    long? FrameCount { get; }

    IObservable<VideoFrame> Frames();
}

/// <summary>A source failed: the message names the source and what went wrong.</summary>
public sealed class FrameSourceException(string message, Exception? inner = null) : Exception(message, inner);
