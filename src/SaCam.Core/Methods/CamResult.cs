using SaCam.Core.Targets;
using static TorchSharp.torch;

namespace SaCam.Core.Methods;

/// <summary>
/// One explanation. Tensors stay on the model's device; dispose the result to free them.
/// Map: [H, W] in [0, 1] at the model's input size.
/// </summary>
public sealed class CamResult : IDisposable
{
    internal CamResult(string methodId, string layer, IExplanationTarget target, Tensor map, Tensor lowResMap,
        Tensor? channelWeights, IReadOnlyDictionary<string, Tensor> parts, Tensor output, TimeSpan elapsed)
    {
        MethodId = methodId;
        Layer = layer;
        Target = target;
        Map = map;
        LowResMap = lowResMap;
        ChannelWeights = channelWeights;
        Parts = parts;
        Output = output;
        Elapsed = elapsed;
    }

    public string MethodId { get; }
    public string Layer { get; }
    public IExplanationTarget Target { get; }

    /// <summary>The final map [H, W] in [0, 1] at the model's input size.</summary>
    public Tensor Map { get; }

    /// <summary>The map at layer resolution [h, w], after ReLU and before normalization.</summary>
    public Tensor LowResMap { get; }

    /// <summary>The map at layer resolution before ReLU (sum_k w_k A_k) for channel-weighted methods, else the low-res
    /// map; null unless the engine was asked to keep it (<see cref="CamEngine.KeepSignedMaps"/>).</summary>
    public Tensor? SignedLowResMap { get; init; }

    /// <summary>Per-channel weights [K] for channel-weighted methods; null for LayerCAM and Group-CAM.</summary>
    public Tensor? ChannelWeights { get; }

    /// <summary>Named intermediate terms (SA-CAM: S, K, Q, SA).</summary>
    public IReadOnlyDictionary<string, Tensor> Parts { get; }

    /// <summary>The model's output for the input [K] (logits for classifiers).</summary>
    public Tensor Output { get; }

    public TimeSpan Elapsed { get; }

    /// <summary>Whether the result owns its target: true when the engine chose it (the default target); a target
    /// the caller passed stays the caller's, to be used for the next frame too.</summary>
    internal bool OwnsTarget { get; init; }

    /// <summary>Scalar facts the method reported (see <see cref="CamComputation.Diagnostics"/>).</summary>
    public IReadOnlyDictionary<string, double> Diagnostics { get; init; } = new Dictionary<string, double>();

    /// <summary>The k best classes of the output with their softmax probabilities.</summary>
    public IReadOnlyList<(int Index, float Probability)> TopK(int k) => TopKOf(Output, k);

    /// <summary>The k best classes of a logits vector [K] with their softmax probabilities (one host copy).</summary>
    public static IReadOnlyList<(int Index, float Probability)> TopKOf(Tensor logits, int k)
    {
        using var scope = NewDisposeScope();
        var p = logits.softmax(0).cpu();
        var (values, indices) = p.topk(Math.Min(k, (int)p.shape[0]));
        var v = values.data<float>().ToArray();
        var i = indices.data<long>().ToArray();
        return i.Select((index, n) => ((int)index, v[n])).ToList();
    }

    public void Dispose()
    {
        Map.Dispose();
        LowResMap.Dispose();
        if (!ReferenceEquals(SignedLowResMap, LowResMap)) SignedLowResMap?.Dispose();
        ChannelWeights?.Dispose();
        foreach (var t in Parts.Values) t.Dispose();
        Output.Dispose();
        if (OwnsTarget && Target is IDisposable d) d.Dispose();
    }
}
