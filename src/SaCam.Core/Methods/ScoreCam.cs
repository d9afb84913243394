using static TorchSharp.torch;

namespace SaCam.Core.Methods;

/// <summary>
/// Score-CAM (Wang et al. 2020) as pytorch-grad-cam computes it: each channel, upsampled and min-max normalized,
/// masks the input; w = softmax over channels of the target's score (the logit) on the masked inputs.
/// Channels whose activation is constant give an all-zero mask: they share one forward pass instead of one each;
/// channels with the same normalized map share theirs too (<see cref="DuplicateChannels"/>).
/// </summary>
public sealed class ScoreCam : ChannelWeightedCam
{
    public override string Id => "scorecam";
    public override bool NeedsGradients => false;

    protected override Tensor ChannelWeights(CamInputs inputs)
    {
        using var scope = NewDisposeScope();
        var x = inputs.Input;
        var span = CamMath.ChannelSpan(inputs.Activations);
        var live = (span > 0).nonzero().flatten();
        var scores = full(inputs.Channels, float.NaN, device: x.device);

        // Masks are built per batch, as SA-CAM's are: all K at input resolution at once would be K x H x W floats
        // (1280 x 224 x 224: 257 MB for MobileNetV2) held for the whole method.
        var duplicates = DuplicateChannels.Find(inputs.Activations, live);
        var distinct = duplicates.Distinct;
        var distinctScores = inputs.Perturbations.Run(distinct.shape[0],
            (start, length) => x * CamMath.ChannelMasks(inputs.Activations.index_select(1, distinct.narrow(0, start, length)), inputs.InputSize).unsqueeze(1),
            inputs.Target.Score);
        scores.index_copy_(0, live, distinctScores.index_select(0, duplicates.RepresentativeOf));
        if (live.shape[0] < inputs.Channels)
        {
            var zeroInputScore = inputs.Perturbations.Run(1, (_, _) => zeros_like(x), inputs.Target.Score);
            scores = where(span > 0, scores, zeroInputScore.expand_as(scores));
        }
        return scores.softmax(0).MoveToOuterDisposeScope();
    }
}
