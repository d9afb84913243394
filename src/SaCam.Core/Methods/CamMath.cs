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
        var span = x.amax([-2, -1], keepdim: true).sub_(lo).add_(eps);
        return (x - lo).div_(span).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Bilinear upsampling of [N, C, h, w] maps to [N, C, H, W], the same numbers as interpolate(mode: bilinear)
    /// (half-pixel centres, or align_corners), computed as two small matrix products, Ry . map . Rx^T: bilinear
    /// weights separate by axis. libtorch's own kernel took ~0.6 ms for one 7x7 map to 224x224 on these CPUs, a tenth
    /// of a fast forward on every video frame; the products take a few microseconds.
    /// </summary>
    public static Tensor Upsample(Tensor maps, long[] size, bool alignCorners)
    {
        using var scope = NewDisposeScope();
        var rows = ResizeMatrix(maps.shape[^2], size[0], alignCorners, maps.dtype, maps.device);
        var cols = ResizeMatrix(maps.shape[^1], size[1], alignCorners, maps.dtype, maps.device);
        return rows.matmul(maps).matmul(cols.t()).MoveToOuterDisposeScope();
    }

    /// <summary>What a cached 1-D operator matrix is: its kind, its sizes and up to three parameters.</summary>
    internal readonly record struct OperatorKey(string Kind, long Input, long Output, double Parameter = 0, long Extra1 = 0, long Extra2 = 0);

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(OperatorKey, ScalarType, string), Tensor> OperatorMatrices = new();

    /// <summary>A separable 1-D operator (bilinear resize here, Gaussian blur in <see cref="GaussianBlur"/>) as a
    /// matrix, built once per key, dtype and device and kept: per-frame products then rebuild nothing.</summary>
    internal static Tensor CachedOperator(OperatorKey key, ScalarType dtype, Device device, Func<Tensor> build) =>
        OperatorMatrices.GetOrAdd((key, dtype, device.ToString()), _ => build().to_type(dtype).to(device).DetachFromDisposeScope());

    /// <summary>[output, input] weights of 1-D linear interpolation, as libtorch computes its source positions:
    /// align_corners: src = dst (in - 1) / (out - 1); else src = (dst + 0.5) in / out - 0.5, clamped at 0.</summary>
    private static Tensor ResizeMatrix(long input, long output, bool alignCorners, ScalarType dtype, Device device) =>
        CachedOperator(new OperatorKey("bilinear", input, output, alignCorners ? 1 : 0), dtype, device, () =>
        {
            var weights = new float[output * input];
            for (long o = 0; o < output; o++)
            {
                double src = alignCorners
                    ? (output > 1 ? o * (input - 1) / (double)(output - 1) : 0)
                    : Math.Max(0, (o + 0.5) * input / output - 0.5);
                long i0 = Math.Min((long)Math.Floor(src), input - 1);
                long i1 = Math.Min(i0 + 1, input - 1);
                double lambda = src - i0;
                weights[o * input + i0] += (float)(1 - lambda);
                weights[o * input + i1] += (float)lambda;
            }
            return tensor(weights, [output, input]);
        });

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
