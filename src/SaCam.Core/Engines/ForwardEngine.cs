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
    /// One thread per core, at most eight. Measured on 2 cores with MobileNetV2 (docs/benchmarks.md, 2026-11-29): two
    /// threads ran a forward in 6.4 ms at batch 1 and 5.1 ms per image at batch 16 on a quiet machine, against 8.2 and
    /// 8.3 with one thread; beside a second process busy on one core, two threads cost 4-10% more than one (8.6 and
    /// 9.1 against 8.3 and 8.2). The quiet-machine gain (1.3-1.6x) outweighs the loss under load; --threads 1 suits a
    /// machine shared with other work.
    /// </summary>
    public static int DefaultThreads => Math.Clamp(Environment.ProcessorCount, 1, 8);

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
public sealed class EngineUnavailableException(SettingText text, Exception? inner = null) : Exception(text.ToString(), inner), ISettingMessage
{
    public EngineUnavailableException(string message, Exception? inner = null) : this(new SettingText(message), inner) { }

    public SettingText Text { get; } = text;
}
