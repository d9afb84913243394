using static TorchSharp.torch;

namespace SaCam.Core.Targets;

/// <summary>
/// Cosine similarity of the model's output (a pooled embedding) to an exemplar embedding. It lets a backbone with
/// no classifier head, like the embedded ResNet18, explain something meaningful: "which regions make this image
/// look like the exemplar". With the image's own embedding as exemplar it shows what dominates the embedding.
/// Confidence maps the similarity to [0, 1] as (1 + cos) / 2 so that perturbation scores stay positive.
/// </summary>
public sealed class EmbeddingSimilarityTarget : IExplanationTarget, IDisposable
{
    private readonly Tensor _exemplar; // [K], unit length

    public EmbeddingSimilarityTarget(Tensor exemplarEmbedding, string description = "similarity to exemplar")
    {
        using var flat = exemplarEmbedding.detach().flatten();
        _exemplar = (flat / (flat.norm() + 1e-12)).DetachFromDisposeScope();
        Description = description;
    }

    public string Description { get; }

    public Tensor Score(Tensor output)
    {
        using var scope = NewDisposeScope();
        var e = _exemplar.to(output.device);
        var norms = output.norm(1, keepdim: false) + 1e-12;
        return (output.matmul(e) / norms).MoveToOuterDisposeScope();
    }

    public Tensor Confidence(Tensor output)
    {
        using var s = Score(output);
        return (s + 1) / 2;
    }

    public void Dispose() => _exemplar.Dispose();
}
