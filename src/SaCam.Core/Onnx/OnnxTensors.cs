using SaCam.Core.Onnx.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace SaCam.Core.Onnx;

/// <summary>Converts ONNX tensor protos to TorchSharp tensors (CPU).</summary>
internal static class OnnxTensors
{
    public static ScalarType? ToScalarType(OnnxDataType type) => type switch
    {
        OnnxDataType.Float => ScalarType.Float32,
        OnnxDataType.Double => ScalarType.Float64,
        OnnxDataType.Float16 => ScalarType.Float16,
        OnnxDataType.Int64 => ScalarType.Int64,
        OnnxDataType.Int32 => ScalarType.Int32,
        OnnxDataType.Int16 => ScalarType.Int16,
        OnnxDataType.Int8 => ScalarType.Int8,
        OnnxDataType.UInt8 => ScalarType.Byte,
        OnnxDataType.Bool => ScalarType.Bool,
        _ => null,
    };

    public static Tensor ToTensor(OnnxTensorProto proto)
    {
        if (proto.IsExternal)
            throw new UnsupportedOnnxException($"tensor '{proto.Name}' keeps its data in an external file, which is not supported");
        var dims = proto.Dims;
        long count = dims.Aggregate(1L, (a, b) => a * b);
        var type = ToScalarType(proto.DataType)
            ?? throw new UnsupportedOnnxException($"tensor '{proto.Name}' has element type {proto.DataType}, which is not supported");
        if (!proto.RawData.IsEmpty)
        {
            var t = empty(dims, type);
            var bytes = proto.RawData.Span;
            if (bytes.Length != count * t.ElementSize)
                throw new UnsupportedOnnxException($"tensor '{proto.Name}' holds {bytes.Length} bytes for shape [{string.Join(",", dims)}]");
            bytes.CopyTo(t.bytes);
            return t;
        }
        return proto.DataType switch
        {
            OnnxDataType.Float => tensor(proto.FloatData.ToArray(), dims),
            OnnxDataType.Double => tensor(proto.DoubleData.ToArray(), dims),
            OnnxDataType.Int64 => tensor(proto.Int64Data.ToArray(), dims),
            OnnxDataType.Int32 or OnnxDataType.Int16 or OnnxDataType.Int8 or OnnxDataType.UInt8 or OnnxDataType.Bool
                => tensor(proto.Int64Data.ToArray(), dims).to_type(type),
            _ => throw new UnsupportedOnnxException($"tensor '{proto.Name}' stores {proto.DataType} in a form that is not supported"),
        };
    }
}
