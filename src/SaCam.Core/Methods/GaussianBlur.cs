using TorchSharp;
using static TorchSharp.torch;

namespace SaCam.Core.Methods;

/// <summary>Separable Gaussian blur with reflect padding, per channel (kernel built once per size and sigma).</summary>
public static class GaussianBlur
{
    /// <summary>Blurs x [N, C, H, W] with the given odd kernel size (2*ceil(3 sigma)+1 when null).</summary>
    public static Tensor Apply(Tensor x, double sigma, int? kernelSize = null)
    {
        using var scope = NewDisposeScope();
        int radius = kernelSize is int k ? k / 2 : (int)Math.Ceiling(3 * sigma);
        var t = arange(-radius, radius + 1, dtype: ScalarType.Float32, device: x.device);
        var kernel = exp(-(t * t) / (2 * sigma * sigma));
        kernel = kernel / kernel.sum();
        long c = x.shape[1];
        // Reflect padding needs the pad to be smaller than the image side; clamp for tiny inputs.
        int pad = (int)Math.Min(radius, Math.Min(x.shape[2], x.shape[3]) - 1);
        var padded = nn.functional.pad(x, [pad, pad, pad, pad], PaddingModes.Reflect);
        if (pad < radius) padded = nn.functional.pad(padded, [radius - pad, radius - pad, radius - pad, radius - pad], PaddingModes.Replicate);
        var horizontal = nn.functional.conv2d(padded, kernel.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups: c);
        var both = nn.functional.conv2d(horizontal, kernel.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups: c);
        return both.MoveToOuterDisposeScope();
    }
}
