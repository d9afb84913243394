using SaCam.Core.Engines;
using SaCam.Core.Models;
using SaCam.Core.Onnx;
using SaCam.Core.Preprocessing;
using TorchSharp;
using static TorchSharp.torch;

namespace SaCam.Core.Tasks;

/// <summary>
/// A segmenter, detector or regressor described by a <see cref="ModelCard"/>, run on ONNX Runtime alone: every
/// forward pass, with the target layer's activation taken from the same run. Perturbation methods (Score-CAM,
/// Group-CAM, SA-CAM, sacam-rt) need nothing else, so any graph ONNX Runtime runs can be explained. Gradient methods
/// need the graph in TorchSharp; where the importer lacks an op the graph uses, they are refused in one line that
/// names the ops and the methods that work.
/// </summary>
public sealed class OnnxTaskModel : IExplainableModel
{
    private readonly OnnxRuntimeEngine _engine;
    private readonly IReadOnlyList<string> _outputs;
    private readonly DetectionDecoder? _decoder;
    private readonly Tensor? _anchors;
    private readonly IReadOnlyList<string> _unsupportedOps;
    private OnnxGraphModule? _graph;
    private HeadPlan? _head;
    private string? _gradientNote;

    private OnnxTaskModel(string name, ModelCard card, OnnxRuntimeEngine engine, PreprocessSpec preprocess, IReadOnlyList<string> outputs,
        DetectionDecoder? decoder, Tensor? anchors, IReadOnlyList<string> unsupportedOps, Device device)
    {
        Name = name;
        Card = card;
        _engine = engine;
        Preprocess = preprocess;
        _outputs = outputs;
        _decoder = decoder;
        _anchors = anchors;
        _unsupportedOps = unsupportedOps;
        Device = device;
        OutputKind = card.Task switch
        {
            ModelTask.Segmentation => OutputKind.Segmentation,
            ModelTask.Detection => OutputKind.Detection,
            _ => OutputKind.Raw,
        };
    }

    public string Name { get; }
    public ModelCard Card { get; }
    public Device Device { get; }
    public PreprocessSpec Preprocess { get; set; }
    public ClassLabels? Labels { get; set; }
    public OutputKind OutputKind { get; }
    public long OutputSize { get; private set; }
    public string DefaultLayer { get; private set; } = "";
    public IReadOnlyList<LayerInfo> Layers { get; private set; } = [];
    public DetectionDecoder? Decoder => _decoder;

    /// <summary>The output shapes a probe forward at the input size gave, by name.</summary>
    public IReadOnlyDictionary<string, long[]> OutputShapes { get; private set; } = new Dictionary<string, long[]>();

    /// <summary>The ONNX ops of the graph TorchSharp's importer lacks (why gradient methods are not available).</summary>
    public IReadOnlyList<string> UnsupportedOps => _unsupportedOps;

    public nn.Module Module => _graph ?? throw new NotSupportedException(
        $"Model '{Name}' runs on ONNX Runtime only ({GradientNote}): checks that edit its parameters (sanity) do not apply.");

