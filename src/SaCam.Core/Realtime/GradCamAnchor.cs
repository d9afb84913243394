using static TorchSharp.torch;

namespace SaCam.Core.Realtime;

/// <summary>
/// Leans sacam-rt's map on Grad-CAM's while the score term is uncertain: the frame's channel weights become
/// (1 - g) w / range(SA-CAM map) + g K / peak(Grad-CAM map), so that the map is the blend, in shares g and 1 - g, of
/// the two maps each scaled to a range of 1. g is <see cref="RealtimeSaCamOptions.GradCamShareWithoutScores"/> times
/// (1 - score_confidence). Blending the weights rather than the finished maps keeps the map what its channel weights
/// say (ReLU of their weighted sum), for signed maps and for anyone who recomputes it; on the three moving clips the
/// two ways gave the same correlations with full SA-CAM to the third decimal.
/// </summary>
internal sealed class GradCamAnchor(RealtimeSaCamOptions options)
{
    /// <summary>Grad-CAM's share of the map at this confidence in the score term.</summary>
    public double Share(double scoreConfidence) => options.GradCamShareWithoutScores * (1 - Math.Clamp(scoreConfidence, 0, 1));

    /// <param name="w">SA-CAM's channel weights, [K] or a batch of them [n, K].</param>
    /// <param name="k">Grad-CAM's channel weights (the mean gradient), [K].</param>
    /// <param name="activations">The layer's activations, [1, K, h, w].</param>
    public Tensor Lean(Tensor w, Tensor k, Tensor activations, double share)
    {
        if (share <= 0) return w.alias();
        using var scope = NewDisposeScope();
        var a = activations[0].flatten(1).to_type(w.dtype);                              // [K, h*w]
        var saCamMaps = nn.functional.relu(w.matmul(a));                                  // [h*w] or [n, h*w]
        var range = (saCamMaps.amax([-1L], keepdim: true) - saCamMaps.amin([-1L], keepdim: true)).clamp_min(1e-12);
        var gradCamPeak = nn.functional.relu(k.to_type(w.dtype).matmul(a)).max().clamp_min(1e-12);
        return ((1 - share) * w / range + share * k.to_type(w.dtype) / gradCamPeak).MoveToOuterDisposeScope();
    }
}
