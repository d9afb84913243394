using static TorchSharp.torch;

namespace SaCam.Core.Realtime;

/// <summary>
/// One score cache per recently explained class: a top-1 that flips between similar classes (minivan, pickup) comes
/// back to its scores instead of starting over. The current class's cache is <see cref="Current"/>; up to
/// ClassesKept - 1 others are parked, most recent first. A scene cut drops them all.
/// </summary>
internal sealed class ClassScoreCaches(RealtimeSaCamOptions options) : IDisposable
{
    private readonly List<ScoreCache> _parked = [];

    public ScoreCache Current { get; private set; } = new();

    /// <summary>Whether the current cache holds scores of another class than <paramref name="classIndex"/>.</summary>
    public bool HoldsOtherClass(int classIndex) => Current.ClassIndex is int cached && cached != classIndex;

    /// <summary>Drops every class's scores (a scene cut: they belong to the old picture).</summary>
    public void DropAll()
    {
        foreach (var c in _parked) c.Dispose();
        _parked.Clear();
        Current.Reset();
    }

    /// <summary>Parks the current class's cache and takes out the one of <paramref name="classIndex"/>, if kept.</summary>
    public void SwitchTo(int classIndex)
    {
        _parked.Insert(0, Current);
        int found = _parked.FindIndex(c => c.ClassIndex == classIndex);
        if (found >= 0)
        {
            Current = _parked[found];
            _parked.RemoveAt(found);
        }
        else
        {
            Current = new ScoreCache();
        }
        while (_parked.Count > options.ClassesKept - 1)
        {
            _parked[^1].Dispose();
            _parked.RemoveAt(_parked.Count - 1);
        }
    }

    /// <summary>A new frame of <paramref name="classIndex"/> with <paramref name="channels"/> channels: the current cache
    /// is made ready for it, and every cache ages by a frame and drifts by the scene change.</summary>
    public void Advance(int classIndex, long channels, Device device, double sceneChange)
    {
        Current.Prepare(classIndex, channels, device);
        foreach (var parked in _parked) parked.Tick(options.MaxCacheAgeFrames, sceneChange);
        Current.Tick(options.MaxCacheAgeFrames, sceneChange);
    }

    public void Dispose()
    {
        DropAll();
        Current.Dispose();
    }
}
