using SaCam.Core.Methods;
using SaCam.Core.Preprocessing;
using TorchSharp;
using static TorchSharp.torch;

namespace SaCam.Core.Models;

/// <summary>
/// A TorchSharp module (a TorchVision .NET architecture, or any CNN module) as an explainable model. Target layers
/// are named submodules (state-dict names: "layer4", "features"); a forward hook swaps the layer's output for a
/// grad-requiring leaf while the explainer runs, and is removed right after, so the user's module is left as it was.
/// </summary>
public sealed class TorchVisionModel : IExplainableModel, IHasInputChannels, IHasParameterizedLayers
{
    private readonly nn.Module<Tensor, Tensor> _module;
    private readonly Dictionary<string, nn.Module<Tensor, Tensor>> _hookable;

    public TorchVisionModel(string name, nn.Module<Tensor, Tensor> module, PreprocessSpec preprocess, string? defaultLayer = null,
        ClassLabels? labels = null, Device? device = null)
    {
        Name = name;
        Device = device ?? CPU;
        _module = ModuleOwnership.DetachFromCallerScope(module);
        if (Device.type != DeviceType.CPU) ModuleOwnership.DetachFromCallerScope(_module.to(Device));
        _module.eval();
        Preprocess = preprocess;
        Labels = labels;
        _hookable = _module.named_modules()
            .Where(m => m.name.Length > 0 && m.module is nn.Module<Tensor, Tensor>)
            .ToDictionary(m => m.name, m => (nn.Module<Tensor, Tensor>)m.module);
        (Layers, OutputSize) = Probe();
        if (Layers.Count == 0)
            throw new ModelLoadException(name, "it is not a CNN: no submodule produces a 4-D activation with a spatial size above 1x1");
        DefaultLayer = defaultLayer is not null && Layers.Any(l => l.Name == defaultLayer) ? defaultLayer : Layers[^1].Name;
    }

    public string Name { get; }
    public Device Device { get; }
    public PreprocessSpec Preprocess { get; set; }
    public ClassLabels? Labels { get; set; }
    public OutputKind OutputKind => OutputKind.Logits;
    public long OutputSize { get; }
    public long InputChannels => 3;
    public string DefaultLayer { get; }
    public IReadOnlyList<LayerInfo> Layers { get; }
    public nn.Module Module => _module;

    public CapturedForward ForwardWithActivation(Tensor input, string layer)
    {
        if (!_hookable.TryGetValue(layer, out var target) || !Layers.Any(l => l.Name == layer))
            throw ModelLayers.UnknownLayer(Name, layer, Layers);
        // TorchVision's forward runs in dispose scopes of its own (and disposes its intermediates), and the hook runs
        // inside them: the leaf is detached from those scopes, then re-homed with the output in the caller's scope.
        Tensor? captured = null;
        using var call = NewDisposeScope();
        var hook = target.register_forward_hook((_, _, output) =>
        {
            captured = output.detach().requires_grad_(true).DetachFromDisposeScope();
            return captured.alias();
        });
        Tensor result;
        try
        {
            result = _module.call(input);
        }
        finally
        {
            hook.remove();
        }
        if (captured is null)
            throw new InvalidOperationException($"Layer '{layer}' of model '{Name}' did not run in the forward pass (its parent calls forward() directly, bypassing hooks).");
        call.Attach(captured);
        call.MoveToOuter(result, captured);
        return new CapturedForward(result, captured);
    }

    public Tensor Predict(Tensor input) => _module.call(input);

    /// <summary>Leaf modules with parameters, in definition order (the execution order of torchvision's CNNs).</summary>
    /// <summary>TorchSharp runs every pass of a torchvision model: nothing else holds its weights.</summary>
    public IDisposable BeginParameterEdit() => NoEngineToSuspend.Instance;

    private sealed class NoEngineToSuspend : IDisposable
    {
        public static readonly NoEngineToSuspend Instance = new();
        public void Dispose() { }
    }

    public IReadOnlyList<ParameterizedLayer> ParameterizedLayers() => _module.named_modules()
        .Where(m => m.name.Length > 0 && !m.module.children().Any())
        .Select(m => new ParameterizedLayer(m.name, m.module.parameters(recurse: false).ToList()))
        .Where(l => l.Parameters.Count > 0)
        .ToList();

    public void Dispose() => _module.Dispose();

    /// <summary>One forward at the input size with a hook on every submodule: which ones give 4-D maps, in order of completion.</summary>
    private (List<LayerInfo>, long) Probe()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var seen = new List<LayerInfo>();
        var hooks = _hookable.Select(kv => kv.Value.register_forward_hook((_, _, output) =>
        {
            if (output.dim() == 4 && output.shape[2] * output.shape[3] > 1 && !seen.Any(s => s.Name == kv.Key))
                seen.Add(new LayerInfo(kv.Key, output.shape));
            return output;
        })).ToList();
        try
        {
            using var x = zeros(1, 3, Preprocess.Height, Preprocess.Width, device: Device);
            var output = _module.call(x);
            if (output.dim() != 2) throw new ModelLoadException(Name, $"its output has shape [{string.Join(", ", output.shape)}]; a classifier returns [N, classes]");
            return (seen, output.shape[1]);
        }
        finally
        {
            foreach (var h in hooks) h.remove();
        }
    }
}
