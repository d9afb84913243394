using SaCam.Core.Methods;
using SaCam.Core.Targets;
using TorchSharp;
using static TorchSharp.torch;

namespace SaCam.Core.Realtime;

/// <summary>
/// Frame-budgeted SA-CAM (method id <c>sacam-rt</c>): the same formula as <see cref="Methods.SaCam"/>, computed over a
/// stream of frames under a per-frame time budget.
/// - Every frame gets its own forward pass, activations A, gradient terms K and Q (cheap) and map.
/// - Only the score term S is rationed: each frame scores the channels whose unmeasured weight is largest, as many
///   as the budget (plus what earlier frames left unused) buys at the measured cost per perturbed image, batched.
/// - Scores of earlier frames are cached with the scene change since they were taken; trust in a score halves
///   with every <see cref="RealtimeSaCamOptions.ScoreHalfLifeDrift"/> of change, and the least trusted of the
///   channels that matter are refreshed first. A scene cut drops the caches; a change of class parks its cache.
///   Channels never scored get a regression estimate from the cached ones.
/// - The S term is shrunk towards a constant by the share of the weight at stake that rests on trusted
///   measurements (lambda, reported as score_confidence): a partly known S otherwise moves weight to the wrong
///   channels.
/// With a still scene the cache fills, lambda reaches 1 and the result equals full SA-CAM. State is per stream: use
/// one instance per video, and do not share it between threads. docs/realtime.md has the reasoning and numbers.
/// </summary>
public sealed class RealtimeSaCam : IPerStreamMethod
{
    // One score cache per recently explained class: a top-1 that flips between similar classes (minivan, pickup)
    // comes back to its scores instead of starting over. A scene cut drops them all.
    private readonly List<ScoreCache> _caches = [];
    private ScoreCache _cache = new();
    private Tensor? _previousThumbnail;
    private Tensor? _previousLowRes;
    private double? _costPerImageMs;
    private double? _gradientPassMs;
    private double _carriedMs;
    private int _starvedFrames;
    private bool _warnedStarved;

    public RealtimeSaCam(RealtimeSaCamOptions? options = null) => Options = options ?? new RealtimeSaCamOptions();

    public RealtimeSaCamOptions Options { get; }
    public string Id => "sacam-rt";

    /// <summary>Raised once when the budget cannot buy a single channel, with a message saying why and what to do
    /// (the maps are then SA-CAM without its score term). Hosts show it; the method never writes to a console.</summary>
    public event Action<string>? Warning;
    public bool NeedsGradients => true;
    public bool RenormalizeAfterResize => false;

    /// <summary>Forgets everything learned from earlier frames.</summary>
    public void Reset()
    {
        ForgetScene();
        _carriedMs = 0;
        _previousThumbnail?.Dispose();
        _previousThumbnail = null;
    }

    /// <summary>Drops the scores and the smoothed map (they belong to the old scene or class); keeps the thumbnail
    /// that the next frame is compared with.</summary>
    private void ForgetScene()
    {
        foreach (var c in _caches) c.Dispose();
        _caches.Clear();
        _cache.Reset();
        _previousLowRes?.Dispose();
        _previousLowRes = null;
    }

