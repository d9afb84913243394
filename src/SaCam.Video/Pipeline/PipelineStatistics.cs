namespace SaCam.Video.Pipeline;

/// <summary>Running counts of a pipeline, safe to read from any thread.</summary>
public sealed class PipelineStatistics
{
    private long _captured, _explained, _dropped, _written;
    private double _fps, _lastDoneMs = double.NaN;
    private readonly Lock _gate = new();

    public long Captured => Interlocked.Read(ref _captured);
    public long Explained => Interlocked.Read(ref _explained);
    public long Dropped => Interlocked.Read(ref _dropped);
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Frames per second through the whole pipeline (exponential average over about 10 frames).</summary>
    public double Fps { get { lock (_gate) return _fps; } }

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
            }
            _lastDoneMs = nowMs;
        }
    }
}
