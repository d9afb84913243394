using static TorchSharp.torch;

namespace SaCam.Core.Realtime;

/// <summary>Exponential smoothing of the low-resolution map across frames (<see cref="RealtimeSaCamOptions.TemporalSmoothing"/>);
/// keeps the previous smoothed map, which a scene cut or a change of class drops.</summary>
internal sealed class MapSmoother : IDisposable
{
    private Tensor? _previous;

    public Tensor Smooth(Tensor low, double share)
    {
        if (share <= 0) return low;
        var smoothed = _previous is not null && _previous.shape.SequenceEqual(low.shape)
            ? low * (1 - share) + _previous * share
            : low;
        _previous?.Dispose();
        _previous = smoothed.detach().clone().DetachFromDisposeScope();
        return smoothed;
    }

    public void Forget()
    {
        _previous?.Dispose();
        _previous = null;
    }

    public void Dispose() => Forget();
}
