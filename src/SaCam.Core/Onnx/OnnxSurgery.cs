using SaCam.Core.Onnx.Proto;

namespace SaCam.Core.Onnx;

/// <summary>
/// Rewrites of an ONNX model message for the fast engine: a symbolic batch dimension (exporters often fix it at 1,
/// which ONNX Runtime enforces, while perturbation methods run 16 images a pass), and other graph outputs (a trunk
/// that ends at a target layer), with the nodes and initializers nothing needs any more removed. The input message
/// is never changed: each rewrite works on a copy.
/// </summary>
public static class OnnxSurgery
{
    public const string BatchDimension = "batch";

    /// <summary>A copy whose graph inputs and outputs have a symbolic first dimension, and no value_info (shape hints
    /// recorded at batch 1 would contradict a larger batch; ONNX Runtime infers them again).</summary>
    public static ModelProto WithSymbolicBatch(ModelProto model)
    {
        var copy = model.Clone();
        var initializers = copy.Graph.Initializer.Select(t => t.Name).ToHashSet();
        foreach (var value in copy.Graph.Input.Where(v => !initializers.Contains(v.Name)).Concat(copy.Graph.Output))
        {
            var dims = value.Type?.TensorType?.Shape?.Dim;
            if (dims is null || dims.Count == 0) continue;
            dims[0] = new TensorShapeProto.Types.Dimension { DimParam = BatchDimension };
        }
        copy.Graph.ValueInfo.Clear();
        return copy;
    }

    /// <summary>A copy whose graph outputs are exactly <paramref name="outputs"/> (name and ONNX element type,
    /// shape left to inference), pruned to the nodes those outputs need.</summary>
    public static ModelProto WithOutputs(ModelProto model, IReadOnlyList<(string Name, int ElementType)> outputs)
    {
        var copy = model.Clone();
        var graph = copy.Graph;
        graph.Output.Clear();
        foreach (var (name, type) in outputs)
            graph.Output.Add(new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = type } } });
        var needed = outputs.Select(o => o.Name).ToHashSet();
        var kept = new List<NodeProto>();
        for (int i = graph.Node.Count - 1; i >= 0; i--)
        {
            var node = graph.Node[i];
            if (!node.Output.Any(needed.Contains)) continue;
            kept.Add(node);
            foreach (var input in node.Input) if (input.Length > 0) needed.Add(input);
        }
        kept.Reverse();
        graph.Node.Clear();
        graph.Node.Add(kept);
        var unused = graph.Initializer.Where(t => !needed.Contains(t.Name)).ToList();
        foreach (var t in unused) graph.Initializer.Remove(t);
        return copy;
    }
}
