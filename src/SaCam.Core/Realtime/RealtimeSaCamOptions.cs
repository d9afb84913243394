using SaCam.Core.Methods;

namespace SaCam.Core.Realtime;

/// <summary>Parameters of sacam-rt (see docs/realtime.md for how each was chosen).</summary>
public sealed record RealtimeSaCamOptions
{
    /// <summary>The SA-CAM formula's own parameters (lambda1, lambda2, T, tau, sigma, perturbation).</summary>
    public SaCamOptions SaCam { get; init; } = new();

    /// <summary>Per-frame time budget in ms, forward and backward included; the score term gets what is left, and
    /// unused budget carries over to later frames. Null (the default) follows the machine and the model: the budget
    /// is <see cref="AutoBudgetFactor"/> times the measured cost of the frame's own forward and backward. A fixed
    /// budget can be too small for a slow model (the embedded ResNet18 needs 45-130 ms for its forward and backward
    /// here, so 40 ms never bought a channel); a budget larger than full SA-CAM's cost is full SA-CAM every frame.</summary>
    public double? BudgetMs { get; init; }

    /// <summary>Auto budget: this many times the frame's measured forward-and-backward cost (an exponential average),
    /// so the score term gets as much time as the gradient pass. Measured on lane_dashcam.mp4 with MobileNetV2 on
    /// ONNX Runtime (docs/realtime.md, 2026-11-29): 2 gave 0.53x the plain-forward pipeline's fps and 0.71 channels
    /// scored a frame (1.11 with the duplicates they cover); 1.5 gave 0.68x and 0.28; 2.5 gave 0.42x, below the 0.5x
    /// a video run must keep.</summary>
    public double AutoBudgetFactor { get; init; } = 2;

    /// <summary>Frames in a row that score nothing while the budget is spent before scoring, after which the method
    /// warns (once) that the budget cannot buy a single channel.</summary>
    public int StarvedFramesBeforeWarning { get; init; } = 8;

    /// <summary>Channels scored per frame even when the budget is spent. 0 (the default) lets frames reuse the cache
    /// alone and spend the unused budget later; 1 guarantees a fresh score every frame at the price of overrunning
    /// budgets below one channel's cost.</summary>
    public int MinChannelsPerFrame { get; init; } = 0;

    /// <summary>
    /// Mean absolute change of the standardized 16x16 thumbnail (zero mean, unit std per frame, so the same for any
    /// model's normalization) above which a frame is a scene cut. Measured for MobileNetV2's and ResNet18's
    /// preprocessing alike: consecutive frames of the driving clips change by 0.01-0.14, unrelated photos by 0.56-1.6.
    /// </summary>
    public double SceneCutThreshold { get; init; } = 0.3;

    /// <summary>Cached scores older than this many frames count as never scored.</summary>
    public int MaxCacheAgeFrames { get; init; } = 2000;

    /// <summary>Exponential smoothing of the low-resolution map across frames: 0 = none, 0.5 = half the previous map.</summary>
    public double TemporalSmoothing { get; init; } = 0;

    /// <summary>Score caches kept for recently explained classes (a top-1 that flips back reuses its scores).</summary>
    public int ClassesKept { get; init; } = 4;

    /// <summary>Estimate the S of never-scored channels by regression on the cached ones (else: the highest cached
    /// score, as while fewer than 8 are cached).</summary>
    public bool RegressUnscored { get; init; } = true;

    /// <summary>Shrink the score term towards a constant by the share of the weight at stake that rests on measured
    /// scores (see RealtimeSaCam.ShrinkScoreTerm); false uses cached and estimated scores as they are.</summary>
    public bool ShrinkUncertainScores { get; init; } = true;

    /// <summary>
    /// The share of Grad-CAM's map in the frame's map while no score is trusted (score_confidence 0); it falls in
    /// proportion to the confidence and is 0 when every score holds, so a still scene still converges to full SA-CAM.
    /// Why: without its score term SA-CAM's map and Grad-CAM's miss full SA-CAM's in different places, and their even
    /// blend is closer to it than either. On the three moving clips, with no score at all, the blend's median error
    /// against full SA-CAM was 0.57x / 0.85x / 0.42x Grad-CAM's (highway, panned lane, traffic) against 0.75x / 1.01x /
    /// 0.69x for SA-CAM without S, and lowest at 0.5 on each (0.25 and 0.75 tried; docs/realtime.md, 2026-12-03).
    /// 0 turns it off.
    /// </summary>
    public double GradCamShareWithoutScores { get; init; } = 0.5;

    /// <summary>Scene change (summed per-frame thumbnail change, the measure of <see cref="SceneCutThreshold"/>)
    /// since a score was taken at which the slow part of its trust (<see cref="ScoreTrustOnceMoved"/>) halves.
    /// Consecutive driving frames change by 0.01-0.14. Until 2026-12-03 this was the whole trust model, with a
    /// half-life of 5; see <see cref="ScoreTrustOnceMoved"/> for the model that replaced it and how it was fitted.</summary>
    public double ScoreHalfLifeDrift { get; init; } = 2;

