using SaCam.Core.Targets;
using static TorchSharp.torch;

namespace SaCam.Video.Pipeline;

/// <summary>
/// A cheap faithfulness check of one map: the areas under the deletion and insertion curves of the target's
/// confidence (RISE: the map's pixels removed, or restored into a blurred frame, most salient first), each in
/// [0, 1] for a confidence in [0, 1]. Lower deletion and higher insertion mean a more faithful map.
/// </summary>
public sealed record MapQuality(double Deletion, double Insertion)
{
    /// <summary>
    /// Whether the map fails the check: its insertion area is not above its deletion area. A map whose order of
    /// pixels is no better than a random one gives about equal areas (the score falls as fast as it rises), and an
    /// inverted map gives insertion below deletion; a map that carries the target's evidence puts insertion above
    /// deletion. So "fails" reads: the pixels this map calls most important explain the score no better than
    /// chance. The review page flags these frames.
    /// </summary>
    public bool Fails => Insertion - Deletion <= 0;
}

/// <summary>Scores a map's faithfulness. The video layer owns the contract; the application layer supplies one
/// built on the evaluation layer's deletion/insertion metric (the video layer does not reference it).</summary>
public interface IMapQualityCheck
{
    /// <param name="input">The frame as the model saw it, [1, C, H, W] on the model's device.</param>
    /// <param name="map">The map [H, W] at the input's size.</param>
    /// <param name="target">What the map explains; its confidence is the curves' score.</param>
    MapQuality Check(Tensor input, Tensor map, IExplanationTarget target, CancellationToken cancellation);
}

/// <summary>
/// Which explained frames get a quality check: the first one the explain stage handles, then every Nth after it
/// (explained frames 0, N, 2N, ... counted by the stage, so live mode's dropped frames do not count). One instance
/// per explain stage, called from its one thread.
/// </summary>
public sealed class QualitySampling(IMapQualityCheck check, int every)
{
    private long _explained;

    public IMapQualityCheck Check { get; } = check;
    public int Every { get; } = every >= 1 ? every : throw new ArgumentOutOfRangeException(nameof(every), every, "A quality check every N frames needs N >= 1.");

    /// <summary>Counts one explained frame; true when it is one to check.</summary>
    public bool NextIsDue() => _explained++ % Every == 0;
}
