using TorchSharp;
using static TorchSharp.torch;

namespace SaCam.Core.Methods;

/// <summary>
/// Group-CAM (Zhang et al. 2021): Grad-CAM-weighted channels summed in groups, each group ReLU'd, upsampled and
/// min-max normalized into a mask m_g; the input is blended with a heavily blurred copy, x*m + blur(x)*(1-m);
/// weight_g = ReLU(p(masked) - p(blur(x))). Map = ReLU(sum_g weight_g * ReLU(group sum)), at layer resolution
/// (upsampling is linear, so this equals summing the upsampled group maps).
/// </summary>
public sealed class GroupCam(int groups = 32, int blurKernel = 51, double blurSigma = 50) : ICamMethod
{
    public string Id => "groupcam";
    public bool NeedsGradients => true;
    public int Groups { get; } = groups;

    public CamComputation Compute(CamInputs inputs)
    {
        using var scope = NewDisposeScope();
        var x = inputs.Input;
        var a = inputs.Activations[0];
        var weights = GradientTerms.MeanGradient(inputs.RequireGradients(Id));
        long k = a.shape[0];
        int groups = (int)Math.Min(Groups, k);
        // Channels split into `groups` contiguous chunks (the last ones one channel shorter when K is not divisible).
        var groupMaps = stack((weights.reshape(-1, 1, 1) * a).tensor_split(groups, 0).Select(c => c.sum(dim: 0)).ToArray());
        groupMaps = nn.functional.relu(groupMaps);                                   // [G, h, w]
        var masks = CamMath.MinMax(CamMath.Upsample(groupMaps.unsqueeze(1), inputs.InputSize, alignCorners: false), 1e-8);
        var blurred = GaussianBlur.Apply(x, blurSigma, blurKernel);
        var baseline = inputs.Perturbations.Run(1, (_, _) => blurred, inputs.Target.Confidence);
        var confidence = inputs.Perturbations.Run(groups,
            (start, length) =>
            {
                var m = masks.narrow(0, start, length);
                return x * m + blurred * (1 - m);
            },
            inputs.Target.Confidence);
        var groupWeights = nn.functional.relu(confidence - baseline);
        var map = nn.functional.relu((groupWeights.reshape(-1, 1, 1) * groupMaps).sum(dim: 0));
        return new CamComputation(map.MoveToOuterDisposeScope(), null,
            new Dictionary<string, Tensor> { ["group_weights"] = groupWeights.MoveToOuterDisposeScope() });
    }
}
