using TorchSharp;
using static TorchSharp.torch;

namespace SaCam.Core.Methods;

/// <summary>Grad-CAM (Selvaraju et al. 2017): w_k = spatial mean of dScore/dA_k.</summary>
public sealed class GradCam : ChannelWeightedCam
{
    public override string Id => "gradcam";
    public override bool NeedsGradients => true;
    protected override Tensor ChannelWeights(CamInputs inputs) => GradientTerms.MeanGradient(inputs.RequireGradients(Id));
}

/// <summary>Grad-CAM++ (Chattopadhyay et al. 2018), in the exponential closed form pytorch-grad-cam uses (eps 1e-6).</summary>
public sealed class GradCamPlusPlus : ChannelWeightedCam
{
    public override string Id => "gradcam++";
    public override bool NeedsGradients => true;
    protected override Tensor ChannelWeights(CamInputs inputs) => GradientTerms.PlusPlusWeights(inputs.Activations, inputs.RequireGradients(Id));
}

/// <summary>XGradCAM (Fu et al. 2020): w_k = sum_ij G_kij A_kij / (sum_ij A_kij + 1e-7).</summary>
public sealed class XGradCam : ChannelWeightedCam
{
    public override string Id => "xgradcam";
    public override bool NeedsGradients => true;

    protected override Tensor ChannelWeights(CamInputs inputs)
    {
        using var scope = NewDisposeScope();
        var a = inputs.Activations;
        var g = inputs.RequireGradients(Id);
        var sums = a.sum([2, 3], keepdim: true);
        return (g * a / (sums + 1e-7)).sum([2, 3])[0].MoveToOuterDisposeScope();
    }
}

/// <summary>LayerCAM (Jiang et al. 2021): per-pixel weights, map = ReLU(sum_k ReLU(G_k) * A_k). No channel weights.</summary>
public sealed class LayerCam : ICamMethod
{
    public string Id => "layercam";
    public bool NeedsGradients => true;

    public CamComputation Compute(CamInputs inputs)
    {
        using var scope = NewDisposeScope();
        var weighted = nn.functional.relu(inputs.RequireGradients(Id)) * inputs.Activations;
        var map = nn.functional.relu(weighted.sum(dim: 1)[0]);
        return CamComputation.FromMap(map.MoveToOuterDisposeScope());
    }
}

/// <summary>The gradient terms that Grad-CAM, Grad-CAM++ and SA-CAM share.</summary>
public static class GradientTerms
{
    /// <summary>K_k = mean over (i, j) of G_kij: [K].</summary>
    public static Tensor MeanGradient(Tensor gradients)
    {
        using var scope = NewDisposeScope();
        return gradients.mean([2, 3])[0].MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Q_k = sum_ij alpha_kij ReLU(G_kij), alpha = G^2 / (2 G^2 + sum_ab A_kab G^3 + 1e-6), 0 where G = 0. The eps
    /// matters: for gradients near 1e-3 it moves alpha by a third, and the references keep it.
    /// </summary>
    public static Tensor PlusPlusWeights(Tensor activations, Tensor gradients)
    {
        using var scope = NewDisposeScope();
        var g2 = gradients * gradients;
        var g3 = g2 * gradients;
        var sumA = activations.sum([2, 3], keepdim: true);
        var alpha = g2 / (2 * g2 + sumA * g3 + 1e-6);
        alpha = where(gradients != 0, alpha, zeros_like(alpha));
        return (alpha * nn.functional.relu(gradients)).sum([2, 3])[0].MoveToOuterDisposeScope();
    }
}
