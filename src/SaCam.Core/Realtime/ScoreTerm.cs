using SaCam.Core.Methods;
using static TorchSharp.torch;

namespace SaCam.Core.Realtime;

/// <summary>
/// sacam-rt's arithmetic on the score term S over a score cache: which channels to score next, an estimate for the
/// channels never scored, and how far to trust a partly measured S. No state of its own: the cache and the options
/// are its inputs.
/// </summary>
internal sealed class ScoreTerm(RealtimeSaCamOptions options)
{
    /// <summary>Cached scores needed before unscored channels are estimated by regression (5 coefficients).</summary>
    public const int MinScoresToRegress = 8;

    /// <summary>
    /// The channels whose unmeasured weight is largest. A channel's SA can reach its known part (K and Q terms) plus
    /// its cached S/max S, or plus 1 when never scored; exp((that - best) / T) bounds the softmax weight it could
    /// take. Priority = that bound times how stale its score is (1 when never scored, growing with the scene change
    /// since it was scored, half-way at <see cref="RealtimeSaCamOptions.RefreshHalfLifeDrift"/>). Staleness here is
    /// not 1 - <see cref="Trust"/>: with the first-move drop every score older than a frame would look 40% stale, the
    /// strongest channels would be rescored every frame and the rest never (on the panned lane at 25 channels a frame
    /// that doubled the error, docs/realtime.md).
    /// </summary>
    public Tensor ChooseChannels(ScoreCache cache, Tensor known, Tensor live, long count, DuplicateChannels duplicates, Tensor liveChannels)
    {
        if (count <= 0) return empty(0, ScalarType.Int64, device: known.device);
        var scored = cache.Age.isfinite();
        var stale = 1 - where(scored, Halving(cache.Drift, options.RefreshHalfLifeDrift), zeros_like(cache.Drift));
        var priority = (WeightBound(cache, known, live) * stale).index_select(0, liveChannels);
        // Channels with the same normalized map are scored by one pair of images: rank each group by its most urgent
        // member, and run the group's first channel.
        var groupPriority = duplicates.GroupMaximum(priority);
        return duplicates.Distinct.index_select(0, groupPriority.topk((int)count).indexes);
    }

    /// <summary>
    /// exp((bound - best bound) / T) per channel, the most softmax weight it could take, where a channel's bound is its
    /// known part plus its cached S/max S, or plus 1 (the most S can add) when never scored; 0 for dead channels.
    /// Optimistic for unscored channels on purpose: an estimate that guessed their S low must not hide them.
    /// </summary>
    private Tensor WeightBound(ScoreCache cache, Tensor known, Tensor live)
    {
        var scores = cache.Scores;
        return SoftmaxReach(known + where(cache.Age.isfinite(), scores / scores.max().clamp_min(1e-12), ones_like(scores)), live);
    }

    /// <summary>exp((SA - best SA) / T) over live channels (0 for dead ones): each channel's softmax weight relative
    /// to the strongest channel's, for a given SA.</summary>
    private Tensor SoftmaxReach(Tensor sa, Tensor live)
    {
        var masked = sa.masked_fill(live.logical_not(), double.NegativeInfinity);
        return ((masked - masked.max()) / options.SaCam.Temperature).exp();
    }

    /// <summary>How far each cached score still holds, from the scene change D since it was measured: 1 when just
    /// measured or on a still scene; once the scene moves, rho 2^(-D/h) + (1 - rho) 2^(-D/h1) (rho
    /// <see cref="RealtimeSaCamOptions.ScoreTrustOnceMoved"/>, h <see cref="RealtimeSaCamOptions.ScoreHalfLifeDrift"/>,
    /// h1 <see cref="RealtimeSaCamOptions.ScoreFirstMoveHalfLifeDrift"/>). Why two parts: a channel's S correlates only
    /// 0.6-0.78 with its value a frame of driving later, then decorrelates slowly. 0 for channels never scored.</summary>
    public Tensor Trust(ScoreCache cache, Tensor scoredMask)
    {
        double rho = options.ScoreTrustOnceMoved;
        var slow = Halving(cache.Drift, options.ScoreHalfLifeDrift);
        var firstMove = Halving(cache.Drift, options.ScoreFirstMoveHalfLifeDrift);
        return where(scoredMask, rho * slow + (1 - rho) * firstMove, zeros_like(cache.Drift));
    }

