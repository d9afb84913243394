using static TorchSharp.torch;

namespace SaCam.Core.Targets;

/// <summary>How an embedding is compared with the exemplar's.</summary>
public enum SimilarityMeasure
{
    /// <summary>cos(e, e0): the usual similarity-to-concept target, for an exemplar other than the image itself.</summary>
    Cosine,
    /// <summary>
    /// e . e0/|e0|, the length of e along the exemplar's direction. Used when the exemplar is the image itself:
    /// cosine is stationary there (its gradient at e = e0 is exactly zero, and the map would be flat), while the
    /// projection's gradient is the unit exemplar direction, i.e. "what makes the embedding what it is".
    /// </summary>
    Projection,
}

/// <summary>
/// Similarity of the model's output (a pooled embedding) to an exemplar embedding. It lets a backbone with no
/// classifier head, like the embedded ResNet18, explain something meaningful: which regions make this image look
/// like the exemplar (or, with the image's own embedding, which regions dominate what the backbone sees).
/// Confidence, used by perturbation methods, is always the cosine mapped to [0, 1] as (1 + cos) / 2.
/// </summary>
public sealed class EmbeddingSimilarityTarget : IExplanationTarget, IDisposable
{
    private readonly Tensor _direction; // [K], unit length

    public EmbeddingSimilarityTarget(Tensor exemplarEmbedding, SimilarityMeasure measure = SimilarityMeasure.Cosine,
        string description = "similarity to exemplar")
    {
        using var scope = NewDisposeScope();
        var flat = exemplarEmbedding.detach().flatten();
        _direction = (flat / (flat.norm() + 1e-12)).DetachFromDisposeScope();
        Measure = measure;
        Description = description;
    }

    public SimilarityMeasure Measure { get; }
    public string Description { get; }

    public Tensor Score(Tensor output) => Measure == SimilarityMeasure.Cosine ? Cosine(output) : Projection(output);

    public Tensor Confidence(Tensor output)
    {
        using var scope = NewDisposeScope();
        return ((Cosine(output) + 1) / 2).MoveToOuterDisposeScope();
    }

    private Tensor Projection(Tensor output)
    {
        using var scope = NewDisposeScope();
        return output.flatten(1).matmul(_direction.to(output.device)).MoveToOuterDisposeScope();
    }

    private Tensor Cosine(Tensor output)
    {
        using var scope = NewDisposeScope();
        var flat = output.flatten(1);
        var norms = flat.norm(1, keepdim: false) + 1e-12;
        return (flat.matmul(_direction.to(output.device)) / norms).MoveToOuterDisposeScope();
    }

    public void Dispose() => _direction.Dispose();
}
