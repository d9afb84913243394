using static TorchSharp.torch;

namespace SaCam.Core.Realtime;

/// <summary>
/// The figures sacam-rt reports with each frame (CamComputation.Diagnostics): the budget, the channels scored and
/// covered, the cache's coverage and staleness, the scene cut and class change, the trust in the score term. The
/// three that come from tensors are read from the device together, once.
/// </summary>
internal sealed record FrameDiagnostics
{
    public required double BudgetMs { get; init; }
    public required double CarriedMs { get; init; }
    public required double UsedMs { get; init; }
    public required long ChannelsScored { get; init; }
    public required long ChannelsCovered { get; init; }
    public required long ChannelsLive { get; init; }
    public required long ChannelsCached { get; init; }
    public required double CostPerImageMs { get; init; }
    public required bool SceneCut { get; init; }
    public required bool ClassChanged { get; init; }
    public required long CacheResets { get; init; }
    public required double ScoreConfidence { get; init; }
    public required double GradCamShare { get; init; }
    public required double ExpectedError { get; init; }

    /// <summary>The dictionary, with the staleness figures computed from the map's weights
    /// <paramref name="w"/>, the live and cached masks and the cached scores' ages.</summary>
    public Dictionary<string, double> ToDictionary(Tensor w, Tensor live, Tensor scoredMask, Tensor cacheAge)
    {
        var ageOfWeight = where(scoredMask, cacheAge, zeros_like(cacheAge));
        var read = DeviceReads.Floats(
            (w * live.logical_and(scoredMask.logical_not()).to_type(w.dtype)).sum(),
            (w * ageOfWeight).sum(),
            (w * scoredMask.to_type(w.dtype)).sum());
        return new Dictionary<string, double>
        {
            ["budget_ms"] = BudgetMs,
            ["carried_ms"] = CarriedMs,
            ["used_ms"] = UsedMs,
            // Channels whose two perturbed images ran this frame, and the live channels that got a fresh score from
            // them (with the channels that share a scored one's normalized map).
            ["channels_scored"] = ChannelsScored,
            ["channels_covered"] = ChannelsCovered,
            ["channels_live"] = ChannelsLive,
            ["cache_coverage"] = ChannelsLive == 0 ? 1 : ChannelsCached / (double)ChannelsLive,
            // Staleness: the share of the map's weight resting on guessed (never scored) channels, and the
            // weight-averaged age of the cached scores the map uses.
            ["weight_on_unscored"] = read[0],
            ["weighted_cache_age"] = read[1] / Math.Max(1e-12, read[2]),
            ["cost_per_image_ms"] = CostPerImageMs,
            ["scene_cut"] = SceneCut ? 1 : 0,
            ["class_changed"] = ClassChanged ? 1 : 0,
            ["cache_resets"] = CacheResets,
            ["score_confidence"] = ScoreConfidence,
            // Grad-CAM's share of the map, for want of trusted scores (0 once every score holds).
            ["gradcam_share"] = GradCamShare,
            // The map's expected 1 - Pearson against full SA-CAM's, from redrawing the scores not measured.
            ["expected_error"] = ExpectedError,
        };
    }
}
