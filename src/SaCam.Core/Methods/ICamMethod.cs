using static TorchSharp.torch;

namespace SaCam.Core.Methods;

/// <summary>
/// A class activation mapping method. The engine owns everything the methods share (capture, gradients,
/// normalization, upsampling); a method only turns <see cref="CamInputs"/> into a low-resolution map.
/// </summary>
public interface ICamMethod
{
    /// <summary>The id used on the command line (gradcam, sacam, ...).</summary>
    string Id { get; }

    /// <summary>Whether the engine must compute dScore/dA before calling <see cref="Compute"/>.</summary>
    bool NeedsGradients { get; }

    /// <summary>
    /// pytorch-grad-cam min-max normalizes the map once more after resizing it; methods that reproduce its numbers
    /// say so here. SA-CAM's specification does not.
    /// </summary>
    bool RenormalizeAfterResize => true;

    CamComputation Compute(CamInputs inputs);
}

/// <summary>
/// What a method produces: the map at layer resolution before normalization [h, w] (ReLU already applied),
/// the channel weights when the method has them, and any named intermediate terms (SA-CAM's S, K, Q, SA).
/// </summary>
public sealed record CamComputation(Tensor LowResMap, Tensor? ChannelWeights, IReadOnlyDictionary<string, Tensor> Parts)
{
    /// <summary>Scalar facts about the computation (sacam-rt: budget used, channels scored, cache age, staleness).</summary>
    public IReadOnlyDictionary<string, double> Diagnostics { get; init; } = new Dictionary<string, double>();

    public static CamComputation FromMap(Tensor map, Tensor? weights = null) => new(map, weights, new Dictionary<string, Tensor>());
}

/// <summary>The shared tail of channel-weighted methods: map = ReLU(sum_k w_k A_k).</summary>
public abstract class ChannelWeightedCam : ICamMethod
{
    public abstract string Id { get; }
    public abstract bool NeedsGradients { get; }

    /// <summary>Per-channel weights [K] for the target.</summary>
    protected abstract Tensor ChannelWeights(CamInputs inputs);

    public virtual CamComputation Compute(CamInputs inputs)
    {
        var weights = ChannelWeights(inputs);
        return CamComputation.FromMap(CamMath.WeightedSum(weights, inputs.Activations), weights);
    }
}
