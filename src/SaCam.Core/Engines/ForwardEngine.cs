using static TorchSharp.torch;

namespace SaCam.Core.Engines;

/// <summary>Which engine runs a model's forward passes that need no gradient.</summary>
public enum EngineKind
{
    /// <summary>ONNX Runtime for ONNX models, TorchSharp for the rest.</summary>
    Auto,
    /// <summary>ONNX Runtime (ONNX models only).</summary>
    OnnxRuntime,
    /// <summary>TorchSharp for everything (the engine that also computes gradients).</summary>
    TorchSharp,
}

/// <summary>How a model's engines are set up.</summary>
public sealed record EngineOptions
{
    public EngineKind Kind { get; init; } = EngineKind.Auto;

    /// <summary>ONNX Runtime's intra-op threads; null = <see cref="DefaultThreads"/>.</summary>
    public int? Threads { get; init; }

    /// <summary>
    /// One thread per two cores, at least one, at most four. Measured on 2 cores with MobileNetV2 (docs/benchmarks.md):
    /// one intra-op thread ran batch-16 passes as fast as two on a quiet machine and faster than two beside another
    /// busy process, because the video pipeline's own stages (decode, overlay, encode) and libtorch's backward share
    /// the same cores; on larger machines a few threads pay off.
    /// </summary>
    public static int DefaultThreads => Math.Clamp(Environment.ProcessorCount / 2, 1, 4);

    public static EngineKind Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "auto" => EngineKind.Auto,
        "onnxruntime" or "ort" => EngineKind.OnnxRuntime,
        "torchsharp" or "torch" => EngineKind.TorchSharp,
        _ => throw new ArgumentException($"Engine '{text}' is not one of: auto, onnxruntime, torchsharp."),
    };
}

/// <summary>
/// Runs a model's forward passes that need no gradient: the perturbed batches of Score-CAM, Group-CAM, SA-CAM and
/// sacam-rt, plain classification, evaluation curves, and the trunk of a gradient pass (input to target layer).
/// Methods never see it: the model routes its passes here.
/// </summary>
public interface IForwardEngine : IDisposable
{
    /// <summary>"onnxruntime (cpu, 1 thread)", for reports and benchmarks.</summary>
    string Description { get; }

    /// <summary>The model's output [N, K] for a batch [N, C, H, W], on the input's device.</summary>
    Tensor Predict(Tensor input);

    /// <summary>Named intermediate values of the graph for a batch (each on the input's device).</summary>
    IReadOnlyDictionary<string, Tensor> Values(Tensor input, IReadOnlyList<string> names);
}

/// <summary>The fast engine cannot run as asked (its CUDA provider is missing, say); the message says what to do.</summary>
public sealed class EngineUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