    /// <summary>
    /// The share of a cached score's trust that outlasts the first motion of the scene. A channel's S is a
    /// probability of masked copies of the frame, and a frame of driving already moves it: across channels it
    /// correlates ~0.78 with the next frame on lane_dashcam.mp4 (scene change ~0.04 a frame), 0.69 on
    /// highway_dashcam.mp4 (~0.08), 0.60 five frames on in the panned and zoomed lane (~0.22), then decorrelates
    /// slowly (0.45-0.50 after 0.4-1 of change). Trust rho 2^(-D/<see cref="ScoreHalfLifeDrift"/>) + (1 - rho)
    /// 2^(-D/<see cref="ScoreFirstMoveHalfLifeDrift"/>) with rho 0.6, 2 and 0.04 follows those points (2026-12-03,
    /// docs/realtime.md); it was not tuned on the benchmark. On a still scene (D = 0) nothing fades, so the cache still
    /// converges to full SA-CAM.
    /// </summary>
    public double ScoreTrustOnceMoved { get; init; } = 0.6;

    /// <summary>Scene change over which the part of a score's trust lost to the first motion (1 -
    /// <see cref="ScoreTrustOnceMoved"/>) halves: about one frame of lane driving, so it is mostly gone after two or
    /// three frames of motion, and untouched on a still scene.</summary>
    public double ScoreFirstMoveHalfLifeDrift { get; init; } = 0.04;

    /// <summary>Scene change since a channel was scored at which rescoring it is half as urgent as scoring a channel
    /// never scored (the choice of channels only; the trust in the score is <see cref="ScoreTrustOnceMoved"/>'s
    /// model). 5, the trust's half-life before 2026-12-03: choosing by the new trust instead rescored the strongest
    /// channels every frame and left the rest to the estimate (panned lane, 25 channels a frame: 1.00x Grad-CAM's
    /// error against 0.46x).</summary>
    public double RefreshHalfLifeDrift { get; init; } = 5;

    /// <summary>Weight of the running cost estimate's newest sample (exponential moving average).</summary>
    public double CostSmoothing { get; init; } = 0.3;

    /// <summary>Parses a budget as users write it: "auto" (null) or a positive number of milliseconds.</summary>
    public static double? ParseBudget(string text)
    {
        if (text.Trim().Equals("auto", StringComparison.OrdinalIgnoreCase)) return null;
        if (!double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double ms) ||
            !(ms > 0) || !double.IsFinite(ms))
            throw new ArgumentException($"'{text}' is not a budget: give auto or a positive number of milliseconds.");
        return ms;
    }

    /// <summary>Refuses values that would make the method meaningless, naming the option and its range.</summary>
    public void Validate()
    {
        SaCam.Validate();
        if (BudgetMs is double b && !(b > 0 && double.IsFinite(b)))
            throw new ArgumentOutOfRangeException(nameof(BudgetMs), b, "the budget must be a positive, finite number of milliseconds (or null for auto)");
        if (!(AutoBudgetFactor >= 1 && double.IsFinite(AutoBudgetFactor)))
            throw new ArgumentOutOfRangeException(nameof(AutoBudgetFactor), AutoBudgetFactor, "the auto budget must be at least the forward and backward's own cost (factor >= 1)");
        if (StarvedFramesBeforeWarning < 1) throw new ArgumentOutOfRangeException(nameof(StarvedFramesBeforeWarning), StarvedFramesBeforeWarning, "must be at least 1");
        if (TemporalSmoothing is < 0 or >= 1 || double.IsNaN(TemporalSmoothing))
            throw new ArgumentOutOfRangeException(nameof(TemporalSmoothing), TemporalSmoothing, "temporal smoothing must lie in [0, 1): the share of the previous map kept");
        if (MinChannelsPerFrame < 0) throw new ArgumentOutOfRangeException(nameof(MinChannelsPerFrame), MinChannelsPerFrame, "must be 0 or more");
        if (ClassesKept < 1) throw new ArgumentOutOfRangeException(nameof(ClassesKept), ClassesKept, "at least the current class's cache is kept");
        if (!(ScoreHalfLifeDrift > 0)) throw new ArgumentOutOfRangeException(nameof(ScoreHalfLifeDrift), ScoreHalfLifeDrift, "must be positive");
        if (!(RefreshHalfLifeDrift > 0)) throw new ArgumentOutOfRangeException(nameof(RefreshHalfLifeDrift), RefreshHalfLifeDrift, "must be positive");
        if (!(ScoreFirstMoveHalfLifeDrift > 0)) throw new ArgumentOutOfRangeException(nameof(ScoreFirstMoveHalfLifeDrift), ScoreFirstMoveHalfLifeDrift, "must be positive");
        if (ScoreTrustOnceMoved is < 0 or > 1 || double.IsNaN(ScoreTrustOnceMoved))
            throw new ArgumentOutOfRangeException(nameof(ScoreTrustOnceMoved), ScoreTrustOnceMoved, "must lie in [0, 1]: the share of a score's trust left once the scene moves");
        if (GradCamShareWithoutScores is < 0 or > 1 || double.IsNaN(GradCamShareWithoutScores))
            throw new ArgumentOutOfRangeException(nameof(GradCamShareWithoutScores), GradCamShareWithoutScores, "must lie in [0, 1]: the share of Grad-CAM's map while no score is trusted");
        if (CostSmoothing is <= 0 or > 1) throw new ArgumentOutOfRangeException(nameof(CostSmoothing), CostSmoothing, "must lie in (0, 1]");
    }
}
