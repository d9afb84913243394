using SaCam.Core.Methods;

namespace SaCam.Core.Realtime;

/// <summary>Parameters of sacam-rt (see docs/realtime.md for how each was chosen).</summary>
public sealed record RealtimeSaCamOptions
{
    /// <summary>The SA-CAM formula's own parameters (lambda1, lambda2, T, tau, sigma, perturbation).</summary>
    public SaCamOptions SaCam { get; init; } = new();

    /// <summary>Per-frame time budget in ms, forward and backward included; the score term gets what is left.</summary>
    public double BudgetMs { get; init; } = 80;

    /// <summary>Channels scored per frame even when the budget is spent (0 allows pure cache reuse).</summary>
    public int MinChannelsPerFrame { get; init; } = 1;

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

    /// <summary>Estimate the S of never-scored channels by regression on the cached ones (else: their mean).</summary>
    public bool RegressUnscored { get; init; } = true;

    /// <summary>Weight of the running cost estimate's newest sample (exponential moving average).</summary>
    public double CostSmoothing { get; init; } = 0.3;
}
