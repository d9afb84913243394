using static TorchSharp.torch;

namespace SaCam.Core.Targets;

/// <summary>
/// What is being explained: a scalar per image computed from the model's output [N, K]. Methods never know
/// which task they explain; they only call these two functions.
/// </summary>
public interface IExplanationTarget
{
    /// <summary>Human-readable description for reports ("class 244 (bull mastiff)").</summary>
    string Description { get; }

    /// <summary>The differentiable score [N] whose gradient gradient-based methods take (a logit for classes).</summary>
    Tensor Score(Tensor output);

    /// <summary>
    /// The score that perturbation methods compare between masked inputs [N], on a probability-like scale
    /// (softmax probability for classes). SA-CAM's S and Group-CAM's weights use it.
    /// </summary>
    Tensor Confidence(Tensor output);
}
