using SaCam.Core.Preprocessing;
using static TorchSharp.torch;

namespace SaCam.Core.Models;

/// <summary>A 4-D activation of the model (at the model's own input size) that can serve as a CAM target layer.</summary>
public sealed record LayerInfo(string Name, long[] Shape)
{
    public override string ToString() => $"{Name} [{string.Join("x", Shape)}]";
}

/// <summary>What the model's output means.</summary>
public enum OutputKind
{
    /// <summary>Class scores (logits) per class: class targets apply.</summary>
    Logits,
    /// <summary>A feature vector with no classifier (a backbone): explain similarity targets instead.</summary>
    Embedding,
    /// <summary>Per-pixel class logits [N, C, H, W]: segmentation targets apply.</summary>
    Segmentation,
    /// <summary>Detections packed as [N, A, 4 + C] (see Tasks.DetectionDecoder): detection targets apply.</summary>
    Detection,
    /// <summary>Raw values [N, K] (a regression head): output targets apply.</summary>
    Raw,
}

/// <summary>
/// A CNN the explainer can work with, whatever its source (ONNX, torchvision architecture + state dict).
/// Output is [N, K] for a classifier, an embedding or raw values, and what <see cref="OutputKind"/> says for a
/// segmenter or a detector; the activation of a target layer can be captured on the way.
/// </summary>
public interface IExplainableModel : IDisposable
{
    string Name { get; }
    Device Device { get; }
    PreprocessSpec Preprocess { get; set; }
    ClassLabels? Labels { get; set; }
    OutputKind OutputKind { get; }
    long OutputSize { get; }
    string DefaultLayer { get; }
    IReadOnlyList<LayerInfo> Layers { get; }

    /// <summary>The underlying module (for parameter access: sanity checks randomize it).</summary>
    nn.Module Module { get; }

    /// <summary>
    /// Runs the model and captures <paramref name="layer"/>'s activation as a leaf tensor that requires grad, so
    /// that <c>autograd.grad(score, activation)</c> gives dScore/dA without touching the parameters.
    /// </summary>
    CapturedForward ForwardWithActivation(Tensor input, string layer);

    /// <summary>Plain batched forward (callers choose the grad mode): output [N, K].</summary>
    Tensor Predict(Tensor input);
}

public readonly record struct CapturedForward(Tensor Output, Tensor Activation);

/// <summary>A layer with parameters (a convolution, a dense layer, a batch norm), by name, with its parameters.</summary>
public sealed record ParameterizedLayer(string Name, IReadOnlyList<TorchSharp.Modules.Parameter> Parameters);

/// <summary>Models that can list their parameterized layers in execution order (input side first); sanity checks
/// randomize them from the output side.</summary>
public interface IHasParameterizedLayers
{
    IReadOnlyList<ParameterizedLayer> ParameterizedLayers();

    /// <summary>
    /// Call before changing parameters in place (a sanity check randomizes them); dispose when they are restored.
    /// In between, every pass runs on the TorchSharp module whose parameters were changed, never on a fast engine
    /// that holds its own copy of the original weights.
    /// </summary>
    IDisposable BeginParameterEdit();
}
