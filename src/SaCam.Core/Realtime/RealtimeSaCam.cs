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
/// - Scores of earlier frames are cached with the scene change since they were taken; a score keeps
///   <see cref="RealtimeSaCamOptions.ScoreTrustOnceMoved"/> of its trust once the scene moves, halving with every
///   <see cref="RealtimeSaCamOptions.ScoreHalfLifeDrift"/> of change; the stalest of the channels that matter are
///   refreshed first. A scene cut drops the caches; a change of class parks its cache.
///   Channels never scored get a regression estimate from the cached ones.
/// - The S term is shrunk towards a constant by the share of the weight at stake that rests on trusted
///   measurements (lambda, reported as score_confidence): a partly known S otherwise moves weight to the wrong
///   channels.
/// - While the score term is uncertain the map leans on Grad-CAM's (<see cref="GradCamAnchor"/>): half of it with no
///   trusted score, none once every score holds. The two maps without S miss full SA-CAM in different places.
/// - Each frame estimates how far its map may be from full SA-CAM's (expected_error, <see cref="ExpectedMapError"/>):
///   the map redrawn with plausible values of the scores it did not measure.
/// With a still scene the cache fills, lambda reaches 1, Grad-CAM's share 0, and the result equals full SA-CAM. State is per stream: use
/// one instance per video, and do not share it between threads. docs/realtime.md has the reasoning and numbers.
/// </summary>
public sealed class RealtimeSaCam : IPerStreamMethod, IBudgetedMethod
{
    private readonly ClassScoreCaches _caches;
    private readonly SceneChangeMeter _scene = new();
    private readonly MapSmoother _smoother = new();
    private readonly FrameBudget _budget;
    private readonly ScoreTerm _scoreTerm;
    private readonly ExpectedMapError _expectedError;
    private readonly GradCamAnchor _anchor;

    public RealtimeSaCam(RealtimeSaCamOptions? options = null)
    {
        Options = options ?? new RealtimeSaCamOptions();
        _caches = new ClassScoreCaches(Options);
        _budget = new FrameBudget(Options);
        _scoreTerm = new ScoreTerm(Options);
        _expectedError = new ExpectedMapError(Options);
        _anchor = new GradCamAnchor(Options);
    }

    public RealtimeSaCamOptions Options { get; }
    public string Id => "sacam-rt";

    /// <summary>Raised once when the budget cannot buy a single channel, with a message saying why and what to do
    /// (the maps are then SA-CAM without its score term). Hosts show it; the method never writes to a console.</summary>
    public event Action<SettingText>? Warning;
    public bool NeedsGradients => true;
    public bool RenormalizeAfterResize => false;

    /// <summary>This frame's budget: the fixed one, or the auto budget from the measured forward-and-backward cost,
    /// times <see cref="BudgetShare"/>.</summary>
    public double BudgetMs => _budget.BudgetMs;

    /// <inheritdoc/>
    public double BudgetShare
    {
        get => _budget.Share;
        set => _budget.Share = value;
    }

    /// <summary>Forgets everything learned from earlier frames.</summary>
    public void Reset()
    {
        ForgetScene();
        _budget.ForgetCarry();
        _scene.Reset();
    }

    /// <summary>Drops the scores and the smoothed map (they belong to the old scene or class); keeps the thumbnail
    /// that the next frame is compared with.</summary>
    private void ForgetScene()
    {
        _caches.DropAll();
        _smoother.Forget();
    }