    /// <summary>2^(-drift / halfLife): 1 at no scene change, half at one half-life.</summary>
    private static Tensor Halving(Tensor drift, double halfLife) => (-drift * (Math.Log(2) / halfLife)).exp();

    /// <summary>
    /// How much of the score term to trust: the share of the softmax weight at stake that rests on measured scores,
    /// each discounted by the scene change since it was taken (<see cref="Trust"/>; on a still scene nothing is
    /// discounted, so the cache converges to full SA-CAM). The S term is shrunk towards a constant by that share, lambda * S + (1 - lambda) * max S; the softmax ignores a constant, so
    /// lambda = 0 is SA-CAM without its score term and lambda = 1 the formula as is. Why: with a handful of scored
    /// channels, a partly known S moves weight onto the wrong channels more often than it helps (measured on the
    /// reference images: 4-16 scored channels gave map correlations with full SA-CAM below the no-score map's, the
    /// shrunk form was at or above both); as the cache fills lambda goes to 1 and the result to full SA-CAM.
    /// </summary>
    public (Tensor Scores, double Confidence) Shrink(ScoreCache cache, Tensor s, Tensor known, Tensor live, Tensor scoredMask)
    {
        if (!options.ShrinkUncertainScores) return (s, 1.0);
        // The weight at stake by the S the map will use (estimates for unscored channels). Measured on
        // lane_dashcam.mp4, this beat the optimistic bound of WeightBound (median Pearson 0.986 vs 0.972): the bound
        // keeps lambda near 0.1 and the map near SA-CAM without S, which is farther from full SA-CAM on that footage.
        var reach = SoftmaxReach(known + s / s.max().clamp_min(1e-12), live);
        var trust = Trust(cache, scoredMask);
        // Both sums in one read from the device (each was a sync of its own).
        var sums = DeviceReads.Floats(reach.sum(), (reach * trust).sum());
        double total = sums[0];
        double lambda = total <= 0 ? 1.0 : Math.Clamp(sums[1] / total, 0, 1);
        var shrunk = lambda * s + (1 - lambda) * s.max();
        return (where(live, shrunk, zeros_like(s)), lambda);
    }

    /// <summary>
    /// S of channels never scored, predicted from those that were: a ridge regression of the cached S on features
    /// every channel has for free (its K and Q terms, scaled as in SA, and its mean and peak activation), fitted anew
    /// each frame on the cached channels; with fewer than 8 of them, their maximum. Predictions are clamped to the
    /// range of the cached scores. Why the maximum and not the mean: the few channels scored first are the most
    /// urgent ones, not a sample, and with the mean a single high score lifts its channel above every channel not yet
    /// looked at. On traffic_frames.mp4 at 0.6 channels a frame that made one channel take up to 65% of the map's
    /// weight (median error 2.18x Grad-CAM's; 0.69x with the maximum, docs/realtime.md). With the maximum a score
    /// can only demote its channel until the regression has enough points.
    /// </summary>
    public Tensor EstimateUnscored(ScoreCache cache, Tensor k, Tensor q, Tensor activations, Tensor scoredMask, long scoredCount)
    {
        if (scoredCount == 0) return zeros_like(k);
        var cachedScores = cache.Scores.masked_select(scoredMask);
        if (scoredCount < MinScoresToRegress || !options.RegressUnscored) return cachedScores.max().expand_as(k);
        var a = activations[0].flatten(1);
        var features = stack([ones_like(k), CamMath.UnitScale(k, signed: true), CamMath.UnitScale(q, signed: false),
            CamMath.UnitScale(a.mean([1]), signed: false), CamMath.UnitScale(a.amax([1]), signed: false)], 1);   // [K, 5]
        var x = features[scoredMask];
        var gram = x.t().matmul(x) + 1e-2 * eye(x.shape[1], device: x.device);
        var beta = linalg.solve(gram, x.t().matmul(cachedScores.unsqueeze(1)));
        return features.matmul(beta).squeeze(1).clamp(cachedScores.min(), cachedScores.max());
    }
}
