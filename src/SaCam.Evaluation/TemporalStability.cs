using static TorchSharp.torch;

namespace SaCam.Evaluation;

/// <summary>Change between two consecutive frames: of the input, and of the map.</summary>
public sealed record FrameChange(long Index, double InputChange, double MapChange, double MapMeanAbsDiff);

/// <summary>
/// Temporal stability of a method on video: for consecutive frames, how much the map changes (1 - SSIM, and the
/// mean absolute difference) against how much the frame changes (mean absolute difference of the normalized
/// inputs). A method a reviewer can trust changes its map when, and as much as, the scene changes.
/// Feed frames in order; read <see cref="Changes"/> and <see cref="Summarize"/>.
/// </summary>
public sealed class TemporalStability : IDisposable
{
    private Tensor? _previousInput, _previousMap;
    private readonly List<FrameChange> _changes = [];

    public IReadOnlyList<FrameChange> Changes => _changes;

    public void Add(long index, Tensor input, Tensor map)
    {
        var x = input.detach().cpu().clone().DetachFromDisposeScope();
        var m = map.detach().cpu().clone().DetachFromDisposeScope();
        if (_previousInput is not null && _previousMap is not null)
        {
            using var scope = NewDisposeScope();
            double inputChange = (x - _previousInput).abs().mean().item<float>();
            double mapChange = 1 - MapSimilarity.Ssim(m, _previousMap);
            double mad = (m - _previousMap).abs().mean().item<float>();
            _changes.Add(new FrameChange(index, inputChange, mapChange, mad));
        }
        _previousInput?.Dispose();
        _previousMap?.Dispose();
        _previousInput = x;
        _previousMap = m;
    }

    /// <summary>Mean map change, mean input change, their ratio, and the correlation between the two over frames.</summary>
    public (double MeanMapChange, double MeanInputChange, double Ratio, double Correlation) Summarize()
    {
        if (_changes.Count == 0) return (0, 0, 0, 0);
        double map = _changes.Average(c => c.MapChange), input = _changes.Average(c => c.InputChange);
        using var a = tensor(_changes.Select(c => c.MapChange).ToArray());
        using var b = tensor(_changes.Select(c => c.InputChange).ToArray());
        return (map, input, input > 0 ? map / input : 0, MapSimilarity.Pearson(a, b));
    }

    public void Dispose()
    {
        _previousInput?.Dispose();
        _previousMap?.Dispose();
    }
}