    /// <summary>
    /// One frame: the scene check (a cut drops the caches, a change of class switches them), the channels the budget
    /// buys scored and cached, S from the cache (estimates for the rest, shrunk by how far it was measured), SA-CAM's
    /// combination, smoothing, and the frame's figures. Reads from the device: the scene change, the live channels,
    /// the cached count, the trust sums and the figures (one read each), plus what scoring itself needs.
    /// </summary>
    public CamComputation Compute(CamInputs inputs)
    {
        Options.Validate();
        using var scope = NewDisposeScope();
        var sa = Options.SaCam;
        var g = inputs.RequireGradients(Id);
        var k = GradientTerms.MeanGradient(g);
        var q = GradientTerms.PlusPlusWeights(inputs.Activations, g);
        int classIndex = inputs.Target is ClassTarget c ? c.ClassIndex : -1;
        var (sceneCut, classChanged) = FollowScene(inputs.Input, classIndex, inputs.Channels);
        var cache = _caches.Current;

        var live = CamMath.ChannelSpan(inputs.Activations) > sa.DeadChannelSpan;
        var known = sa.Lambda1 * CamMath.UnitScale(k, signed: true) + sa.Lambda2 * CamMath.UnitScale(q, signed: false);
        double spentMs = inputs.Clock.NowMs - inputs.StartedAtMs;
        _budget.ObserveGradientPass(spentMs);
        double budgetMs = _budget.BudgetMs;
        var liveChannels = live.nonzero().flatten();
        long liveCount = liveChannels.shape[0];
        long channelCount = (long)Math.Min(liveCount, Math.Max(Options.MinChannelsPerFrame, _budget.AffordableChannels(spentMs)));
        var (scored, covered) = channelCount > 0 ? ScoreChannels(inputs, cache, known, live, liveChannels, channelCount) : (0L, 0L);

        // S for the formula: cached scores; channels never scored get an estimate from the cached ones; dead channels 0.
        var scoredMask = cache.Age.isfinite().logical_and(live);
        long scoredCount = scoredMask.sum().item<long>();
        var estimate = _scoreTerm.EstimateUnscored(cache, k, q, inputs.Activations, scoredMask, scoredCount);
        var measured = where(scoredMask, cache.Scores, where(live, estimate, zeros_like(cache.Scores)));
        var (s, confidence) = _scoreTerm.Shrink(cache, measured, known, live, scoredMask);

        var weights = Methods.SaCam.CombineTerms(s, k, q, sa);
        var w = weights["w"];
        double gradCamShare = _anchor.Share(confidence);
        var leaned = _anchor.Lean(w, k, inputs.Activations, gradCamShare);
        var unsmoothed = CamMath.WeightedSum(leaned, inputs.Activations);
        double expectedError = _expectedError.Estimate(unsmoothed, known, cache.Scores, scoredMask, _scoreTerm.Trust(cache, scoredMask), live, inputs.Activations,
            drawn => _anchor.Lean(drawn, k, inputs.Activations, gradCamShare));
        var low = _smoother.Smooth(unsmoothed, Options.TemporalSmoothing);

        double usedMs = inputs.Clock.NowMs - inputs.StartedAtMs;
        _budget.CarryOver(usedMs, budgetMs);
        if (_budget.StarvationWarning(scored, usedMs, budgetMs) is SettingText warning) Warning?.Invoke(warning);
        var diagnostics = new FrameDiagnostics
        {
            BudgetMs = budgetMs, CarriedMs = _budget.CarriedMs, UsedMs = usedMs,
            ChannelsScored = scored, ChannelsCovered = covered, ChannelsLive = liveCount, ChannelsCached = scoredCount,
            CostPerImageMs = _budget.CostPerImageMs ?? 0, SceneCut = sceneCut, ClassChanged = classChanged,
            CacheResets = cache.Resets, ScoreConfidence = confidence, GradCamShare = gradCamShare, ExpectedError = expectedError,
        }.ToDictionary(w, live, scoredMask, cache.Age);
        var parts = new Dictionary<string, Tensor>
        {
            ["S"] = s.MoveToOuterDisposeScope(),
            ["K"] = k.MoveToOuterDisposeScope(),
            ["Q"] = q.MoveToOuterDisposeScope(),
            ["SA"] = weights["SA"].MoveToOuterDisposeScope(),
        };
        return new CamComputation(low.MoveToOuterDisposeScope(), leaned.MoveToOuterDisposeScope(), parts) { Diagnostics = diagnostics };
    }

    /// <summary>Measures the scene change; a cut drops the caches and the smoothed map, a change of class parks the
    /// class's cache and takes out the new class's; then every cache ages by the frame.</summary>
    private (bool SceneCut, bool ClassChanged) FollowScene(Tensor input, int classIndex, long channels)
    {
        double sceneChange = _scene.Measure(input);
        bool sceneCut = sceneChange > Options.SceneCutThreshold;
        bool classChanged = _caches.HoldsOtherClass(classIndex);
        if (sceneCut)
        {
            ForgetScene();
        }
        else if (classChanged)
        {
            _caches.SwitchTo(classIndex);
            _smoother.Forget();
        }
        _caches.Advance(classIndex, channels, input.device, sceneChange);
        return (sceneCut, classChanged);
    }

    /// <summary>Scores up to <paramref name="channelCount"/> channels, the most urgent first, and caches their
    /// scores; live channels with the same normalized map as a chosen one get its score with it, for free.
    /// Returns the channels run (two perturbed images each) and the channels that got a fresh score.</summary>
    private (long Scored, long Covered) ScoreChannels(CamInputs inputs, ScoreCache cache, Tensor known, Tensor live, Tensor liveChannels, long channelCount)
    {
        var duplicates = DuplicateChannels.Find(inputs.Activations, liveChannels);
        var chosen = _scoreTerm.ChooseChannels(cache, known, live, Math.Min(channelCount, duplicates.Distinct.shape[0]), duplicates, liveChannels);
        long scored = chosen.shape[0];
        double before = inputs.Clock.NowMs;
        var (fresh, freshMask) = SaCamScores.Measure(inputs, Options.SaCam, chosen, duplicates);
        var measuredChannels = freshMask.nonzero().flatten();
        cache.Store(measuredChannels, fresh);
        _budget.ObserveScoring(inputs.Clock.NowMs - before, scored);
        return (scored, measuredChannels.shape[0]);
    }

    public void Dispose()
    {
        Reset();
        _caches.Dispose();
        _scene.Dispose();
        _smoother.Dispose();
    }
}