    public CamComputation Compute(CamInputs inputs)
    {
        Options.Validate();
        using var scope = NewDisposeScope();
        var sa = Options.SaCam;
        var g = inputs.RequireGradients(Id);
        var k = GradientTerms.MeanGradient(g);
        var q = GradientTerms.PlusPlusWeights(inputs.Activations, g);
        int classIndex = inputs.Target is ClassTarget c ? c.ClassIndex : -1;

        double sceneChange = MeasureSceneChange(inputs.Input);
        bool sceneCut = sceneChange > Options.SceneCutThreshold;
        bool classChanged = _cache.ClassIndex is int cached && cached != classIndex;
        if (sceneCut) ForgetScene();
        else if (classChanged) SwitchClass(classIndex);
        _cache.Prepare(classIndex, inputs.Channels, inputs.Input.device);
        foreach (var parked in _caches) parked.Tick(Options.MaxCacheAgeFrames, sceneChange);
        _cache.Tick(Options.MaxCacheAgeFrames, sceneChange);

        var live = CamMath.ChannelSpan(inputs.Activations) > sa.DeadChannelSpan;
        var known = sa.Lambda1 * CamMath.UnitScale(k, signed: true) + sa.Lambda2 * CamMath.UnitScale(q, signed: false);

        // How many channels fit: what is left of the budget after the forward and backward, plus what earlier frames
        // left unused (or minus what they overran), at the measured cost per perturbed image (two per channel). The
        // carry lets a budget smaller than one channel's cost score a channel every few frames instead of every frame
        // overrunning. Until a cost has been measured, one channel is scored as a probe. Counted in doubles: a huge
        // budget is full SA-CAM, not an overflow.
        double spentMs = inputs.Clock.NowMs - inputs.StartedAtMs;
        _gradientPassMs = _gradientPassMs is double g0 ? g0 + Options.CostSmoothing * (spentMs - g0) : spentMs;
        double budgetMs = BudgetMs;
        double affordable = _costPerImageMs is double costMs
            ? Math.Floor(Math.Max(0, budgetMs + _carriedMs - spentMs) / (2 * costMs))
            : 1;
        var liveChannels = live.nonzero().flatten();
        long liveCount = liveChannels.shape[0];
        long channelCount = (long)Math.Min(liveCount, Math.Max(Options.MinChannelsPerFrame, affordable));
        long scored = 0, covered = 0;
        if (channelCount > 0)
        {
            var duplicates = DuplicateChannels.Find(inputs.Activations, liveChannels);
            var chosen = ChooseChannels(known, live, Math.Min(channelCount, duplicates.Distinct.shape[0]), sa.Temperature, duplicates, liveChannels);
            scored = chosen.shape[0];
            double before = inputs.Clock.NowMs;
            // Live channels with the same normalized map as a chosen one get its score with it, for free.
            var (fresh, freshMask) = SaCamScores.Measure(inputs, sa, chosen, duplicates);
            var measuredChannels = freshMask.nonzero().flatten();
            _cache.Store(measuredChannels, fresh);
            covered = measuredChannels.shape[0];
            double perImage = (inputs.Clock.NowMs - before) / (2.0 * scored);
            _costPerImageMs = _costPerImageMs is double old ? old + Options.CostSmoothing * (perImage - old) : perImage;
        }

        // S for the formula: cached scores; channels never scored get an estimate from the cached ones; dead channels 0.
        var scoredMask = _cache.Age.isfinite().logical_and(live);
        long scoredCount = scoredMask.sum().item<long>();
        var estimate = EstimateUnscored(k, q, inputs.Activations, scoredMask, scoredCount);
        var measured = where(scoredMask, _cache.Scores, where(live, estimate, zeros_like(_cache.Scores)));
        var (s, confidence) = ShrinkScoreTerm(measured, known, live, scoredMask, sa.Temperature);

        var weights = Methods.SaCam.CombineTerms(s, k, q, sa);
        var w = weights["w"];
        var low = CamMath.WeightedSum(w, inputs.Activations);
        low = Smooth(low);

        double usedMs = inputs.Clock.NowMs - inputs.StartedAtMs;
        CarryOver(usedMs, budgetMs);
        WarnIfStarved(scored, usedMs, budgetMs);
        var ageOfWeight = where(scoredMask, _cache.Age, zeros_like(_cache.Age));
        var diagnostics = new Dictionary<string, double>
        {
            ["budget_ms"] = budgetMs,
            ["carried_ms"] = _carriedMs,
            ["used_ms"] = usedMs,
            // Channels whose two perturbed images ran this frame, and the live channels that got a fresh score from
            // them (with the channels that share a scored one's normalized map).
            ["channels_scored"] = scored,
            ["channels_covered"] = covered,
            ["channels_live"] = liveCount,
            ["cache_coverage"] = liveCount == 0 ? 1 : scoredCount / (double)liveCount,
            // Staleness: the share of the map's weight resting on guessed (never scored) channels, and the
            // weight-averaged age of the cached scores the map uses.
            ["weight_on_unscored"] = (w * live.logical_and(scoredMask.logical_not()).to_type(w.dtype)).sum().item<float>(),
            ["weighted_cache_age"] = (w * ageOfWeight).sum().item<float>() / Math.Max(1e-12, (w * scoredMask.to_type(w.dtype)).sum().item<float>()),
            ["cost_per_image_ms"] = _costPerImageMs ?? 0,
            ["scene_cut"] = sceneCut ? 1 : 0,
            ["class_changed"] = classChanged ? 1 : 0,
            ["cache_resets"] = _cache.Resets,
            ["score_confidence"] = confidence,
        };
        var parts = new Dictionary<string, Tensor>
        {
            ["S"] = s.MoveToOuterDisposeScope(),
            ["K"] = k.MoveToOuterDisposeScope(),
            ["Q"] = q.MoveToOuterDisposeScope(),
            ["SA"] = weights["SA"].MoveToOuterDisposeScope(),
        };
        return new CamComputation(low.MoveToOuterDisposeScope(), w.MoveToOuterDisposeScope(), parts) { Diagnostics = diagnostics };
    }

