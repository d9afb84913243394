using static TorchSharp.torch;

namespace SaCam.Core.Realtime;

/// <summary>
/// The per-channel score term S from earlier frames, with the age (in frames) of each entry. Lives on the model's
/// device; dropped whole on a scene cut or a change of class, because S is a probability of that class on masks
/// of that scene.
/// </summary>
internal sealed class ScoreCache : IDisposable
{
    private Tensor? _scores;   // [K]
    private Tensor? _age;      // [K], float; +inf = never scored
    private Tensor? _drift;    // [K], float: scene change accumulated since each score was taken

    public int? ClassIndex { get; private set; }
    public long Resets { get; private set; }

    public bool IsEmpty => _scores is null;

    /// <summary>Makes sure the cache is for this class and channel count; resets it otherwise.</summary>
    public void Prepare(int classIndex, long channels, Device device)
    {
        // Device has no value equality: compare its type and index.
        if (_scores is not null && ClassIndex == classIndex && _scores.shape[0] == channels &&
            _scores.device_type == device.type && _scores.device_index == device.index) return;
        Reset();
        ClassIndex = classIndex;
        _scores = zeros(channels, device: device).DetachFromDisposeScope();
        _age = full(channels, float.PositiveInfinity, device: device).DetachFromDisposeScope();
        _drift = zeros(channels, device: device).DetachFromDisposeScope();
    }

    public Tensor Scores => _scores ?? throw new InvalidOperationException("cache not prepared");
    public Tensor Age => _age ?? throw new InvalidOperationException("cache not prepared");
    public Tensor Drift => _drift ?? throw new InvalidOperationException("cache not prepared");

    /// <summary>One frame passed, the scene changed by <paramref name="sceneChange"/>: every entry ages and drifts;
    /// entries past maxAge are forgotten.</summary>
    public void Tick(double maxAge, double sceneChange)
    {
        _age!.add_(1);
        _drift!.add_(sceneChange);
        _age.masked_fill_(_age > maxAge, float.PositiveInfinity);
    }

    /// <summary>Stores fresh scores for <paramref name="channels"/>.</summary>
    public void Store(Tensor channels, Tensor freshScores)
    {
        _scores!.index_copy_(0, channels, freshScores.index_select(0, channels));
        _age!.index_fill_(0, channels, 0);
        _drift!.index_fill_(0, channels, 0);
    }

    public void Reset()
    {
        if (_scores is not null) Resets++;
        _scores?.Dispose();
        _age?.Dispose();
        _drift?.Dispose();
        _scores = _age = _drift = null;
        ClassIndex = null;
    }

    public void Dispose() => Reset();
}
