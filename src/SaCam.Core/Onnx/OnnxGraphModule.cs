using SaCam.Core.Onnx.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace SaCam.Core.Onnx;

/// <summary>
/// An ONNX graph as a TorchSharp module. Nodes run in the file's (topological) order as compiled ops; weights are
/// registered parameters (requires_grad off), so the module moves with <c>.to(device)</c> and autograd flows
/// through every op. Any intermediate tensor can be captured by its ONNX name.
/// </summary>
public sealed class OnnxGraphModule : nn.Module<Tensor, Tensor>
{
    private readonly IReadOnlyList<CompiledNode> _nodes;
    private readonly Dictionary<string, string> _registeredNameOf; // ONNX value name -> parameter/buffer name
    private readonly HashSet<string> _bufferNames = [];               // registered names that are buffers, not parameters
    private readonly HashSet<string> _keepAlive;

    internal OnnxGraphModule(string name, string inputName, string outputName, IReadOnlyList<CompiledNode> nodes,
        IReadOnlyDictionary<string, Tensor> constants) : base(name)
    {
        InputName = inputName;
        OutputName = outputName;
        _nodes = nodes;
        _registeredNameOf = new Dictionary<string, string>();
        var used = new HashSet<string>();
        foreach (var (onnxName, value) in constants)
        {
            string registered = UniqueName(onnxName, used);
            if (value.is_floating_point())
                register_parameter(registered, new TorchSharp.Modules.Parameter(value, requires_grad: false));
            else
            {
                register_buffer(registered, value);
                _bufferNames.Add(registered);
            }
            _registeredNameOf[onnxName] = registered;
        }
        _keepAlive = [inputName, outputName];
        ComputeLastUses();
    }

    public string InputName { get; }
    public string OutputName { get; }

    /// <summary>The ONNX names of every value a node produces, in execution order.</summary>
    public IEnumerable<string> ValueNames => _nodes.SelectMany(n => n.Outputs);

    private static readonly HashSet<string> LayersWithWeights = ["Conv", "Gemm", "MatMul", "BatchNormalization"];

    /// <summary>The layers with learned weights (Conv, Gemm, MatMul, BatchNormalization), in execution order, with
    /// their parameters. Constants such as Clip's bounds are parameters of the module but not of any layer.</summary>
    public IReadOnlyList<Models.ParameterizedLayer> ParameterizedLayers()
    {
        var parameters = named_parameters(recurse: false).ToDictionary(p => p.name, p => p.parameter);
        var layers = new List<Models.ParameterizedLayer>();
        foreach (var node in _nodes.Where(n => LayersWithWeights.Contains(n.OpType)))
        {
            var own = node.Inputs.Where(i => _registeredNameOf.TryGetValue(i, out var r) && parameters.ContainsKey(r))
                .Select(i => parameters[_registeredNameOf[i]]).ToList();
            if (own.Count > 0) layers.Add(new Models.ParameterizedLayer(node.Name, own));
        }
        return layers;
    }

    /// <summary>Each compiled node's input and output names, in execution order.</summary>
    internal IEnumerable<(IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs)> Wiring => _nodes.Select(n => (n.Inputs, n.Outputs));

    public override Tensor forward(Tensor input) => Run(input, captureLayer: null, captureAsLeaf: false).Output;

    /// <summary>
    /// Runs the graph. With <paramref name="captureLayer"/> set, also returns that intermediate tensor. With
    /// <paramref name="captureAsLeaf"/>, the captured tensor is replaced by a detached leaf that requires grad
    /// and the rest of the graph runs from it: gradients with respect to the layer then cost only the part of
    /// the backward pass above it, and never touch the parameters.
    /// </summary>
    internal GraphRun Run(Tensor input, string? captureLayer, bool captureAsLeaf, Action<string, Tensor>? observe = null)
    {
        var values = new Dictionary<string, Tensor>(ConstantsOnCurrentDevice()) { [InputName] = input };
        Tensor? captured = null;
        if (captureLayer == InputName) captured = Capture(InputName);
        var args = new List<Tensor?>(4);
        for (int i = 0; i < _nodes.Count; i++)
        {
            var node = _nodes[i];
            args.Clear();
            foreach (var name in node.Inputs) args.Add(name.Length == 0 ? null : values[name]);
            var outputs = node.Op.Run(args);
            for (int o = 0; o < node.Outputs.Count && o < outputs.Length; o++)
            {
                values[node.Outputs[o]] = outputs[o];
                observe?.Invoke(node.Outputs[o], outputs[o]);
                if (node.Outputs[o] == captureLayer) captured = Capture(captureLayer);
            }
            foreach (var dead in node.FreeAfter)
            {
                if (_keepAlive.Contains(dead) || dead == captureLayer) continue;
                if (values.Remove(dead, out var t)) t.Dispose();
            }
        }
        return new GraphRun(values[OutputName], captured);

        Tensor Capture(string name)
        {
            if (!captureAsLeaf) return values[name];
            var leaf = values[name].detach().requires_grad_(true);
            if (name != InputName) values[name].Dispose();
            values[name] = leaf;
            return leaf;
        }
    }

    /// <summary>
    /// The split of the graph at <paramref name="layer"/> for head-only gradients: the head is every node that
    /// depends on the layer (directly or through other head nodes); the boundary is what the head reads from outside
    /// itself (the layer, and values such as a skip connection's that cross the split), constants excepted. Given
    /// the boundary values, <see cref="RunHead"/> computes the output exactly as a full run would, and dScore/dLayer
    /// through the head alone is the full model's gradient: nothing upstream depends on the layer. Null when the
    /// layer is the input (there is no trunk to run elsewhere) or the output does not depend on the layer.
    /// </summary>
    public HeadPlan? PlanHead(string layer) => PlanHead(layer, [OutputName]);

