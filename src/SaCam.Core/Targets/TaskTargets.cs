using SaCam.Core.Tasks;
using static TorchSharp.torch;

namespace SaCam.Core.Targets;

/// <summary>
/// A segmenter's class over a fixed set of pixels, after pytorch-grad-cam's SemanticSegmentationTarget: Score is the
/// class logit over the mask (the pixels the model assigned to the class on the unperturbed image, optionally within
/// a region), averaged where pytorch-grad-cam sums. For gradient methods the two differ by a constant factor, which
/// the map's min-max normalization removes; Score-CAM's softmax over channels, though, sees sums of tens of
/// thousands of pixel logits that differ by hundreds between channels and collapses onto one channel (seen on the
/// shared bird: 4% of the map's mass on the bird with sums). Confidence is the class's mean softmax probability over
/// the mask, so perturbation methods compare a probability as they do for a classifier. Output: logits
/// [N, C, H, W]; mask: [H, W].
/// </summary>
public sealed class SegmentationTarget : IExplanationTarget, IDisposable
{
    private readonly Tensor _mask;
    private readonly float _pixels;

    public SegmentationTarget(int classIndex, string? label, Tensor mask)
    {
        ClassIndex = classIndex;
        Label = label;
        _mask = mask.detach().to_type(ScalarType.Float32).clone().DetachFromDisposeScope(); // the target outlives the caller's scope
        _pixels = _mask.sum().item<float>();
        if (_pixels <= 0) throw new ArgumentException($"The segmentation target {Describe(classIndex, label)} covers no pixel.");
    }

    public int ClassIndex { get; }
    public string? Label { get; }
    public string Description => $"segment {Describe(ClassIndex, Label)}";

    /// <summary>Pixels of the model's output the target covers.</summary>
    public float Pixels => _pixels;

    /// <summary>The target's pixels [H, W] (1 inside), at the model's output size.</summary>
    public Tensor Mask => _mask;

    public Tensor Score(Tensor output) => (output[.., ClassIndex] * _mask.to(output.device)).sum([1, 2]) / _pixels;

    public Tensor Confidence(Tensor output)
    {
        using var scope = NewDisposeScope();
        var p = output.softmax(1)[.., ClassIndex];
        return ((p * _mask.to(output.device)).sum([1, 2]) / _pixels).MoveToOuterDisposeScope();
    }

    private static string Describe(int c, string? label) => label is null ? $"class {c}" : $"class {c} ({label})";

    public void Dispose() => _mask.Dispose();
}

/// <summary>
/// One detection of a detector, followed through perturbed images as pytorch-grad-cam's FasterRCNNBoxScoreTarget
/// follows a box: on each image the candidate whose box overlaps the reference box most (IoU) is the object; if that
/// IoU is above <paramref name="iouThreshold"/> and the candidate's best class is the reference's, Score is IoU +
/// the class score, else 0. Confidence is the matched candidate's class score (0 without a match), a probability for
/// the perturbation methods. Output: the packed [N, A, 4 + C] of <see cref="DetectionDecoder"/>.
/// </summary>
public sealed class DetectionTarget(Detection reference, int? backgroundClass, float iouThreshold = 0.5f) : IExplanationTarget
{
    public Detection Reference { get; } = reference;
    public float IouThreshold { get; } = iouThreshold;
    public string Description => $"detection {Reference.Label ?? $"class {Reference.Class}"} {Reference.Score:F2}";

    public Tensor Score(Tensor output)
    {
        using var scope = NewDisposeScope();
        var (iou, score, match) = Matched(output);
        return ((iou + score) * match).MoveToOuterDisposeScope();
    }

    public Tensor Confidence(Tensor output)
    {
        using var scope = NewDisposeScope();
        var (_, score, match) = Matched(output);
        return (score * match).MoveToOuterDisposeScope();
    }

    /// <summary>Per image: the best-overlapping candidate's IoU and class score, and 1 where it matches.</summary>
    private (Tensor Iou, Tensor Score, Tensor Match) Matched(Tensor output)
    {
        var b = Reference.Box;
        // The boxes as four contiguous [N, A] planes, read once from the packed [N, A, 4 + C] output: every step below
        // then reads contiguous memory (on every perturbed batch: the SSD has 26,880 candidates an image).
        var planes = output[.., .., ..4].permute(2, 0, 1).contiguous();
        Tensor x0 = planes[0], y0 = planes[1], x1 = planes[2], y1 = planes[3];
        // minimum/maximum, not clamp: at a tie (the detection's own candidate, whose box is the reference) they pass half
        // the gradient each way, as torchvision's box_iou under pytorch-grad-cam's box-score target does; clamp passes all
        // of it, which moved XGrad-CAM's detection maps (peaks in their boxes fell from 5 of 6 to 2 of 6).
        var ix = (minimum(x1, b[2]) - maximum(x0, b[0])).clamp_min(0);
        var iy = (minimum(y1, b[3]) - maximum(y0, b[1])).clamp_min(0);
        var inter = ix * iy;
        var areas = (x1 - x0).clamp_min(0) * (y1 - y0).clamp_min(0);
        var ious = inter / (areas + ((b[2] - b[0]) * (b[3] - b[1]) + 1e-9f) - inter);               // [N, A]
        var best = ious.argmax(1, keepdim: true);                                               // [N, 1]
        var iou = ious.gather(1, best).squeeze(1);
        var classes = output[.., .., 4..].gather(1, best.unsqueeze(2).expand(-1, -1, output.shape[2] - 4)).squeeze(1); // [N, C]
        var ranked = classes.detach().clone();
        if (backgroundClass is int bg && bg < ranked.shape[1]) ranked[.., bg] = tensor(float.NegativeInfinity);
        var label = ranked.argmax(1);
        var score = classes[.., Reference.Class];
        var match = ((iou.detach() > IouThreshold) & (label == Reference.Class)).to_type(output.dtype);
        return (iou, score, match);
    }
}

/// <summary>One value of a model's output, as it is (a regression head's steering angle, one raw logit): Score and
/// Confidence are both the value. Output: the named output flattened [N, K].</summary>
public sealed class OutputTarget(string output, int index) : IExplanationTarget
{
    public string Output { get; } = output;
    public int Index { get; } = index;
    public string Description => $"output {Output}[{Index}]";
    public Tensor Score(Tensor output) => output[.., Index];
    public Tensor Confidence(Tensor output) => output[.., Index].clone();
}
