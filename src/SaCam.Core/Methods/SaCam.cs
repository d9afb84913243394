using TorchSharp;
using static TorchSharp.torch;

namespace SaCam.Core.Methods;

/// <summary>How SA-CAM's perturbed input U_pert fills what the channel's heat map leaves out (eq. 13).</summary>
public enum Perturbation { Blur, Constant, Noise }

/// <summary>SA-CAM's parameters, named and defaulted as in shared/spec/SA-CAM.md.</summary>
public sealed record SaCamOptions
{
    /// <summary>Weight of the gradient attention K in SA (eq. 9-10).</summary>
    public double Lambda1 { get; init; } = 1.0;
    /// <summary>Weight of the pixel priority Q in SA.</summary>
    public double Lambda2 { get; init; } = 1.0;
    /// <summary>Softmax temperature over channels: w = softmax(SA / T). At T = 1 the weights of ~1000 channels are flat.</summary>
    public double Temperature { get; init; } = 0.25;
    /// <summary>Key-area threshold on the heat map (Algorithm 1, KAE).</summary>
    public double Tau { get; init; } = 0.5;
    /// <summary>Gaussian sigma in pixels of the blur perturbation (kernel 2*ceil(3 sigma)+1, reflect border).</summary>
    public double Sigma { get; init; } = 10.0;
    public Perturbation Perturbation { get; init; } = Perturbation.Blur;
    /// <summary>Seed of the N(0, 1) noise perturbation (CPU generator, so runs repeat).</summary>
    public long NoiseSeed { get; init; } = 0;
    /// <summary>A channel whose activation span (max - min) is at most this gets S = 0 and costs nothing.</summary>
    public double DeadChannelSpan { get; init; } = 1e-8;

    public void Validate()
    {
        if (Temperature <= 0) throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, "temperature must be positive");
        if (Tau is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(Tau), Tau, "tau must lie in [0, 1]");
        if (Sigma <= 0) throw new ArgumentOutOfRangeException(nameof(Sigma), Sigma, "sigma must be positive");
    }
}

/// <summary>
/// SA-CAM (Liang, Li and Jiang, Neurocomputing 2022) exactly as shared/spec defines it:
/// SA_k = S_k / max S + lambda1 K_k / max|K| + lambda2 Q_k / max Q, w = softmax(SA / T), map = ReLU(sum_k w_k A_k),
/// with S_k = p_c(U_seg_k) * (1 + p_c(U_pert_k)), K the Grad-CAM weight, Q the Grad-CAM++ weight.
/// </summary>
public sealed class SaCam(SaCamOptions? options = null) : ICamMethod
{
    public SaCamOptions Options { get; } = options ?? new SaCamOptions();
    public string Id => "sacam";
    public bool NeedsGradients => true;
    public bool RenormalizeAfterResize => false;

    public CamComputation Compute(CamInputs inputs)
    {
        Options.Validate();
        using var scope = NewDisposeScope();
        var g = inputs.RequireGradients(Id);
        var k = GradientTerms.MeanGradient(g);
        var q = GradientTerms.PlusPlusWeights(inputs.Activations, g);
        var s = SaCamScores.Compute(inputs, Options, channels: null);
        var weights = CombineTerms(s, k, q, Options);
        var map = CamMath.WeightedSum(weights["w"], inputs.Activations);
        var parts = new Dictionary<string, Tensor>
        {
            ["S"] = s.MoveToOuterDisposeScope(),
            ["K"] = k.MoveToOuterDisposeScope(),
            ["Q"] = q.MoveToOuterDisposeScope(),
            ["SA"] = weights["SA"].MoveToOuterDisposeScope(),
        };
        return new CamComputation(map.MoveToOuterDisposeScope(), weights["w"].MoveToOuterDisposeScope(), parts);
    }

    /// <summary>SA (Alg. 2 line 11) and w (line 12) from the three per-channel terms.</summary>
    public static Dictionary<string, Tensor> CombineTerms(Tensor s, Tensor k, Tensor q, SaCamOptions options)
    {
        using var scope = NewDisposeScope();
        var sa = CamMath.UnitScale(s, signed: false)
                 + options.Lambda1 * CamMath.UnitScale(k, signed: true)
                 + options.Lambda2 * CamMath.UnitScale(q, signed: false);
        var w = (sa / options.Temperature).softmax(0);
        return new Dictionary<string, Tensor> { ["SA"] = sa.MoveToOuterDisposeScope(), ["w"] = w.MoveToOuterDisposeScope() };
    }
}

