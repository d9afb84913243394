using SaCam.Core.Onnx.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace SaCam.Core.Onnx;

/// <summary>
/// Turns an ONNX model into an <see cref="OnnxGraphModule"/>: compiles every node, and folds at import every
/// node whose inputs are all known (Constant nodes, and shape arithmetic on constants).
/// </summary>
public static class OnnxImporter
{
    public static OnnxGraphModule Import(OnnxModelProto model, string sourceName)
    {
        var graph = model.Graph;
        long opset = model.OpsetImports.TryGetValue("", out var v) ? v : 13;
        var constants = new Dictionary<string, Tensor>();
        foreach (var init in graph.Initializers) constants[init.Name] = OnnxTensors.ToTensor(init);

        var realInputs = graph.Inputs.Where(i => !constants.ContainsKey(i.Name)).ToList();
        if (realInputs.Count != 1)
            throw new ModelLoadException(sourceName, $"the graph has {realInputs.Count} inputs; an image model has exactly one");
        if (graph.Outputs.Count < 1)
            throw new ModelLoadException(sourceName, "the graph has no output");

        var nodes = new List<CompiledNode>();
        foreach (var node in graph.Nodes)
        {
            IOnnxOp op;
            try
            {
                op = OnnxOpRegistry.Compile(new OpContext(node, opset, name => constants.GetValueOrDefault(name)));
            }
            catch (UnsupportedOnnxException e)
            {
                throw new ModelLoadException(sourceName, e.Message, e);
            }
            if (IsFoldable(node, constants))
            {
                using var noGrad = no_grad();
                var outputs = op.Run(node.Inputs.Select(n => n.Length == 0 ? null : constants[n]).ToList());
                for (int o = 0; o < node.Outputs.Count && o < outputs.Length; o++) constants[node.Outputs[o]] = outputs[o];
                continue;
            }
            nodes.Add(new CompiledNode(node.DisplayName, node.OpType, node.Inputs, node.Outputs, op));
        }
        // Keep only the constants that the remaining nodes read.
        var read = nodes.SelectMany(n => n.Inputs).ToHashSet();
        foreach (var name in constants.Keys.Where(k => !read.Contains(k)).ToList())
        {
            constants[name].Dispose();
            constants.Remove(name);
        }
        return new OnnxGraphModule(graph.Name.Length > 0 ? graph.Name : "onnx", realInputs[0].Name, graph.Outputs[0].Name, nodes, constants);
    }

    private static bool IsFoldable(OnnxNodeProto node, Dictionary<string, Tensor> constants) =>
        node.Inputs.All(n => n.Length == 0 || constants.ContainsKey(n));
}
