using static TorchSharp.torch;

namespace SaCam.Core.Targets;

/// <summary>A class of a classifier: Score is its logit (as pytorch-grad-cam's ClassifierOutputTarget), Confidence its softmax probability.</summary>
public sealed class ClassTarget(int classIndex, string? label = null) : IExplanationTarget
{
    public int ClassIndex { get; } = classIndex;
    public string? Label { get; } = label;
    public string Description => Label is null ? $"class {ClassIndex}" : $"class {ClassIndex} ({Label})";

    public Tensor Score(Tensor output) => output[.., ClassIndex];

    public Tensor Confidence(Tensor output)
    {
        using var p = output.softmax(1);
        return p[.., ClassIndex].clone();
    }
}
