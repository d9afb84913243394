namespace SaCam.Core.Onnx;

/// <summary>Reads an .onnx file into <see cref="OnnxModelProto"/>. Field numbers follow onnx.proto (IR v3-v10).</summary>
public static class OnnxFileReader
{
    public static OnnxModelProto Read(string path)
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
            return Parse(bytes);
        }
        catch (InvalidDataException e)
        {
            throw new ModelLoadException(path, $"it is not a valid ONNX model ({e.Message})", e);
        }
    }

    public static OnnxModelProto Parse(byte[] bytes)
    {
        var r = new ProtoReader(bytes);
        long ir = 0;
        string producer = "";
        var opsets = new Dictionary<string, long>();
        var metadata = new Dictionary<string, string>();
        OnnxGraphProto? graph = null;
        while (!r.AtEnd)
        {
            var (field, type) = r.ReadKey();
            switch (field)
            {
                case 1 when type == WireType.Varint: ir = r.ReadInt64(); break;
                case 2 when type == WireType.LengthDelimited: producer = r.ReadString(); break;
                case 7 when type == WireType.LengthDelimited: graph = ReadGraph(r.ReadMessage()); break;
                case 8 when type == WireType.LengthDelimited:
                    var (domain, version) = ReadOpset(r.ReadMessage());
                    opsets[domain] = version;
                    break;
                case 14 when type == WireType.LengthDelimited:
                    var (key, value) = ReadStringPair(r.ReadMessage());
                    metadata[key] = value;
                    break;
                default: r.Skip(type); break;
            }
        }
        if (graph is null || ir == 0)
            throw new InvalidDataException("no graph or IR version found");
        return new OnnxModelProto(ir, producer, opsets, metadata, graph);
    }

    private static (string, long) ReadOpset(ProtoReader r)
    {
        string domain = "";
        long version = 0;
        while (!r.AtEnd)
        {
            var (field, type) = r.ReadKey();
            if (field == 1 && type == WireType.LengthDelimited) domain = r.ReadString();
            else if (field == 2 && type == WireType.Varint) version = r.ReadInt64();
            else r.Skip(type);
        }
        return (domain == "ai.onnx" ? "" : domain, version);
    }

    private static (string, string) ReadStringPair(ProtoReader r)
    {
        string key = "", value = "";
        while (!r.AtEnd)
        {
            var (field, type) = r.ReadKey();
            if (field == 1 && type == WireType.LengthDelimited) key = r.ReadString();
            else if (field == 2 && type == WireType.LengthDelimited) value = r.ReadString();
            else r.Skip(type);
        }
        return (key, value);
    }

    private static OnnxGraphProto ReadGraph(ProtoReader r)
    {
        string name = "";
        var nodes = new List<OnnxNodeProto>();
        var initializers = new List<OnnxTensorProto>();
        var inputs = new List<OnnxValueInfo>();
        var outputs = new List<OnnxValueInfo>();
        var valueInfos = new List<OnnxValueInfo>();
        while (!r.AtEnd)
        {
            var (field, type) = r.ReadKey();
            if (type != WireType.LengthDelimited) { r.Skip(type); continue; }
            switch (field)
            {
                case 1: nodes.Add(ReadNode(r.ReadMessage())); break;
                case 2: name = r.ReadString(); break;
                case 5: initializers.Add(ReadTensor(r.ReadMessage())); break;
                case 11: inputs.Add(ReadValueInfo(r.ReadMessage())); break;
                case 12: outputs.Add(ReadValueInfo(r.ReadMessage())); break;
                case 13: valueInfos.Add(ReadValueInfo(r.ReadMessage())); break;
                default: r.Skip(type); break;
            }
        }
        return new OnnxGraphProto(name, nodes, initializers, inputs, outputs, valueInfos);
    }

    private static OnnxNodeProto ReadNode(ProtoReader r)
    {
        string name = "", op = "", domain = "";
        var inputs = new List<string>();
        var outputs = new List<string>();
        var attributes = new Dictionary<string, OnnxAttribute>();
        while (!r.AtEnd)
        {
            var (field, type) = r.ReadKey();
            if (type != WireType.LengthDelimited) { r.Skip(type); continue; }
            switch (field)
            {
                case 1: inputs.Add(r.ReadString()); break;
                case 2: outputs.Add(r.ReadString()); break;
                case 3: name = r.ReadString(); break;
                case 4: op = r.ReadString(); break;
                case 5:
                    var attribute = ReadAttribute(r.ReadMessage());
                    attributes[attribute.Name] = attribute;
                    break;
                case 7: domain = r.ReadString(); break;
                default: r.Skip(type); break;
            }
        }
        return new OnnxNodeProto(name, op, domain, inputs, outputs, attributes);
    }

    private static OnnxAttribute ReadAttribute(ProtoReader r)
    {
        string name = "";
        float? f = null;
        long? i = null;
        byte[]? s = null;
        OnnxTensorProto? t = null;
        var floats = new List<float>();
        var ints = new List<long>();
        while (!r.AtEnd)
        {
            var (field, type) = r.ReadKey();
            switch (field)
            {
                case 1 when type == WireType.LengthDelimited: name = r.ReadString(); break;
                case 2 when type == WireType.Fixed32: f = r.ReadFixed32Float(); break;
                case 3 when type == WireType.Varint: i = r.ReadInt64(); break;
                case 4 when type == WireType.LengthDelimited: s = r.ReadBytes().ToArray(); break;
                case 5 when type == WireType.LengthDelimited: t = ReadTensor(r.ReadMessage()); break;
                case 7: r.ReadFloats(type, floats); break;
                case 8: r.ReadInt64s(type, ints); break;
                default: r.Skip(type); break;
            }
        }
        return new OnnxAttribute(name, f, i, s, t, floats, ints);
    }

    private static OnnxTensorProto ReadTensor(ProtoReader r)
    {
        var dims = new List<long>();
        var dataType = OnnxDataType.Undefined;
        string name = "";
        ReadOnlyMemory<byte> raw = ReadOnlyMemory<byte>.Empty;
        var floats = new List<float>();
        var int64s = new List<long>();
        var doubles = new List<double>();
        bool external = false;
        while (!r.AtEnd)
        {
            var (field, type) = r.ReadKey();
            switch (field)
            {
                case 1: r.ReadInt64s(type, dims); break;
                case 2 when type == WireType.Varint: dataType = (OnnxDataType)r.ReadInt64(); break;
                case 4: r.ReadFloats(type, floats); break;
                // int32_data also carries int8/uint8/int16/bool/float16 values; kept as longs.
                case 5: r.ReadInt64s(type, int64s); break;
                case 7: r.ReadInt64s(type, int64s); break;
                case 8 when type == WireType.LengthDelimited: name = r.ReadString(); break;
                case 9 when type == WireType.LengthDelimited: raw = r.ReadBytes(); break;
                case 10: r.ReadDoubles(type, doubles); break;
                case 14 when type == WireType.Varint: external = r.ReadInt64() == 1; break;
                default: r.Skip(type); break;
            }
        }
        return new OnnxTensorProto(name, dataType, dims.ToArray(), raw, floats, int64s, doubles, external);
    }

    private static OnnxValueInfo ReadValueInfo(ProtoReader r)
    {
        string name = "";
        var elementType = OnnxDataType.Undefined;
        var shape = new List<long?>();
        while (!r.AtEnd)
        {
            var (field, type) = r.ReadKey();
            if (field == 1 && type == WireType.LengthDelimited) name = r.ReadString();
            else if (field == 2 && type == WireType.LengthDelimited) (elementType, shape) = ReadTensorType(r.ReadMessage());
            else r.Skip(type);
        }
        return new OnnxValueInfo(name, elementType, shape);
    }

    private static (OnnxDataType, List<long?>) ReadTensorType(ProtoReader typeProto)
    {
        var elementType = OnnxDataType.Undefined;
        var shape = new List<long?>();
        while (!typeProto.AtEnd)
        {
            var (field, type) = typeProto.ReadKey();
            if (field != 1 || type != WireType.LengthDelimited) { typeProto.Skip(type); continue; }
            var tensorType = typeProto.ReadMessage();
            while (!tensorType.AtEnd)
            {
                var (tf, tt) = tensorType.ReadKey();
                if (tf == 1 && tt == WireType.Varint) elementType = (OnnxDataType)tensorType.ReadInt64();
                else if (tf == 2 && tt == WireType.LengthDelimited)
                {
                    var shapeProto = tensorType.ReadMessage();
                    while (!shapeProto.AtEnd)
                    {
                        var (sf, st) = shapeProto.ReadKey();
                        if (sf == 1 && st == WireType.LengthDelimited) shape.Add(ReadDimension(shapeProto.ReadMessage()));
                        else shapeProto.Skip(st);
                    }
                }
                else tensorType.Skip(tt);
            }
        }
        return (elementType, shape);
    }

    private static long? ReadDimension(ProtoReader r)
    {
        long? value = null;
        while (!r.AtEnd)
        {
            var (field, type) = r.ReadKey();
            if (field == 1 && type == WireType.Varint) value = r.ReadInt64();
            else r.Skip(type);
        }
        return value;
    }
}
