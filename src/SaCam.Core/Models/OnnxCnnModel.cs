using SaCam.Core.Onnx;
using SaCam.Core.Preprocessing;
using TorchSharp;
using static TorchSharp.torch;

namespace SaCam.Core.Models;

/// <summary>An ONNX CNN imported into TorchSharp. Target layers are ONNX tensor names.</summary>
public sealed class OnnxCnnModel : IExplainableModel, Methods.IHasInputChannels, IHasParameterizedLayers
{
    private readonly OnnxGraphModule _module;
    private readonly bool _outputIsPooledMap;

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

    /// <summary>Loads an .onnx file. Labels: <paramref name="labelsPath"/>, else a file named by metadata
    /// <c>sacam.labels</c> beside the model, else none.</summary>
    public static OnnxCnnModel Load(string path, Device? device = null, string? labelsPath = null)
    {
        NativeRuntime.Configure();
        var proto = OnnxFileReader.Read(path);
        var module = ModuleOwnership.DetachFromCallerScope(OnnxImporter.Import(proto, path));
        var graphInput = proto.Graph.Inputs.First(i => i.Name == module.InputName);
        var preprocess = PreprocessSpec.FromMetadata(proto.MetadataProps, DefaultPreprocess(graphInput));
        if (graphInput.Shape.Count != 4)
            throw new ModelLoadException(path, $"it is not a CNN: its input '{graphInput.Name}' has rank {graphInput.Shape.Count}, an image model takes [N, C, H, W]");
        ValidateInputShape(path, graphInput);
        long channels = graphInput.Shape[1] ?? 3;
        preprocess = preprocess with { InputChannels = (int)channels };

        module.eval();
        var (layers, allValues, outputShape) = Probe(module, path, channels, preprocess);
        if (layers.Count == 0)
            throw new ModelLoadException(path, "it is not a CNN: no intermediate tensor is a 4-D activation with a spatial size above 1x1");
        string defaultLayer = proto.MetadataProps.TryGetValue("sacam.target_layer", out var named) && layers.Any(l => l.Name == named)
            ? named
            : FindDefaultLayer(module, layers, allValues);

        var labels = labelsPath is not null ? ClassLabels.FromFile(labelsPath) : FindLabelsBeside(path, proto.MetadataProps);
        var dev = device ?? CPU;
        if (dev.type != DeviceType.CPU) ModuleOwnership.DetachFromCallerScope(module.to(dev));
        return new OnnxCnnModel(Path.GetFileNameWithoutExtension(path), module, preprocess, labels, layers, defaultLayer, outputShape, dev)
        {
            InputChannels = channels,
        };
    }

    public CapturedForward ForwardWithActivation(Tensor input, string layer)
    {
        if (!Layers.Any(l => l.Name == layer)) throw UnknownLayer(layer);
        var run = _module.Run(input, layer, captureAsLeaf: true);
        return new CapturedForward(Flatten(run.Output), run.Captured!);
    }

    public Tensor Predict(Tensor input) => Flatten(_module.Run(input, null, false).Output);

    private Tensor Flatten(Tensor output)
    {
        if (output.dim() == 2) return output;
        var flat = output.reshape(output.shape[0], -1);
        output.Dispose();
        return flat;
    }

    public ArgumentException UnknownLayer(string layer) => ModelLayers.UnknownLayer(Name, layer, Layers);

    public IReadOnlyList<ParameterizedLayer> ParameterizedLayers() => _module.ParameterizedLayers();

    public void Dispose() => _module.Dispose();

    /// <summary>The largest input side this importer accepts: a probe forward runs at the model's input size, and a
    /// corrupt or hostile file that declares 100000x100000 would ask for tens of gigabytes.</summary>
    public const long MaxInputSide = 4096;

    /// <summary>Every fixed dimension of the image input must make sense before anything is allocated for it: a
    /// positive batch, 1 (grayscale) or 3 (colour) channels, and a spatial size from 8 to <see cref="MaxInputSide"/>.</summary>
    private static void ValidateInputShape(string path, OnnxValueInfo input)
    {
        string[] names = ["batch", "channels", "height", "width"];
        for (int i = 0; i < 4; i++)
            if (input.Shape[i] is long d && d <= 0)
                throw new ModelLoadException(path, $"its input '{input.Name}' declares {names[i]} {d}: a dimension must be positive (or symbolic)");
        if (input.Shape[1] is long c && c is not (1 or 3))
            throw new ModelLoadException(path, $"its input '{input.Name}' takes {c} channels: only grayscale (1) and colour (3) images can be fed to it");
        for (int i = 2; i < 4; i++)
            if (input.Shape[i] is long side && (side < 8 || side > MaxInputSide))
                throw new ModelLoadException(path, $"its input '{input.Name}' declares {names[i]} {side}: the importer takes 8 to {MaxInputSide} pixels");
    }

    private static PreprocessSpec DefaultPreprocess(OnnxValueInfo input)
    {
        int h = input.Shape.Count == 4 && input.Shape[2] is long hh ? (int)hh : 224;
        int w = input.Shape.Count == 4 && input.Shape[3] is long ww ? (int)ww : 224;
        return PreprocessSpec.ImageNet with { Width = w, Height = h };
    }

    /// <summary>One forward at the model's input size records the shape of every value (layers, output).</summary>
    private static (List<LayerInfo> Layers, List<LayerInfo> AllValues, long[] OutputShape) Probe(OnnxGraphModule module, string path, long channels, PreprocessSpec spec)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var shapes = new List<LayerInfo>();
        using var x = zeros(1, channels, spec.Height, spec.Width);
        long[] outputShape;
        try
        {
            var run = module.Run(x, null, captureAsLeaf: false, observe: (name, t) => shapes.Add(new LayerInfo(name, t.shape)));
            outputShape = run.Output.shape;
        }
        catch (Exception e) when (e is not ModelLoadException)
        {
            throw new ModelLoadException(path, $"a test forward at {spec.Width}x{spec.Height} failed ({e.Message})", e);
        }
        var layers = shapes.Where(s => s.Shape.Length == 4 && s.Shape[2] * s.Shape[3] > 1).ToList();
        return (layers, shapes, outputShape);
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

    private static ClassLabels? FindLabelsBeside(string modelPath, IReadOnlyDictionary<string, string> metadata)
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
