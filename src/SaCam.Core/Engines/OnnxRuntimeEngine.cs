using System.Runtime.InteropServices;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using TensorElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;
using SaCam.Core.Onnx;
using SaCam.Core.Onnx.Proto;
using TorchSharp;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace SaCam.Core.Engines;

/// <summary>
/// ONNX Runtime for an ONNX model's forward passes without gradients: fp32, all graph optimizations, sequential
/// execution, intra-op threads that do not spin (spinning cost 2x at batch 1 beside another job). The model is
/// rewritten once with a symbolic batch dimension; a set of intermediate values gets its own session, on a copy
/// of the graph that ends at those values and keeps only the nodes they need. Inputs are handed over without a
/// copy (ONNX Runtime reads the tensor's memory); outputs are copied into TorchSharp tensors.
/// </summary>
public sealed class OnnxRuntimeEngine : IForwardEngine
{
    private readonly ModelProto _model;
    private readonly string _inputName;
    private readonly string _outputName;
    private readonly IReadOnlyDictionary<string, ScalarType> _valueTypes;
    private readonly SessionOptions _options;
    private readonly InferenceSession _full;
    private readonly Dictionary<string, InferenceSession> _partial = [];
    private readonly RunOptions _run = new();

    /// <param name="valueTypes">The element type of every value the graph computes (as a probe run recorded them):
    /// a session that ends at intermediate values must declare their types.</param>
    public OnnxRuntimeEngine(ModelProto model, string inputName, string outputName, IReadOnlyDictionary<string, ScalarType> valueTypes,
        Device device, int threads)
    {
        _model = OnnxSurgery.WithSymbolicBatch(model);
        _inputName = inputName;
        _outputName = outputName;
        _valueTypes = valueTypes;
        Threads = threads;
        _options = CreateOptions(device, threads);
        try
        {
            _full = new InferenceSession(_model.ToByteArray(), _options);
        }
        catch (OnnxRuntimeException e)
        {
            _options.Dispose();
            throw new EngineUnavailableException($"ONNX Runtime cannot load this model ({e.Message})", e);
        }
        Description = $"onnxruntime ({(device.type == DeviceType.CUDA ? $"cuda:{device.index}" : "cpu")}, {threads} thread{(threads == 1 ? "" : "s")})";
    }

    public int Threads { get; }
    public string Description { get; }

    private static SessionOptions CreateOptions(Device device, int threads)
    {
        var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        // SACAM_ORT_SPINNING=1 lets idle threads spin (for benchmarks: it helps a quiet machine a little, and costs 2x
        // beside another busy process).
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", Environment.GetEnvironmentVariable("SACAM_ORT_SPINNING") == "1" ? "1" : "0");
        if (device.type == DeviceType.CUDA)
        {
            try
            {
                options.AppendExecutionProvider_CUDA(device.index < 0 ? 0 : device.index);
            }
            catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
            {
                options.Dispose();
                throw new EngineUnavailableException(new SettingText(
                    $"ONNX Runtime's CUDA provider is not available ({e.Message.Split('\n')[0]}). It needs the GPU build " +
                    "(dotnet build -p:SaCamTorchBackend=cuda, which takes Microsoft.ML.OnnxRuntime.Gpu) and CUDA 12 with cuDNN 9 " +
                    "on the library path; or run with {Engine} torchsharp."), e);
            }
        }
        return options;
    }

    public Tensor Predict(Tensor input)
    {
        using var outputs = Run(_full, input, [_outputName]);
        var output = ToTensor(outputs[0], input.device);
        return output.dim() == 2 ? output : output.reshape(output.shape[0], -1);
    }

    public IReadOnlyDictionary<string, Tensor> Values(Tensor input, IReadOnlyList<string> names)
    {
        var session = PartialSession(names);
        using var outputs = Run(session, input, names);
        var result = new Dictionary<string, Tensor>(names.Count);
        for (int i = 0; i < names.Count; i++) result[names[i]] = ToTensor(outputs[i], input.device);
        return result;
    }

    private InferenceSession PartialSession(IReadOnlyList<string> names)
    {
        string key = string.Join('\n', names);
        lock (_partial) // a host may explain on one thread and classify on another
        {
            if (_partial.TryGetValue(key, out var session)) return session;
            var outputs = names.Select(n => (n, OnnxElementType(_valueTypes.TryGetValue(n, out var t) ? t : ScalarType.Float32))).ToList();
            session = new InferenceSession(OnnxSurgery.WithOutputs(_model, outputs).ToByteArray(), _options);
            _partial[key] = session;
            return session;
        }
    }

    private unsafe IDisposableReadOnlyCollection<OrtValue> Run(InferenceSession session, Tensor input, IReadOnlyList<string> outputNames)
    {
        using var x = input.detach().to_type(ScalarType.Float32).cpu().contiguous();
        var bytes = x.bytes;
        fixed (byte* data = bytes)
        {
            using var value = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, TensorElementType.Float, x.shape, (IntPtr)data, bytes.Length);
            return session.Run(_run, [_inputName], [value], outputNames);
        }
    }

    private static Tensor ToTensor(OrtValue value, Device device)
    {
        var info = value.GetTensorTypeAndShape();
        var shape = info.Shape;
        Tensor result = info.ElementDataType switch
        {
            TensorElementType.Float => Copy<float>(value, shape, ScalarType.Float32),
            TensorElementType.Int64 => Copy<long>(value, shape, ScalarType.Int64),
            TensorElementType.Int32 => Copy<int>(value, shape, ScalarType.Int32),
            TensorElementType.Bool => Copy<bool>(value, shape, ScalarType.Bool),
            _ => throw new NotSupportedException($"ONNX Runtime returned a {info.ElementDataType} tensor; the engine takes float, int64, int32 and bool."),
        };
        return device.type == DeviceType.CPU ? result : result.to(device);
    }

    private static Tensor Copy<T>(OrtValue value, long[] shape, ScalarType type) where T : unmanaged
    {
        var t = empty(shape, type);
        MemoryMarshal.AsBytes(value.GetTensorDataAsSpan<T>()).CopyTo(t.bytes);
        return t;
    }

    private static int OnnxElementType(ScalarType type) => type switch
    {
        ScalarType.Float32 => (int)OnnxDataType.Float,
        ScalarType.Int64 => (int)OnnxDataType.Int64,
        ScalarType.Int32 => (int)OnnxDataType.Int32,
        ScalarType.Bool => (int)OnnxDataType.Bool,
        ScalarType.Float64 => (int)OnnxDataType.Double,
        _ => throw new NotSupportedException($"a value of type {type} cannot be a graph output here"),
    };

    public void Dispose()
    {
        foreach (var s in _partial.Values) s.Dispose();
        _full.Dispose();
        _run.Dispose();
        _options.Dispose();
    }
}