    /// <summary>
    /// Budget left unused by this frame goes to the next ones, overruns are paid back; the balance is bounded (one
    /// budget of debt, and credit of one budget or one channel's cost, whichever is larger) so that a slow spell does
    /// not starve the next minute and an idle one does not produce a frame that blows far past its budget.
    /// </summary>
    private void CarryOver(double usedMs, double budgetMs)
    {
        double credit = Math.Max(budgetMs, 2 * (_costPerImageMs ?? 0));
        _carriedMs = Math.Clamp(_carriedMs + budgetMs - usedMs, -budgetMs, credit);
    }

    /// <summary>This frame's budget: the fixed one, or the auto budget from the measured forward-and-backward cost.</summary>
    public double BudgetMs => Options.BudgetMs ?? Options.AutoBudgetFactor * (_gradientPassMs ?? 0);

    /// <summary>
    /// A budget that the forward and backward use up on their own never buys a channel: the carry sits at its debt
    /// floor and every frame scores nothing. Say so once, with the figures, instead of silently returning SA-CAM
    /// without its score term.
    /// </summary>
    private void WarnIfStarved(long scored, double usedMs, double budgetMs)
    {
        bool starved = scored == 0 && usedMs >= budgetMs;
        _starvedFrames = starved ? _starvedFrames + 1 : 0;
        if (_warnedStarved || _starvedFrames < Options.StarvedFramesBeforeWarning) return;
        _warnedStarved = true;
        double channelMs = 2 * (_costPerImageMs ?? 0);
        Warning?.Invoke(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"sacam-rt: a budget of {budgetMs:F0} ms cannot buy a single channel: this model's forward and backward alone take " +
            $"{_gradientPassMs:F0} ms and a channel {channelMs:F0} ms more, so the maps are SA-CAM without its score term. " +
            $"Use the automatic budget (omit --budget-ms) or at least {Math.Ceiling(((_gradientPassMs ?? 0) + channelMs) / 10) * 10:F0} ms."));
    }

    /// <summary>Parks the current class's cache and takes out the one of <paramref name="classIndex"/>, if kept.</summary>
    private void SwitchClass(int classIndex)
    {
        _caches.Insert(0, _cache);
        int found = _caches.FindIndex(c => c.ClassIndex == classIndex);
        if (found >= 0)
        {
            _cache = _caches[found];
            _caches.RemoveAt(found);
        }
        else
        {
            _cache = new ScoreCache();
        }
        while (_caches.Count > Options.ClassesKept - 1)
        {
            _caches[^1].Dispose();
            _caches.RemoveAt(_caches.Count - 1);
        }
        _previousLowRes?.Dispose();
        _previousLowRes = null;
    }

    /// <summary>
    /// The channels whose unmeasured weight is largest. A channel's SA can reach its known part (K and Q terms) plus
    /// its cached S/max S, or plus 1 when never scored; exp((that - best) / T) bounds the softmax weight it could
    /// take. Priority = that bound times how little its score is trusted (1 - trust: 1 when never scored, growing
    /// with the scene change since it was scored). That is greedy on the confidence lambda of
    /// <see cref="ShrinkScoreTerm"/>: each channel scored adds what it can to the measured share of the weight.
    /// </summary>
    private Tensor ChooseChannels(Tensor known, Tensor live, long count, double temperature, DuplicateChannels duplicates, Tensor liveChannels)
    {
        if (count <= 0) return empty(0, ScalarType.Int64, device: known.device);
        var untrusted = 1 - Trust(_cache.Age.isfinite());
        var priority = (WeightBound(known, live, temperature) * untrusted).index_select(0, liveChannels);
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
    private Tensor WeightBound(Tensor known, Tensor live, double temperature)
    {
        var scores = _cache.Scores;
        return SoftmaxReach(known + where(_cache.Age.isfinite(), scores / scores.max().clamp_min(1e-12), ones_like(scores)), live, temperature);
    }

    /// <summary>exp((SA - best SA) / T) over live channels (0 for dead ones): each channel's softmax weight relative
    /// to the strongest channel's, for a given SA.</summary>
    private static Tensor SoftmaxReach(Tensor sa, Tensor live, double temperature)
    {
        var masked = sa.masked_fill(live.logical_not(), double.NegativeInfinity);
        return ((masked - masked.max()) / temperature).exp();
    }

    /// <summary>How far each cached score still holds: 1 when just measured, halving with every
    /// <see cref="RealtimeSaCamOptions.ScoreHalfLifeDrift"/> of scene change since; 0 for channels never scored.</summary>
    private Tensor Trust(Tensor scoredMask) =>
        where(scoredMask, (-_cache.Drift * (Math.Log(2) / Options.ScoreHalfLifeDrift)).exp(), zeros_like(_cache.Drift));

    /// <summary>
    /// How much of the score term to trust: the share of the softmax weight at stake that rests on measured scores,
    /// each discounted by the scene change since it was taken (half-life <see cref="RealtimeSaCamOptions.ScoreHalfLifeDrift"/>;
    /// on a still scene nothing is discounted, so the cache converges to full SA-CAM). The S term is
    /// shrunk towards a constant by that share, lambda * S + (1 - lambda) * max S; the softmax ignores a constant, so
    /// lambda = 0 is SA-CAM without its score term and lambda = 1 the formula as is. Why: with a handful of scored
    /// channels, a partly known S moves weight onto the wrong channels more often than it helps (measured on the
    /// reference images: 4-16 scored channels gave map correlations with full SA-CAM below the no-score map's, the
    /// shrunk form was at or above both); as the cache fills lambda goes to 1 and the result to full SA-CAM.
    /// </summary>
    private (Tensor Scores, double Confidence) ShrinkScoreTerm(Tensor s, Tensor known, Tensor live, Tensor scoredMask, double temperature)
    {
        if (!Options.ShrinkUncertainScores) return (s, 1.0);
        // The weight at stake by the S the map will use (estimates for unscored channels). Measured on
        // lane_dashcam.mp4, this beat the optimistic bound of WeightBound (median Pearson 0.986 vs 0.972): the bound
        // keeps lambda near 0.1 and the map near SA-CAM without S, which is farther from full SA-CAM on that footage.
        var reach = SoftmaxReach(known + s / s.max().clamp_min(1e-12), live, temperature);
        var trust = Trust(scoredMask);
        double total = reach.sum().item<float>();
        double lambda = total <= 0 ? 1.0 : Math.Clamp((reach * trust).sum().item<float>() / total, 0, 1);
        var shrunk = lambda * s + (1 - lambda) * s.max();
        return (where(live, shrunk, zeros_like(s)), lambda);
    }

    /// <summary>
    /// S of channels never scored, predicted from those that were: a ridge regression of the cached S on features
    /// every channel has for free (its K and Q terms, scaled as in SA, and its mean and peak activation), fitted anew
    /// each frame on the cached channels; with fewer than 8 of them, their mean. Predictions are clamped to the
    /// range of the cached scores.
    /// </summary>
    private Tensor EstimateUnscored(Tensor k, Tensor q, Tensor activations, Tensor scoredMask, long scoredCount)
    {
        if (scoredCount == 0) return zeros_like(k);
        var cachedScores = _cache.Scores.masked_select(scoredMask);
        if (scoredCount < 8 || !Options.RegressUnscored) return cachedScores.mean().expand_as(k);
        var a = activations[0].flatten(1);
        var features = stack([ones_like(k), CamMath.UnitScale(k, signed: true), CamMath.UnitScale(q, signed: false),
            CamMath.UnitScale(a.mean([1]), signed: false), CamMath.UnitScale(a.amax([1]), signed: false)], 1);   // [K, 5]
        var x = features[scoredMask];
        var gram = x.t().matmul(x) + 1e-2 * eye(x.shape[1], device: x.device);
        var beta = linalg.solve(gram, x.t().matmul(cachedScores.unsqueeze(1)));
        return features.matmul(beta).squeeze(1).clamp(cachedScores.min(), cachedScores.max());
    }

    /// <summary>Mean absolute change of the standardized 16x16 thumbnail since the previous frame (0 for the first).</summary>
    private double MeasureSceneChange(Tensor input)
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

    private Tensor Smooth(Tensor low)
    {
        double a = Options.TemporalSmoothing;
        if (a <= 0) return low;
        var smoothed = _previousLowRes is not null && _previousLowRes.shape.SequenceEqual(low.shape)
            ? low * (1 - a) + _previousLowRes * a
            : low;
        _previousLowRes?.Dispose();
        _previousLowRes = smoothed.detach().clone().DetachFromDisposeScope();
        return smoothed;
    }

    public void Dispose()
    {
        Reset();
        _cache.Dispose();
    }

}