    /// <summary>The same split for a head that must compute every one of <paramref name="outputs"/> (a detector's boxes
    /// and scores); null when one of them does not depend on the layer.</summary>
    public HeadPlan? PlanHead(string layer, IReadOnlyList<string> outputs)
    {
        if (layer == InputName) return null;
        var produced = new HashSet<string> { layer };
        var head = new List<int>();
        for (int i = 0; i < _nodes.Count; i++)
        {
            if (!_nodes[i].Inputs.Any(produced.Contains)) continue;
            head.Add(i);
            foreach (var o in _nodes[i].Outputs) produced.Add(o);
        }
        if (!outputs.All(produced.Contains)) return null;
        var boundary = new List<string> { layer };
        var constants = new List<string>();
        foreach (int i in head)
            foreach (var input in _nodes[i].Inputs)
            {
                if (input.Length == 0 || produced.Contains(input) || boundary.Contains(input) || constants.Contains(input)) continue;
                if (_registeredNameOf.ContainsKey(input)) constants.Add(input);
                else boundary.Add(input);
            }
        return new HeadPlan(layer, boundary, head, constants);
    }

    /// <summary>Runs only the head of <paramref name="plan"/>, from its boundary values (the layer's should be a
    /// leaf that requires grad), and returns the output.</summary>
    internal Tensor RunHead(HeadPlan plan, IReadOnlyDictionary<string, Tensor> boundary) => RunHead(plan, boundary, [OutputName])[OutputName];

    /// <summary>Runs only the head and returns the named values it computed.</summary>
    internal IReadOnlyDictionary<string, Tensor> RunHead(HeadPlan plan, IReadOnlyDictionary<string, Tensor> boundary, IReadOnlyList<string> outputs)
    {
        // Only the head's own constants, looked up by name: listing all of the module's parameters costs ~1 ms a pass.
        var values = new Dictionary<string, Tensor>(plan.Constants.Count + plan.Boundary.Count + plan.Nodes.Count);
        foreach (var name in plan.Constants)
        {
            string registered = _registeredNameOf[name];
            values[name] = _bufferNames.Contains(registered) ? get_buffer(registered)! : get_parameter(registered)!;
        }
        foreach (var name in plan.Boundary) values[name] = boundary[name];
        var args = new List<Tensor?>(4);
        foreach (int i in plan.Nodes)
        {
            var node = _nodes[i];
            args.Clear();
            foreach (var name in node.Inputs) args.Add(name.Length == 0 ? null : values[name]);
            var computed = node.Op.Run(args);
            for (int o = 0; o < node.Outputs.Count && o < computed.Length; o++) values[node.Outputs[o]] = computed[o];
        }
        return outputs.ToDictionary(name => name, name => values[name]);
    }

    private Dictionary<string, Tensor> ConstantsOnCurrentDevice()
    {
        // Looked up per run: after .to(device) the registered tensors are new objects.
        var byRegistered = new Dictionary<string, Tensor>();
        foreach (var (name, p) in named_parameters(recurse: false)) byRegistered[name] = p;
        foreach (var (name, b) in named_buffers(recurse: false)) byRegistered[name] = b;
        var result = new Dictionary<string, Tensor>(_registeredNameOf.Count);
        foreach (var (onnxName, registered) in _registeredNameOf) result[onnxName] = byRegistered[registered];
        return result;
    }

    private void ComputeLastUses()
    {
        var lastUse = new Dictionary<string, int>();
        for (int i = 0; i < _nodes.Count; i++)
            foreach (var name in _nodes[i].Inputs.Where(n => n.Length > 0)) lastUse[name] = i;
        for (int i = 0; i < _nodes.Count; i++)
        {
            var free = new List<string>();
            foreach (var name in _nodes[i].Inputs.Distinct())
                if (name.Length > 0 && lastUse[name] == i && !_registeredNameOf.ContainsKey(name)) free.Add(name);
            // Outputs nobody reads (e.g. optional ones) die at once.
            foreach (var name in _nodes[i].Outputs)
                if (name.Length > 0 && !lastUse.ContainsKey(name)) free.Add(name);
            _nodes[i].FreeAfter = free;
        }
    }

    private static string UniqueName(string onnxName, HashSet<string> used)
    {
        // Module member names may not contain '.', and '/' reads badly in state dicts.
        var baseName = new string(onnxName.Select(c => char.IsLetterOrDigit(c) || c == '_' ? c : '_').ToArray());
        if (baseName.Length == 0) baseName = "value";
        var name = baseName;
        for (int k = 1; !used.Add(name); k++) name = $"{baseName}_{k}";
        return name;
    }
}

/// <summary>Where the graph is split for head-only gradients (see <see cref="OnnxGraphModule.PlanHead"/>).</summary>
public sealed record HeadPlan(string Layer, IReadOnlyList<string> Boundary, IReadOnlyList<int> Nodes, IReadOnlyList<string> Constants);

internal sealed class CompiledNode(string name, string opType, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, IOnnxOp op)
{
    public string Name { get; } = name;
    public string OpType { get; } = opType;
    public IReadOnlyList<string> Inputs { get; } = inputs;
    public IReadOnlyList<string> Outputs { get; } = outputs;
    public IOnnxOp Op { get; } = op;
    public IReadOnlyList<string> FreeAfter { get; set; } = [];
}

internal readonly record struct GraphRun(Tensor Output, Tensor? Captured);
