using SaCam.Core.Methods;
using SaCam.Core.Models;
using SaCam.Core.Targets;
using static TorchSharp.torch;

namespace SaCam.Evaluation;

/// <summary>One point of a cascading-randomization curve: after randomizing every layer from the top down to Layer.</summary>
public sealed record SanityPoint(int LayersRandomized, string Layer, double SpearmanAbs, double SpearmanSigned, double Ssim);

/// <summary>
/// Model-parameter randomization test (Adebayo et al. 2018), cascading: the model's parameterized layers are
/// re-initialized from the output side down, one more at each step, and the image is explained again; a method
/// whose map stays alike is not explaining the model. Each parameter is redrawn from a normal with its own mean
/// and standard deviation (so activations keep their scale). The original parameters are restored afterwards,
/// also on failure.
/// </summary>
public sealed class SanityCheck(IExplainableModel model, int perturbationBatchSize = 16)
{
    // The signed maps are part of what is compared.
    private readonly CamEngine engine = new(model, perturbationBatchSize) { KeepSignedMaps = true };

    /// <param name="steps">How many cascade points (evenly spaced over the layers; the last one randomizes all).</param>
    public IReadOnlyList<SanityPoint> Run(Tensor input, ICamMethod method, IExplanationTarget target, int steps, long seed = 0,
        CancellationToken cancellation = default)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "at least one cascade step");
        if (model is not IHasParameterizedLayers layered)
            throw new ArgumentException($"Model '{model.Name}' cannot list its parameterized layers.");
        var layers = layered.ParameterizedLayers().Reverse().ToList(); // output side first
        using var edit = layered.BeginParameterEdit();
        using var randomizer = new ParameterRandomizer(seed);
        var points = new List<SanityPoint>();
        using var original = engine.Explain(input, method, target, cancellation: cancellation);
        var cuts = Enumerable.Range(1, steps).Select(i => (int)Math.Round(i * layers.Count / (double)steps)).Distinct().ToList();
        int done = 0;
        try
        {
            foreach (int cut in cuts)
            {
                for (; done < cut; done++) randomizer.Randomize(layers[done]);
                using var randomized = engine.Explain(input, method, target, cancellation: cancellation);
                points.Add(new SanityPoint(done, layers[done - 1].Name,
                    MapSimilarity.Spearman(randomized.Map.abs(), original.Map.abs()),
                    MapSimilarity.Spearman(randomized.SignedLowResMap!, original.SignedLowResMap!),
                    MapSimilarity.Ssim(randomized.Map, original.Map)));
            }
        }
        finally
        {
            randomizer.RestoreAll();
        }
        return points;
    }
}

/// <summary>Redraws parameters in place and remembers the originals so they can be put back exactly.</summary>
public sealed class ParameterRandomizer(long seed) : IDisposable
{
    private readonly List<(TorchSharp.Modules.Parameter Parameter, Tensor Original)> _saved = [];
    private readonly Generator _generator = new((ulong)seed);

    public void Randomize(ParameterizedLayer layer)
    {
        using var noGrad = no_grad();
        foreach (var p in layer.Parameters)
        {
            _saved.Add((p, p.detach().clone().DetachFromDisposeScope()));
            using var scope = NewDisposeScope();
            double mean = p.mean().item<float>();
            double std = p.numel() > 1 ? p.std().item<float>() : 0;
            var fresh = randn(p.shape, dtype: p.dtype, generator: _generator).to(p.device) * (std > 0 ? std : 1e-2) + mean;
            p.copy_(fresh);
        }
    }

    public void RestoreAll()
    {
        using var noGrad = no_grad();
        for (int i = _saved.Count - 1; i >= 0; i--)
        {
            _saved[i].Parameter.copy_(_saved[i].Original);
            _saved[i].Original.Dispose();
        }
        _saved.Clear();
    }

    public void Dispose()
    {
        RestoreAll();
        _generator.Dispose();
    }
}
