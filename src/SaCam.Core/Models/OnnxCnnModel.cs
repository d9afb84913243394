using SaCam.Core.Engines;
using SaCam.Core.Onnx;
using SaCam.Core.Preprocessing;
using TorchSharp;
using static TorchSharp.torch;

namespace SaCam.Core.Models;

/// <summary>
/// An ONNX CNN. TorchSharp holds it as a module (the importer's) and computes every gradient; the forward passes that
/// need none run on a fast engine when there is one (ONNX Runtime, see <see cref="EngineOptions"/>): perturbed batches,
/// plain predictions, and the trunk of a gradient pass, from the input up to the target layer. A gradient pass then
/// backpropagates through the head alone (the layer to the output), in TorchSharp, from the trunk's values: the same
/// gradient as the whole model gives, since nothing upstream depends on the layer. Target layers are ONNX tensor names.
/// </summary>
public sealed class OnnxCnnModel : IExplainableModel, Methods.IHasInputChannels, IHasParameterizedLayers
{
    private readonly OnnxGraphModule _module;
    private readonly bool _outputIsPooledMap;
    private IForwardEngine? _fast;
    private int _editsInProgress;
    private readonly Dictionary<string, HeadPlan?> _plans = [];

    private OnnxCnnModel(string name, OnnxGraphModule module, PreprocessSpec preprocess, ClassLabels? labels,
        IReadOnlyList<LayerInfo> layers, string defaultLayer, long[] outputShape, Device device)
    {
        Name = name;
        _module = module;
        Preprocess = preprocess;
        Labels = labels;
        Layers = layers;
        DefaultLayer = defaultLayer;
        Device = device;
        _outputIsPooledMap = outputShape.Length == 4;
        OutputKind = outputShape.Length == 2 ? OutputKind.Logits : OutputKind.Embedding;
        OutputSize = outputShape.Skip(1).Aggregate(1L, (a, b) => a * b);
    }

    public string Name { get; }
    public long InputChannels { get; private init; } = 3;
    public Device Device { get; }
    public PreprocessSpec Preprocess { get; set; }
    public ClassLabels? Labels { get; set; }
    public OutputKind OutputKind { get; }
    public long OutputSize { get; }
    public string DefaultLayer { get; }
    public IReadOnlyList<LayerInfo> Layers { get; }
    public nn.Module Module => _module;
    public OnnxGraphModule Graph => _module;

    /// <summary>What runs the passes without gradients: the fast engine, or TorchSharp.</summary>
    public string Engine => _fast?.Description ?? "torchsharp";

    /// <summary>True when no-gradient forwards run on the fast engine (ONNX Runtime).</summary>
    public bool UsesFastEngine => _fast is not null;

    /// <summary>Why the fast engine is not used, when it was asked for by default and could not be (null otherwise).</summary>
    public string? EngineNote { get; private set; }

    /// <summary>Loads an .onnx file. Labels: <paramref name="labelsPath"/>, else a file named by metadata
    /// <c>sacam.labels</c> beside the model, else none.</summary>
    public static OnnxCnnModel Load(string path, Device? device = null, string? labelsPath = null, EngineOptions? engine = null)
    {
        var message = OnnxFileReader.ReadMessage(path);
        var proto = OnnxFileReader.Map(message);
        var module = ModuleOwnership.DetachFromCallerScope(OnnxImporter.Import(proto, path));
        var graphInput = proto.Graph.Inputs.First(i => i.Name == module.InputName);
        var preprocess = PreprocessSpec.FromMetadata(proto.MetadataProps, DefaultPreprocess(graphInput));
        if (graphInput.Shape.Count != 4)
            throw new ModelLoadException(path, $"it is not a CNN: its input '{graphInput.Name}' has rank {graphInput.Shape.Count}, an image model takes [N, C, H, W]");
        ValidateInputShape(path, graphInput);
        long channels = graphInput.Shape[1] ?? 3;
        preprocess = preprocess with { InputChannels = (int)channels };

        module.eval();
        var (layers, allValues, outputShape, valueTypes) = Probe(module, path, channels, preprocess);
        if (layers.Count == 0)
            throw new ModelLoadException(path, "it is not a CNN: no intermediate tensor is a 4-D activation with a spatial size above 1x1");
        string defaultLayer = proto.MetadataProps.TryGetValue("sacam.target_layer", out var named) && layers.Any(l => l.Name == named)
            ? named
            : FindDefaultLayer(module, layers, allValues);

        var labels = labelsPath is not null ? ClassLabels.FromFile(labelsPath) : FindLabelsBeside(path, proto.MetadataProps);
        var dev = device ?? CPU;
        if (dev.type != DeviceType.CPU) ModuleOwnership.DetachFromCallerScope(module.to(dev));
        var model = new OnnxCnnModel(Path.GetFileNameWithoutExtension(path), module, preprocess, labels, layers, defaultLayer, outputShape, dev)
        {
            InputChannels = channels,
        };
        model.AttachFastEngine(engine ?? new EngineOptions(), message, valueTypes, path);
        return model;
    }