/// <summary>
/// SA-CAM's score term S (eq. 12, Alg. 2 lines 5-10), batched: each live channel contributes two images, its key
/// area U_seg (input where the heat map is at least tau, 0 elsewhere) and its perturbation U_pert, run together.
/// Channels with the same normalized map share their two images (<see cref="DuplicateChannels"/>).
/// </summary>
public static class SaCamScores
{
    /// <param name="channels">Restricts the work to these channel indices ([n] int64); the others get S = 0.</param>
    public static Tensor Compute(CamInputs inputs, SaCamOptions options, Tensor? channels)
    {
        using var scope = NewDisposeScope();
        return Measure(inputs, options, channels).Scores.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// S of <paramref name="channels"/> (all live channels when null), and of every live channel with the same
    /// normalized map as one of them, which costs nothing more: Scores [K] (0 where not measured) and Measured [K]
    /// (bool: the channels that got a score).
    /// </summary>
    /// <param name="duplicates">The live channels' groups, when the caller has found them already (sacam-rt, on every
    /// frame that scores): their channels are then the live ones.</param>
    public static (Tensor Scores, Tensor Measured) Measure(CamInputs inputs, SaCamOptions options, Tensor? channels, DuplicateChannels? duplicates = null)
    {
        using var scope = NewDisposeScope();
        var x = inputs.Input;
        var live = duplicates?.Channels ?? (CamMath.ChannelSpan(inputs.Activations) > options.DeadChannelSpan).nonzero().flatten();
        duplicates ??= DuplicateChannels.Find(inputs.Activations, live);
        var groups = GroupsToRun(duplicates, live, channels, inputs.Channels);
        var run = duplicates.Distinct.index_select(0, groups);
        var background = Background(x, options);
        // Both images of a channel as base + mask * difference: U_seg = 0 + [h >= tau] * x and
        // U_pert = blur + h * (x - blur) (eq. 13 rearranged), so a batch is built in two passes over its pixels.
        var differences = stack([x, x - background]);          // [2, 1, C, H, W]
        var bases = stack([zeros_like(x), background]);
        var tau = options.Tau;
        // add_(t) makes its alpha = 1 as a Scalar nobody references once its handle is read, so the finalizer can free
        // it while libtorch still reads it: seen once (2026-12-03) as "Expected false to be true ... toFloat" in this
        // very add_ during a benchmark. One Scalar held for the whole method cannot be collected early.
        using var one = 1.ToScalar();
        var confidences = inputs.Perturbations.Run(run.shape[0] * 2,
            (start, length) =>
            {
                // granularity 2 keeps each channel's two images in one batch.
                // U_heat of this batch's channels only: [b, 1, H, W] (never all K at input resolution at once).
                var idx = run.narrow(0, start / 2, length / 2);
                var h = CamMath.ChannelMasks(inputs.Activations.index_select(1, idx), inputs.InputSize).unsqueeze(1);
                var masks = stack([(h >= tau).to_type(x.dtype), h]);  // [2, b, 1, H, W]
                return masks.mul(differences).add_(bases, one).flatten(0, 1); // [2b, C, H, W]: seg_1..seg_b, pert_1..pert_b
            },
            output => InterleavedConfidence(inputs, output),
            granularity: 2);
        var pairs = confidences.reshape(-1, 2);                                     // [groups run, (seg, pert)]
        long groupCount = duplicates.Distinct.shape[0];
        var groupScores = zeros(groupCount, dtype: x.dtype, device: x.device).index_copy_(0, groups, pairs[.., 0] * (1 + pairs[.., 1]));
        var groupMeasured = zeros(groupCount, ScalarType.Bool, device: x.device).index_fill_(0, groups, true);
        var s = zeros(inputs.Channels, dtype: x.dtype, device: x.device).index_copy_(0, live, groupScores.index_select(0, duplicates.RepresentativeOf));
        var measured = zeros(inputs.Channels, ScalarType.Bool, device: x.device).index_copy_(0, live, groupMeasured.index_select(0, duplicates.RepresentativeOf));
        return (s.MoveToOuterDisposeScope(), measured.MoveToOuterDisposeScope());
    }

    /// <summary>Positions in <see cref="DuplicateChannels.Distinct"/> of the groups that hold a wanted live channel.</summary>
    private static Tensor GroupsToRun(DuplicateChannels duplicates, Tensor live, Tensor? channels, long channelCount)
    {
        long groupCount = duplicates.Distinct.shape[0];
        if (channels is null) return arange(groupCount, dtype: ScalarType.Int64, device: live.device);
        var wanted = zeros(channelCount, ScalarType.Bool, device: live.device).index_fill_(0, channels.to(live.device), true);
        var wantedGroups = duplicates.RepresentativeOf.masked_select(wanted.index_select(0, live));
        return zeros(groupCount, ScalarType.Bool, device: live.device).index_fill_(0, wantedGroups, true).nonzero().flatten();
    }

    /// <summary>A batch holds [seg_1..seg_b, pert_1..pert_b]; returns confidences ordered seg_1, pert_1, seg_2, ...</summary>
    private static Tensor InterleavedConfidence(CamInputs inputs, Tensor output)
    {
        var p = inputs.Target.Confidence(output);
        return p.reshape(2, -1).t().flatten();
    }

    private static Tensor Background(Tensor x, SaCamOptions options) => options.Perturbation switch
    {
        Perturbation.Blur => GaussianBlur.Apply(x, options.Sigma),
        Perturbation.Constant => zeros_like(x),
        Perturbation.Noise => randn(x.shape, dtype: x.dtype, generator: new Generator((ulong)options.NoiseSeed)).to(x.device),
        _ => throw new ArgumentOutOfRangeException(nameof(options), options.Perturbation, "unknown perturbation"),
    };
}
