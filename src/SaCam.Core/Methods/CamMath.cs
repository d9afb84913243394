using TorchSharp;
using static TorchSharp.torch;

namespace SaCam.Core.Methods;

/// <summary>Small tensor helpers every method shares.</summary>
public static class CamMath
{
    /// <summary>ReLU(sum_k w_k A_k) for A [1, K, h, w] and w [K]: [h, w].</summary>
    public static Tensor WeightedSum(Tensor weights, Tensor activations)
    {
        using var scope = NewDisposeScope();
        var a = activations[0];
        var map = (weights.reshape(-1, 1, 1) * a).sum(dim: 0);
        return nn.functional.relu(map).MoveToOuterDisposeScope();
    }

    /// <summary>(x - min) / (max - min + eps) over the last two dimensions, per leading index.</summary>
    public static Tensor MinMax(Tensor x, double eps)
    {
        using var scope = NewDisposeScope();
        var lo = x.amin([-2, -1], keepdim: true);
        var hi = x.amax([-2, -1], keepdim: true);
        return ((x - lo) / (hi - lo + eps)).MoveToOuterDisposeScope();
    }

    /// <summary>Bilinear upsampling of [N, C, h, w] maps to [N, C, H, W].</summary>
    public static Tensor Upsample(Tensor maps, long[] size, bool alignCorners) =>
        nn.functional.interpolate(maps, size, mode: InterpolationMode.Bilinear, align_corners: alignCorners);

    /// <summary>
    /// Each channel of A [1, K, h, w] upsampled to the input size (align_corners = true, as Score-CAM references do)
    /// and min-max normalized to [0, 1] with eps 1e-8: the masks of Score-CAM and SA-CAM, [K, H, W].
    /// </summary>
    public static Tensor ChannelMasks(Tensor activations, long[] inputSize)
    {
        using var scope = NewDisposeScope();
        var up = Upsample(activations, inputSize, alignCorners: true)[0];
        return MinMax(up, 1e-8).MoveToOuterDisposeScope();
    }

    /// <summary>max - min of each channel of A [1, K, h, w]: [K]. A channel with span 0 carries no spatial information.</summary>
    public static Tensor ChannelSpan(Tensor activations)
    {
        using var scope = NewDisposeScope();
        return (activations[0].amax([1, 2]) - activations[0].amin([1, 2])).MoveToOuterDisposeScope();
    }

    /// <summary>v / max(v) (or max |v| when signed); zeros when that maximum is not positive.</summary>
    public static Tensor UnitScale(Tensor v, bool signed)
    {
        using var scope = NewDisposeScope();
        var m = signed ? v.abs().max() : v.max();
        var safe = where(m > 0, m, ones_like(m));
        return where(m > 0, v / safe, zeros_like(v)).MoveToOuterDisposeScope();
    }
}