    /// <summary>
    /// Sets up ONNX Runtime unless TorchSharp was asked for. It must agree with TorchSharp on a probe input (logits
    /// within 1e-4 of their scale): an engine that computes something else would silently change every map. Asked for
    /// by default (Auto), a fast engine that cannot load or disagrees leaves the model on TorchSharp with a note; asked
    /// for by name, that is an error.
    /// </summary>
    private void AttachFastEngine(EngineOptions options, Onnx.Proto.ModelProto message, IReadOnlyDictionary<string, ScalarType> valueTypes, string path)
    {
        if (options.Kind == EngineKind.TorchSharp) return;
        OnnxRuntimeEngine? fast = null;
        try
        {
            fast = new OnnxRuntimeEngine(message, _module.InputName, _module.OutputName, valueTypes, Device, options.Threads ?? EngineOptions.DefaultThreads);
            string? disagreement = Disagreement(fast);
            if (disagreement is null)
            {
                _fast = fast;
                return;
            }
            fast.Dispose();
            if (options.Kind == EngineKind.OnnxRuntime) throw new ModelLoadException(path, $"ONNX Runtime and TorchSharp disagree on it ({disagreement})");
            EngineNote = $"ONNX Runtime disagrees with TorchSharp on this model ({disagreement}): TorchSharp runs every pass";
        }
        catch (EngineUnavailableException e) when (options.Kind == EngineKind.Auto && Device.type == DeviceType.CPU)
        {
            fast?.Dispose();
            EngineNote = $"{e.Message}: TorchSharp runs every pass";
        }
    }

