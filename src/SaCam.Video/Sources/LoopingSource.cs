using System.Reactive.Linq;

namespace SaCam.Video.Sources;

/// <summary>Plays a finite source several times in a row, numbering frames on (soak tests, long-run memory checks).</summary>
public sealed class LoopingSource(IFrameSource inner, int times) : IFrameSource
{
    public string Description => $"{inner.Description} x{times}";
    public bool IsLive => inner.IsLive;
    public double? FramesPerSecond => inner.FramesPerSecond;
    public long? FrameCount => inner.FrameCount * times;

    public IObservable<VideoFrame> Frames() => Observable.Defer(() =>
    {
        long index = 0;
        double fps = inner.FramesPerSecond ?? 25;
        return Observable.Range(0, times).Select(_ => inner.Frames()).Concat().Select(f =>
        {
            var renumbered = new VideoFrame(index, TimeSpan.FromSeconds(index / fps), f.Image);
            index++;
            return renumbered; // the image moves to the new frame; the old wrapper holds nothing else
        });
    });
}
