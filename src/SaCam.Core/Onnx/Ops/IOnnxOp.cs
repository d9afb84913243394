using static TorchSharp.torch;

namespace SaCam.Core.Onnx.Ops;

/// <summary>
/// One ONNX node compiled for execution: attributes are read once at import, Run is called per forward.
/// Inputs that the node leaves out (empty names) arrive as null.
/// </summary>
internal interface IOnnxOp
{
    Tensor[] Run(IReadOnlyList<Tensor?> inputs);
}

/// <summary>Thrown at import when a node cannot be compiled; the importer adds the file name.</summary>
public sealed class UnsupportedOnnxException : Exception
{
    public UnsupportedOnnxException(string message) : base(message) { }
}

/// <summary>What a compiler of one op may ask of the model being imported.</summary>
internal sealed class OpContext
{
    public OpContext(OnnxNodeProto node, long opset, Func<string, Tensor?> constant)
    {
        Node = node;
        Opset = opset;
        Constant = constant;
    }

    public OnnxNodeProto Node { get; }
    public long Opset { get; }

    /// <summary>The value of an input that is known at import (initializer or folded constant), else null.</summary>
    public Func<string, Tensor?> Constant { get; }

    public long Int(string name, long fallback) => Node.Attributes.TryGetValue(name, out var a) && a.Int is long v ? v : fallback;
    public float Float(string name, float fallback) => Node.Attributes.TryGetValue(name, out var a) && a.Float is float v ? v : fallback;
    public string String(string name, string fallback) => Node.Attributes.TryGetValue(name, out var a) && a.Bytes is not null ? a.AsString() : fallback;
    public long[]? Ints(string name) => Node.Attributes.TryGetValue(name, out var a) && a.Ints.Count > 0 ? a.Ints.ToArray() : null;
    public float[]? Floats(string name) => Node.Attributes.TryGetValue(name, out var a) && a.Floats.Count > 0 ? a.Floats.ToArray() : null;
    public bool Has(string name) => Node.Attributes.ContainsKey(name);

    /// <summary>An int64 list given either as an attribute (older opsets) or as a constant input (newer ones).</summary>
    public long[]? IntsFromAttributeOrInput(string attribute, int inputIndex)
    {
        var fromAttribute = Ints(attribute);
        if (fromAttribute is not null) return fromAttribute;
        if (Node.Inputs.Count <= inputIndex || Node.Inputs[inputIndex].Length == 0) return null;
        var t = Constant(Node.Inputs[inputIndex])
            ?? throw Unsupported($"input '{Node.Inputs[inputIndex]}' must be a constant known at import");
        return t.to_type(ScalarType.Int64).data<long>().ToArray();
    }

    public UnsupportedOnnxException Unsupported(string what) =>
        new($"ONNX node '{Node.DisplayName}' ({Node.OpType}): {what}");
}
