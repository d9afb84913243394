namespace SaCam.Core.Onnx;

/// <summary>The parts of an ONNX ModelProto that an importer of CNNs needs.</summary>
public sealed record OnnxModelProto(
    long IrVersion,
    string ProducerName,
    IReadOnlyDictionary<string, long> OpsetImports,
    IReadOnlyDictionary<string, string> MetadataProps,
    OnnxGraphProto Graph);

public sealed record OnnxGraphProto(
    string Name,
    IReadOnlyList<OnnxNodeProto> Nodes,
    IReadOnlyList<OnnxTensorProto> Initializers,
    IReadOnlyList<OnnxValueInfo> Inputs,
    IReadOnlyList<OnnxValueInfo> Outputs,
    IReadOnlyList<OnnxValueInfo> ValueInfos);

public sealed record OnnxNodeProto(
    string Name,
    string OpType,
    string Domain,
    IReadOnlyList<string> Inputs,
    IReadOnlyList<string> Outputs,
    IReadOnlyDictionary<string, OnnxAttribute> Attributes)
{
    /// <summary>A name for error messages: the node's own name, or its first output when it has none.</summary>
    public string DisplayName => Name.Length > 0 ? Name : (Outputs.Count > 0 ? Outputs[0] : "<unnamed>");
}

/// <summary>An ONNX attribute; only the member that matches its type is filled.</summary>
public sealed record OnnxAttribute(
    string Name,
    float? Float,
    long? Int,
    byte[]? Bytes,
    OnnxTensorProto? Tensor,
    IReadOnlyList<float> Floats,
    IReadOnlyList<long> Ints)
{
    public string AsString() => Bytes is null ? "" : System.Text.Encoding.UTF8.GetString(Bytes);
}

/// <summary>Tensor element types as numbered by onnx.proto.</summary>
public enum OnnxDataType
{
    Undefined = 0, Float = 1, UInt8 = 2, Int8 = 3, UInt16 = 4, Int16 = 5, Int32 = 6, Int64 = 7,
    String = 8, Bool = 9, Float16 = 10, Double = 11, UInt32 = 12, UInt64 = 13,
}

/// <summary>An ONNX tensor (initializer or attribute value), data kept in the form the file holds it.</summary>
public sealed record OnnxTensorProto(
    string Name,
    OnnxDataType DataType,
    long[] Dims,
    ReadOnlyMemory<byte> RawData,
    IReadOnlyList<float> FloatData,
    IReadOnlyList<long> Int64Data,
    IReadOnlyList<double> DoubleData,
    bool IsExternal);

public sealed record OnnxValueInfo(string Name, OnnxDataType ElementType, IReadOnlyList<long?> Shape);
