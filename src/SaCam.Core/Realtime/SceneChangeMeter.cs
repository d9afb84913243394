using static TorchSharp.torch;

namespace SaCam.Core.Realtime;

/// <summary>How much the picture changed since the previous frame: the mean absolute change of the standardized
/// 16x16 thumbnail (zero mean, unit std per frame, so the same for any model's normalization). Keeps the last
/// thumbnail on the model's device.</summary>
internal sealed class SceneChangeMeter : IDisposable
{
    private Tensor? _previousThumbnail;

    /// <summary>The change since the previous frame (0 for the first); one read from the device.</summary>
    public double Measure(Tensor input)
    {
        using var pooled = nn.functional.adaptive_avg_pool2d(input, [16, 16]);
        var thumbnail = ((pooled - pooled.mean()) / (pooled.std() + 1e-6)).DetachFromDisposeScope();
        double change = 0;
        if (_previousThumbnail is not null)
        {
            using var diff = (thumbnail - _previousThumbnail).abs().mean();
            change = diff.item<float>();
            _previousThumbnail.Dispose();
        }
        _previousThumbnail = thumbnail;
        return change;
    }

    public void Reset()
    {
        _previousThumbnail?.Dispose();
        _previousThumbnail = null;
    }

    public void Dispose() => Reset();
}