    /// <summary>Null when both engines give the same logits for a probe input (max abs diff within 1e-4 of the
    /// largest logit's magnitude, and at least 1e-4), else what differed.</summary>
    private string? Disagreement(IForwardEngine fast)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = randn([2, InputChannels, Preprocess.Height, Preprocess.Width], generator: new Generator(11)).to(Device);
        var torchOutput = Flatten(_module.Run(x, null, false).Output);
        var fastOutput = fast.Predict(x);
        if (!torchOutput.shape.SequenceEqual(fastOutput.shape))
            return $"output shapes [{string.Join(", ", torchOutput.shape)}] and [{string.Join(", ", fastOutput.shape)}]";
        double diff = (torchOutput - fastOutput).abs().max().item<float>();
        double scale = Math.Max(1, torchOutput.abs().max().item<float>());
        return diff <= 1e-4 * scale ? null : $"logits differ by up to {diff:G3}";
    }

    private bool UseFast => _fast is not null && _editsInProgress == 0;

    public IDisposable BeginParameterEdit()
    {
        _editsInProgress++;
        return new ParameterEdit(this);
    }

    private sealed class ParameterEdit(OnnxCnnModel model) : IDisposable
    {
        private bool _done;
        public void Dispose()
        {
            if (_done) return;
            _done = true;
            model._editsInProgress--;
        }
    }

    public CapturedForward ForwardWithActivation(Tensor input, string layer)
    {
        if (!Layers.Any(l => l.Name == layer)) throw UnknownLayer(layer);
        if (UseFast && Plan(layer) is { } plan)
        {
            // The trunk on the fast engine; the head in TorchSharp from a leaf at the layer.
            var values = new Dictionary<string, Tensor>(_fast!.Values(input, plan.Boundary));
            var leaf = values[layer].requires_grad_(is_grad_enabled());
            values[layer] = leaf;
            return new CapturedForward(Flatten(_module.RunHead(plan, values)), leaf);
        }
        var run = _module.Run(input, layer, captureAsLeaf: true);
        return new CapturedForward(Flatten(run.Output), run.Captured!);
    }

    public Tensor Predict(Tensor input) =>
        UseFast && !is_grad_enabled() ? _fast!.Predict(input) : Flatten(_module.Run(input, null, false).Output);

    private HeadPlan? Plan(string layer)
    {
        lock (_plans)
        {
            if (!_plans.TryGetValue(layer, out var plan)) _plans[layer] = plan = _module.PlanHead(layer);
            return plan;
        }
    }

    private Tensor Flatten(Tensor output)
    {
        if (output.dim() == 2) return output;
        var flat = output.reshape(output.shape[0], -1);
        output.Dispose();
        return flat;
    }

    public ArgumentException UnknownLayer(string layer) => ModelLayers.UnknownLayer(Name, layer, Layers);

    public IReadOnlyList<ParameterizedLayer> ParameterizedLayers() => _module.ParameterizedLayers();

    public void Dispose()
    {
        _fast?.Dispose();
        _module.Dispose();
    }

    /// <summary>The largest input side this importer accepts: a probe forward runs at the model's input size, and a
    /// corrupt or hostile file that declares 100000x100000 would ask for tens of gigabytes.</summary>
    public const long MaxInputSide = 4096;

    /// <summary>Every fixed dimension of the image input must make sense before anything is allocated for it: a
    /// positive batch, 1 (grayscale) or 3 (colour) channels, and a spatial size from 8 to <see cref="MaxInputSide"/>.</summary>
    private static void ValidateInputShape(string path, OnnxValueInfo input)
    {
        // Frames are fed as float32 (normalised pixels); ONNX Runtime would refuse any other type with its own words.
        if (input.ElementType is not (OnnxDataType.Float or OnnxDataType.Undefined))
            throw new ModelLoadException(path, $"its input '{input.Name}' takes {TypeName(input.ElementType)} values, but frames are fed as float32: export the model with a float input (the normalisation in the graph or in its metadata)");
        string[] names = ["batch", "channels", "height", "width"];
        for (int i = 0; i < 4; i++)
            if (input.Shape[i] is long d && d <= 0)
                throw new ModelLoadException(path, $"its input '{input.Name}' {Shape(input)} declares {names[i]} {d}: a dimension must be positive (or symbolic)");
        if (input.Shape[1] is long c && c is not (1 or 3))
            throw new ModelLoadException(path, $"its input '{input.Name}' {Shape(input)} takes {c} channels: only grayscale (1) and colour (3) images can be fed to it");
        for (int i = 2; i < 4; i++)
            if (input.Shape[i] is long side && (side < 8 || side > MaxInputSide))
                throw new ModelLoadException(path, $"its input '{input.Name}' {Shape(input)} declares {names[i]} {side}: the importer takes 8 to {MaxInputSide} pixels");
    }

    /// <summary>[N, 3, 224, 224]: the declared shape, symbolic dimensions by a letter.</summary>
    private static string Shape(OnnxValueInfo input) =>
        $"[{string.Join(", ", input.Shape.Select(d => d is long v ? v.ToString(System.Globalization.CultureInfo.InvariantCulture) : "N"))}]";

    private static string TypeName(OnnxDataType type) => type switch
    {
        OnnxDataType.UInt8 => "uint8", OnnxDataType.Int8 => "int8", OnnxDataType.UInt16 => "uint16", OnnxDataType.Int16 => "int16",
        OnnxDataType.Int32 => "int32", OnnxDataType.Int64 => "int64", OnnxDataType.Float16 => "float16", OnnxDataType.Double => "float64",
        OnnxDataType.UInt32 => "uint32", OnnxDataType.UInt64 => "uint64", OnnxDataType.Bool => "bool", OnnxDataType.String => "string",
        _ => $"type-{(int)type}",
    };

    private static PreprocessSpec DefaultPreprocess(OnnxValueInfo input)
    {
        int h = input.Shape.Count == 4 && input.Shape[2] is long hh ? (int)hh : 224;
        int w = input.Shape.Count == 4 && input.Shape[3] is long ww ? (int)ww : 224;
        return PreprocessSpec.ImageNet with { Width = w, Height = h };
    }

    /// <summary>One forward at the model's input size records the shape of every value (layers, output).</summary>
    private static (List<LayerInfo> Layers, List<LayerInfo> AllValues, long[] OutputShape, Dictionary<string, ScalarType> Types) Probe(
        OnnxGraphModule module, string path, long channels, PreprocessSpec spec)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var shapes = new List<LayerInfo>();
        var types = new Dictionary<string, ScalarType>();
        using var x = zeros(1, channels, spec.Height, spec.Width);
        long[] outputShape;
        try
        {
            var run = module.Run(x, null, captureAsLeaf: false, observe: (name, t) =>
            {
                shapes.Add(new LayerInfo(name, t.shape));
                types[name] = t.dtype;
            });
            outputShape = run.Output.shape;
        }
        catch (Exception e) when (e is not ModelLoadException)
        {
            throw new ModelLoadException(path, $"a test forward at {spec.Width}x{spec.Height} failed ({e.Message})", e);
        }
        var layers = shapes.Where(s => s.Shape.Length == 4 && s.Shape[2] * s.Shape[3] > 1).ToList();
        return (layers, shapes, outputShape, types);
    }

    /// <summary>The last 4-D activation that a spatially pooling node reads: what Grad-CAM papers call the last conv layer.</summary>
    private static string FindDefaultLayer(OnnxGraphModule module, List<LayerInfo> layers, List<LayerInfo> allValues)
    {
        var byName = layers.ToDictionary(l => l.Name);
        var shapeOf = allValues.GroupBy(v => v.Name).ToDictionary(g => g.Key, g => g.Last().Shape);
        string? best = null;
        foreach (var (inputs, outputs) in module.Wiring)
        {
            if (outputs.Count == 0 || !shapeOf.TryGetValue(outputs[0], out var outputShape)) continue;
            bool pools = outputShape.Length == 2 || (outputShape.Length == 4 && outputShape[2] * outputShape[3] == 1);
            if (!pools) continue;
            foreach (var input in inputs)
                if (byName.ContainsKey(input)) best = input;
        }
        return best ?? layers[^1].Name;
    }

    internal static ClassLabels? FindLabelsBeside(string modelPath, IReadOnlyDictionary<string, string> metadata)
    {
        if (!metadata.TryGetValue("sacam.labels", out var text)) return null;
        var fileName = text.Split(' ')[0];
        var candidate = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(modelPath)) ?? ".", fileName);
        return File.Exists(candidate) ? ClassLabels.FromFile(candidate) : null;
    }

}
/// <summary>Shared wording for layer errors.</summary>
public static class ModelLayers
{
    public static ArgumentException UnknownLayer(string model, string layer, IReadOnlyList<LayerInfo> layers)
    {
        var list = string.Join(", ", layers.TakeLast(12).Select(l => l.ToString()));
        return new ArgumentException($"Layer '{layer}' does not exist in model '{model}' (or is not a 4-D activation). " +
            $"Candidates ({layers.Count} in all, last ones shown): {list}.");
    }
}
