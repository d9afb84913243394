namespace SaCam.Core.Methods;

/// <summary>
/// A method whose result depends on the frames it saw before (sacam-rt: a score cache, a scene detector, a smoothed
/// map). It belongs to one stream of frames: a front-end makes one instance per stream, never shares it between
/// threads, and disposes it when the stream ends. Front-ends test for this type instead of comparing method ids.
/// </summary>
public interface IPerStreamMethod : ICamMethod, IDisposable
{
    /// <summary>Raised (rarely, at most once per condition) with a sentence for the user: a setting that buys nothing,
    /// say. The method never writes to a console; every front-end shows these the same way.</summary>
    event Action<SettingText>? Warning;

    /// <summary>Forgets everything learned from earlier frames (a new stream, a seek).</summary>
    void Reset();
}