    /// <summary>Loads <paramref name="path"/> as <paramref name="card"/> says. <paramref name="layer"/>: the target layer
    /// (default: the card's, else the metadata's <c>sacam.target_layer</c>).</summary>
    public static OnnxTaskModel Load(string path, ModelCard card, Device? device = null, int? threads = null, string? layer = null)
    {
        if (card.Task == ModelTask.Classification) throw new ArgumentException("A classifier loads as an OnnxCnnModel.");
        var message = OnnxFileReader.ReadMessage(path);
        var proto = OnnxFileReader.Map(message);
        var initializers = proto.Graph.Initializers.Select(i => i.Name).ToHashSet();
        var inputs = proto.Graph.Inputs.Where(i => !initializers.Contains(i.Name)).ToList();
        if (inputs.Count != 1) throw new ModelLoadException(path, $"the graph has {inputs.Count} inputs; an image model has exactly one");
        var input = inputs[0];
        if (input.Shape.Count != 4) throw new ModelLoadException(path, $"its input '{input.Name}' has rank {input.Shape.Count}, an image model takes [N, C, H, W]");
        if (input.ElementType is not (OnnxDataType.Float or OnnxDataType.Undefined))
            throw new ModelLoadException(path, $"its input '{input.Name}' does not take float32 values, but frames are fed as float32");
        if (proto.Graph.Outputs.Count == 0) throw new ModelLoadException(path, "the graph has no output");
        int h = input.Shape[2] is long hh ? (int)hh : 224, w = input.Shape[3] is long ww ? (int)ww : 224;
        long channels = input.Shape[1] ?? 3;
        var preprocess = PreprocessSpec.FromMetadata(proto.MetadataProps, PreprocessSpec.ImageNet with { Width = w, Height = h });
        if (card.Preprocess is not null) preprocess = card.Preprocess.Apply(preprocess);
        preprocess = preprocess with { InputChannels = (int)channels };

        string targetLayer = layer ?? card.TargetLayer ?? proto.MetadataProps.GetValueOrDefault("sacam.target_layer")
            ?? throw new ModelCardException(card.Source, "it names no target layer: give \"target_layer\" (a 4-D activation, e.g. the backbone's last features) or --layer");
        var valueNames = proto.Graph.Nodes.SelectMany(n => n.Outputs).ToHashSet();
        if (!valueNames.Contains(targetLayer))
            throw new ArgumentException($"Layer '{targetLayer}' is not a value of model '{Path.GetFileName(path)}' (name an output of one of its nodes).");
        var graphOutputs = proto.Graph.Outputs.Select(o => o.Name).ToList();
        foreach (var named in new[] { card.Output, card.Detection?.Boxes, card.Detection?.Scores, card.Detection?.Anchors })
            if (named is not null && !graphOutputs.Contains(named) && !valueNames.Contains(named))
                throw new ModelCardException(card.Source, $"it names output '{named}', which model '{Path.GetFileName(path)}' does not have (its outputs: {string.Join(", ", graphOutputs)})");
        var unsupported = proto.Graph.Nodes.Select(n => n.OpType).Distinct().Where(op => !OnnxOpRegistry.SupportedOps.Contains(op)).Order().ToList();

        var dev = device ?? CPU;
        var engine = new OnnxRuntimeEngine(message, input.Name, graphOutputs[0], new Dictionary<string, ScalarType>(), dev, threads ?? EngineOptions.DefaultThreads);
        try
        {
            using var probe = zeros(1, channels, preprocess.Height, preprocess.Width);
            Tensor? anchors = null;
            if (card.Detection is { Format: DetectionFormat.Ssd } ssd)
            {
                if (ssd.AnchorsFile is not null) anchors = Tensors.NpyFile.Read(card.Resolve(ssd.AnchorsFile)).to_type(ScalarType.Float32);
                else
                {
                    var values = engine.Values(probe, [ssd.Anchors!]);
                    anchors = values[ssd.Anchors!];
                    if (anchors.dim() == 3) anchors = anchors[0];
                }
            }
            anchors = anchors?.DetachFromDisposeScope(); // the model owns them until it is disposed
            var decoder = card.Detection is null ? null : new DetectionDecoder(card.Detection, preprocess.Width, preprocess.Height, anchors);
            var outputs = decoder?.Outputs(graphOutputs[0]) ?? [card.Output ?? graphOutputs[0]];
            var model = new OnnxTaskModel(Path.GetFileNameWithoutExtension(path), card, engine, preprocess, outputs, decoder, anchors, unsupported, dev);
            try
            {
                model.Labels = card.LoadLabels();
                model.Probe(probe, targetLayer);
                // Without labels in the card, a file the model's metadata names beside it (sacam.labels), as for
                // classifiers. Fewer lines than classes name the last classes: the first are unlabelled (a detector's
                // background column, as TensorFlow's 1001-class models keep class 0).
                if (model.Labels is null && OnnxCnnModel.FindLabelsBeside(path, proto.MetadataProps) is { } beside && beside.Count <= model.OutputSize)
                    model.Labels = beside.WithOffset((int)model.OutputSize - beside.Count);
                model.AttachGradientHead(proto, path, channels);
            }
            catch
            {
                model.Dispose();
                throw;
            }
            return model;
        }
        catch
        {
            engine.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Imports the graph into TorchSharp for gradients through the head (the nodes after the target layer, fed by
    /// ONNX Runtime's values at the split, as <see cref="OnnxCnnModel"/> does for classifiers), if the importer takes
    /// every op and the head computes every output the card reads. The head must agree with ONNX Runtime on a probe
    /// input (within 1e-4 of the outputs' scale); otherwise gradient methods are refused, saying why.
    /// </summary>
    private void AttachGradientHead(OnnxModelProto proto, string path, long channels)
    {
        if (_unsupportedOps.Count > 0) return;
        OnnxGraphModule graph;
        try
        {
            graph = ModuleOwnership.DetachFromCallerScope(OnnxImporter.Import(proto, path));
        }
        catch (ModelLoadException e)
        {
            _gradientNote = $"TorchSharp's importer cannot take it: {e.Message}";
            return;
        }
        graph.eval();
        if (Device.type != DeviceType.CPU) ModuleOwnership.DetachFromCallerScope(graph.to(Device));
        var plan = graph.PlanHead(DefaultLayer, _outputs);
        if (plan is null)
        {
            graph.Dispose();
            _gradientNote = $"not every output it reads ({string.Join(", ", _outputs)}) depends on layer '{DefaultLayer}'";
            return;
        }
        (_graph, _head) = (graph, plan);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = randn([1, channels, Preprocess.Height, Preprocess.Width], generator: new Generator(11)).to(Device);
        var fast = Predict(x);
        var head = HeadForward(x, DefaultLayer, requireGrad: false).Output;
        double diff = (fast - head).abs().max().item<float>(), scale = Math.Max(1, fast.abs().max().item<float>());
        if (diff > 1e-4 * scale)
        {
            (_graph, _head) = (null, null);
            graph.Dispose();
            _gradientNote = $"its TorchSharp head and ONNX Runtime disagree (outputs differ by up to {diff:G3})";
        }
    }

    /// <summary>True when gradient methods can run: the head is in TorchSharp and agrees with ONNX Runtime.</summary>
    public bool HasGradients => _head is not null;

    /// <summary>Times one gradient pass as a gradient method runs it (the trunk on ONNX Runtime, the head forward and
    /// backward in TorchSharp) on a fixed random input, in milliseconds: what <see cref="NativeRuntime.TuneFor"/>
    /// compares libtorch's thread counts by.</summary>
    internal double TimeGradientPass()
    {
        if (!HasGradients) throw new InvalidOperationException($"Model '{Name}' has no gradient pass ({GradientNote}).");
        using var scope = NewDisposeScope();
        using var grad = enable_grad();
        var x = randn([1, Preprocess.InputChannels, Preprocess.Height, Preprocess.Width], generator: new Generator(11)).to(Device);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var forward = HeadForward(x, DefaultLayer, requireGrad: true);
        autograd.grad([forward.Output.sum()], [forward.Activation])[0].sum().item<float>();
        return clock.Elapsed.TotalMilliseconds;
    }

    /// <summary>The trunk on ONNX Runtime up to the split, the head in TorchSharp from a leaf at the layer.</summary>
    private CapturedForward HeadForward(Tensor input, string layer, bool requireGrad)
    {
        var values = new Dictionary<string, Tensor>(_engine.Values(input, _head!.Boundary));
        var leaf = values[layer].requires_grad_(requireGrad);
        values[layer] = leaf;
        var outputs = _graph!.RunHead(_head, values, _outputs);
        return new CapturedForward(Pack(outputs), leaf);
    }

    /// <summary>The whole graph in TorchSharp, the layer captured as a leaf: what head-only gradients must equal (the
    /// parity tests compare them). Not used to explain: the trunk on ONNX Runtime is the fast way to the same values.</summary>
    internal CapturedForward ForwardThroughWholeGraph(Tensor input, string layer)
    {
        if (_graph is null) throw new InvalidOperationException($"Model '{Name}' has no TorchSharp graph ({GradientNote}).");
        var values = new Dictionary<string, Tensor>();
        var run = _graph.Run(input, layer, captureAsLeaf: true, observe: (name, t) => { if (_outputs.Contains(name)) values[name] = t.alias(); }); // an alias: the run frees outputs nobody reads
        return new CapturedForward(Pack(values), run.Captured!);
    }

    private void Probe(Tensor x, string layer)
    {
        using var scope = NewDisposeScope();
        var values = _engine.Values(x, [layer, .. _outputs]);
        OutputShapes = _outputs.ToDictionary(o => o, o => values[o].shape);
        var activation = values[layer];
        if (activation.dim() != 4 || activation.shape[2] * activation.shape[3] <= 1)
            throw new ArgumentException($"Layer '{layer}' of model '{Name}' is [{string.Join(", ", activation.shape)}]: a target layer is a 4-D activation [N, C, H, W] with a spatial size.");
        Layers = [new LayerInfo(layer, activation.shape)];
        DefaultLayer = layer;
        var output = Pack(values);
        if (OutputKind == OutputKind.Segmentation && output.dim() != 4)
            throw new ArgumentException($"Output '{_outputs[0]}' of model '{Name}' is [{string.Join(", ", output.shape)}]: a segmenter's output is per-pixel logits [N, C, H, W].");
        OutputSize = OutputKind switch
        {
            OutputKind.Segmentation => output.shape[1],
            OutputKind.Detection => output.shape[2] - 4,
            _ => output.shape[1],
        };
        if (Labels is not null && OutputKind != OutputKind.Raw && Labels.Count + Labels.Offset != OutputSize)
            throw new ArgumentException($"Model '{Name}' has {OutputSize} classes but its card's labels name {Labels.Count}{(Labels.Offset > 0 ? $" from class {Labels.Offset}" : "")}.");
    }

    private Tensor Pack(IReadOnlyDictionary<string, Tensor> values)
    {
        var raw = _outputs.Select(o => values[o]).ToList();
        return OutputKind switch
        {
            OutputKind.Detection => _decoder!.Pack(raw, Labels is null ? null : Labels.Count + Labels.Offset),
            OutputKind.Segmentation => raw[0],
            _ => raw[0].reshape(raw[0].shape[0], -1),
        };
    }

    /// <summary>Why gradient methods cannot run (null when they can).</summary>
    public string? GradientNote => HasGradients ? null : _unsupportedOps.Count > 0
        ? $"TorchSharp's importer lacks op{(_unsupportedOps.Count > 1 ? "s" : "")} {string.Join(", ", _unsupportedOps)}"
        : _gradientNote ?? "its graph is not in TorchSharp";

    public CapturedForward ForwardWithActivation(Tensor input, string layer)
    {
        if (layer != DefaultLayer) throw ModelLayers.UnknownLayer(Name, layer, Layers);
        if (is_grad_enabled())
        {
            if (!HasGradients)
                throw new ArgumentException($"Gradient methods cannot explain model '{Name}' ({GradientNote}): use a method that needs no gradients: {string.Join(", ", Methods.MethodRegistry.GradientFree)}.");
            return HeadForward(input, layer, requireGrad: true);
        }
        var values = _engine.Values(input, [layer, .. _outputs]);
        return new CapturedForward(Pack(values), values[layer]);
    }

    public Tensor Predict(Tensor input) => Pack(_engine.Values(input, _outputs));

    public void Dispose()
    {
        _graph?.Dispose();
        _anchors?.Dispose();
        _engine.Dispose();
    }
}
