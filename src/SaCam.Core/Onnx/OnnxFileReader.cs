using Google.Protobuf;
using SaCam.Core.Onnx.Proto;

namespace SaCam.Core.Onnx;

/// <summary>
/// Reads an .onnx file as the protobuf message <see cref="ModelProto"/> (classes generated from
/// Onnx/Proto/onnx_subset.proto), and maps it to the <see cref="OnnxModelProto"/> records the importer works on.
/// The message itself is kept for graph surgery (the engines' trunk models, batch dimensions made symbolic).
/// </summary>
public static class OnnxFileReader
{
    public static OnnxModelProto Read(string path) => Map(ReadMessage(path));

    /// <summary>The file as a protobuf message, with errors that name the file.</summary>
    public static ModelProto ReadMessage(string path)
    {
        if (!File.Exists(path))
            throw new ModelLoadException(path, "the file does not exist");
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelLoadException(path, $"the file cannot be read ({e.Message})", e);
        }
        try
        {
            return ParseMessage(bytes);
        }
        catch (InvalidDataException e)
        {
            throw new ModelLoadException(path, $"it is not a valid ONNX model ({e.Message})", e);
        }
    }

    public static OnnxModelProto Parse(byte[] bytes) => Map(ParseMessage(bytes));

    public static ModelProto ParseMessage(byte[] bytes)
    {
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException(e.Message, e);
        }
        if (model.Graph is null || model.IrVersion == 0)
            throw new InvalidDataException("no graph or IR version found");
        return model;
    }

    public static OnnxModelProto Map(ModelProto m)
    {
        var opsets = new Dictionary<string, long>();
        foreach (var o in m.OpsetImport) opsets[o.Domain is "ai.onnx" ? "" : o.Domain] = o.Version;
        var metadata = new Dictionary<string, string>();
        foreach (var kv in m.MetadataProps) metadata[kv.Key] = kv.Value;
        return new OnnxModelProto(m.IrVersion, m.ProducerName, opsets, metadata, Map(m.Graph));
    }

    private static OnnxGraphProto Map(GraphProto g) => new(g.Name,
        g.Node.Select(Map).ToList(), g.Initializer.Select(Map).ToList(),
        g.Input.Select(Map).ToList(), g.Output.Select(Map).ToList(), g.ValueInfo.Select(Map).ToList());

    private static OnnxNodeProto Map(NodeProto n)
    {
        var attributes = new Dictionary<string, OnnxAttribute>();
        foreach (var a in n.Attribute)
            attributes[a.Name] = new OnnxAttribute(a.Name, a.HasF ? a.F : null, a.HasI ? a.I : null, a.HasS ? a.S.ToByteArray() : null,
                a.T is null ? null : Map(a.T), a.Floats, a.Ints);
        return new OnnxNodeProto(n.Name, n.OpType, n.Domain, n.Input, n.Output, attributes);
    }

    private static OnnxTensorProto Map(TensorProto t)
    {
        // int32_data also carries int8/uint8/int16/bool/float16 values: kept as longs, as int64_data.
        var longs = t.Int64Data.Count > 0 ? (IReadOnlyList<long>)t.Int64Data : t.Int32Data.Select(v => (long)v).ToList();
        return new OnnxTensorProto(t.Name, (OnnxDataType)t.DataType, t.Dims.ToArray(), t.RawData.Memory, t.FloatData, longs, t.DoubleData,
            t.DataLocation == TensorProto.Types.DataLocation.External);
    }

    private static OnnxValueInfo Map(ValueInfoProto v)
    {
        var tensor = v.Type?.TensorType;
        var shape = tensor?.Shape?.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue : (long?)null).ToList()
            ?? [];
        return new OnnxValueInfo(v.Name, (OnnxDataType)(tensor?.ElemType ?? 0), shape);
    }
}
