namespace SaCam.Video.Pipeline;

/// <summary>Running counts of a pipeline, safe to read from any thread.</summary>
public sealed class PipelineStatistics
{
    /// <summary>Intervals between explained frames measured before <see cref="Fps"/> and per-frame latency count as
    /// known: until then the first frames' figures carry start-up (the warm-up, a queue still filling), and a HUD
    /// that printed them burned "0.2 fps latency 12891 ms" into the first frames of the video.</summary>
    public const int IntervalsBeforeRatesKnown = 5;

    private long _captured, _explained, _dropped, _written, _intervals;
    private double _fps, _lastDoneMs = double.NaN;
    private readonly Lock _gate = new();

    public long Captured => Interlocked.Read(ref _captured);
    public long Explained => Interlocked.Read(ref _explained);
    public long Dropped => Interlocked.Read(ref _dropped);
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Frames per second through the whole pipeline (exponential average over about 10 frames).</summary>
    public double Fps { get { lock (_gate) return _fps; } }

    /// <summary>Whether enough frames were measured for <see cref="Fps"/> and latency to mean something (see
    /// <see cref="IntervalsBeforeRatesKnown"/>).</summary>
    public bool RatesKnown { get { lock (_gate) return _intervals >= IntervalsBeforeRatesKnown; } }

    internal void OnCaptured() => Interlocked.Increment(ref _captured);
    internal void OnDropped() => Interlocked.Increment(ref _dropped);
    internal void OnWritten() => Interlocked.Increment(ref _written);

    internal void OnExplained(double nowMs)
    {
        Interlocked.Increment(ref _explained);
        lock (_gate)
        {
            if (!double.IsNaN(_lastDoneMs) && nowMs > _lastDoneMs)
            {
                double instant = 1000 / (nowMs - _lastDoneMs);
                _fps = _fps == 0 ? instant : _fps + 0.1 * (instant - _fps);
                _intervals++;
            }
            _lastDoneMs = nowMs;
        }
    }
}
