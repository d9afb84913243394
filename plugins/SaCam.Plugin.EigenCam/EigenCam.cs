using SaCam.Core.Methods;
using static TorchSharp.torch;

namespace SaCam.Plugin.EigenCam;

/// <summary>
/// EigenCAM (Muhammad and Yeasin, 2020): the map is the projection of each location's activation vector on the
/// first principal component of the target layer's activations (locations as samples, channels as features,
/// centred). Class-agnostic and gradient-free: one forward pass.
/// pytorch-grad-cam leaves the component's sign to the SVD, so its map can come out inverted (lighting the
/// background); here the sign is chosen so that the projection correlates positively with the summed activation,
/// which is what the map is read as.
/// </summary>
public sealed class EigenCam : ICamMethod
{
    public string Id => "eigencam";
    public bool NeedsGradients => false;

    public CamComputation Compute(CamInputs inputs)
    {
        var a = inputs.Activations[0];                                    // [K, h, w]
        long channels = a.shape[0], h = a.shape[1], w = a.shape[2];
        var samples = a.reshape(channels, h * w).t();                     // [h*w, K]
        var centred = samples - samples.mean([0], keepdim: true);
        var (_, _, vh) = linalg.svd(centred, fullMatrices: false);
        var projection = centred.matmul(vh[0]);                           // [h*w]
        var energy = samples.sum(dim: 1);
        var sign = (projection * (energy - energy.mean())).sum().item<float>() < 0 ? -1.0 : 1.0;
        var map = nn.functional.relu(projection * sign).reshape(h, w);
        return CamComputation.FromMap(map);
    }
}
