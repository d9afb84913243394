using System.Text;

namespace SaCam.Tests;

/// <summary>
/// Writes small ONNX models for tests (protobuf wire format by hand): one float input, nodes, float initializers,
/// one output. Enough to build cases with known answers and broken models on purpose.
/// </summary>
public sealed class OnnxBuilder(int opset = 13)
{
    private readonly List<byte[]> _nodes = [];
    private readonly List<byte[]> _initializers = [];
    private readonly List<(string Key, string Value)> _metadata = [];
    private (string Name, long[] Shape) _input = ("input", [1, 3, 8, 8]);
    private (string Name, int Rank) _output = ("output", 2);

    public OnnxBuilder Input(string name, params long[] shape) { _input = (name, shape); return this; }

    /// <summary>Writes the input's negative dimensions as values, as a broken exporter would (by default a negative
    /// dimension becomes the symbolic "N").</summary>
    public OnnxBuilder LiteralDims() { _literalDims = true; return this; }
    private bool _literalDims;
    public OnnxBuilder Output(string name, int rank) { _output = (name, rank); return this; }
    public OnnxBuilder Metadata(string key, string value) { _metadata.Add((key, value)); return this; }

    public OnnxBuilder Initializer(string name, long[] dims, float[] values)
    {
        var t = new Proto();
        foreach (var d in dims) t.Varint(1, (ulong)d);
        t.Varint(2, 1); // FLOAT
        t.String(8, name);
        var raw = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, raw, 0, raw.Length);
        t.Bytes(9, raw);
        _initializers.Add(t.ToArray());
        return this;
    }

    /// <summary>Adds a node; attributes are ints (long), int lists (long[]), floats (float) or strings.</summary>
    public OnnxBuilder Node(string op, string[] inputs, string[] outputs, string? name = null, params (string Name, object Value)[] attributes)
    {
        var n = new Proto();
        foreach (var i in inputs) n.String(1, i);
        foreach (var o in outputs) n.String(2, o);
        n.String(3, name ?? $"{op}_{_nodes.Count}");
        n.String(4, op);
        foreach (var (attrName, value) in attributes)
        {
            var a = new Proto();
            a.String(1, attrName);
            switch (value)
            {
                case long l: a.Varint(3, (ulong)l); a.Varint(20, 2); break;
                case int i: a.Varint(3, (ulong)i); a.Varint(20, 2); break;
                case float f: a.Fixed32(2, f); a.Varint(20, 1); break;
                case long[] ls: foreach (var l in ls) a.Varint(8, (ulong)l); a.Varint(20, 7); break;
                case string s: a.Bytes(4, Encoding.UTF8.GetBytes(s)); a.Varint(20, 3); break;
                default: throw new ArgumentException($"attribute type {value.GetType()}");
            }
            n.Message(5, a);
        }
        _nodes.Add(n.ToArray());
        return this;
    }

    public byte[] Build()
    {
        var graph = new Proto();
        foreach (var n in _nodes) graph.Raw(1, n);
        graph.String(2, "test");
        foreach (var i in _initializers) graph.Raw(5, i);
        graph.Message(11, ValueInfo(_input.Name, _input.Shape, _literalDims));
        graph.Message(12, ValueInfo(_output.Name, Enumerable.Repeat(-1L, _output.Rank).ToArray(), false));
        var model = new Proto();
        model.Varint(1, 7);
        model.String(2, "sacam-tests");
        model.Message(7, graph);
        var opsetProto = new Proto();
        opsetProto.String(1, "");
        opsetProto.Varint(2, (ulong)opset);
        model.Message(8, opsetProto);
        foreach (var (k, v) in _metadata)
        {
            var kv = new Proto();
            kv.String(1, k);
            kv.String(2, v);
            model.Message(14, kv);
        }
        return model.ToArray();
    }

    public string Save(string fileName)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("sacam-onnx-").FullName, fileName);
        File.WriteAllBytes(path, Build());
        return path;
    }

    private static Proto ValueInfo(string name, long[] shape, bool literal)
    {
        var dims = new Proto();
        foreach (var d in shape)
        {
            var dim = new Proto();
            if (d >= 0 || literal) dim.Varint(1, (ulong)d);
            else dim.String(2, "N");
            dims.Message(1, dim);
        }
        var tensorType = new Proto();
        tensorType.Varint(1, 1);
        tensorType.Message(2, dims);
        var type = new Proto();
        type.Message(1, tensorType);
        var info = new Proto();
        info.String(1, name);
        info.Message(2, type);
        return info;
    }

    private sealed class Proto
    {
        private readonly MemoryStream _stream = new();
        public byte[] ToArray() => _stream.ToArray();
        public void Varint(int field, ulong value) { Key(field, 0); WriteVarint(value); }
        public void Fixed32(int field, float value) { Key(field, 5); _stream.Write(BitConverter.GetBytes(value)); }
        public void String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));
        public void Bytes(int field, byte[] value) { Key(field, 2); WriteVarint((ulong)value.Length); _stream.Write(value); }
        public void Message(int field, Proto message) => Bytes(field, message.ToArray());
        public void Raw(int field, byte[] message) => Bytes(field, message);
        private void Key(int field, int wireType) => WriteVarint((ulong)(field << 3 | wireType));
        private void WriteVarint(ulong value)
        {
            while (value >= 0x80) { _stream.WriteByte((byte)(value | 0x80)); value >>= 7; }
            _stream.WriteByte((byte)value);
        }
    }
}

/// <summary>
/// A tiny CNN as ONNX, with fixed pseudo-random weights: Conv 3x3 (8 channels, padding 1) -> Relu ->
/// GlobalAveragePool -> Flatten -> Gemm (3 classes). Perturbation methods finish in milliseconds on it (8 channels),
/// so tests of progress, budgets and stops need no real model; channels 1 makes a grayscale model.
/// </summary>
public static class TinyCnn
{
    public static string Save(int channels = 3, int size = 32, string fileName = "tiny.onnx")
    {
        var random = new Random(7);
        float[] Weights(int n, double scale) => Enumerable.Range(0, n).Select(_ => (float)((random.NextDouble() - 0.5) * scale)).ToArray();
        return new OnnxBuilder().Input("x", 1, channels, size, size).Output("logits", 2)
            .Initializer("conv_w", [8, channels, 3, 3], Weights(8 * channels * 9, 1.0))
            .Initializer("conv_b", [8], Weights(8, 0.2))
            .Initializer("fc_w", [3, 8], Weights(24, 2.0))
            .Initializer("fc_b", [3], Weights(3, 0.1))
            .Node("Conv", ["x", "conv_w", "conv_b"], ["conv"], "conv", ("kernel_shape", new long[] { 3, 3 }), ("pads", new long[] { 1, 1, 1, 1 }))
            .Node("Relu", ["conv"], ["features"], "relu")
            .Node("GlobalAveragePool", ["features"], ["pooled"], "pool")
            .Node("Flatten", ["pooled"], ["flat"], "flatten")
            .Node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"], "fc", ("transB", 1L))
            .Save(fileName);
    }
}

/// <summary>
/// A tiny regressor as ONNX: Conv 3x3 (8 channels) -> Relu = "features" -> Tanh -> GlobalAveragePool -> Flatten:
/// eight raw outputs "steering", and the model card that says so. Perturbation methods explain one of its values
/// (output:steering[i]); the gradient family cannot (the importer lacks Tanh), which tests of that refusal want.
/// </summary>
public static class TinyRegressor
{
    public static (string Model, string Card) Save(string dir)
    {
        var random = new Random(5);
        float[] Weights(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var model = new OnnxBuilder().Input("x", 1, 3, 32, 32).Output("steering", 2)
            .Initializer("conv_w", [8, 3, 3, 3], Weights(8 * 27))
            .Initializer("conv_b", [8], Weights(8))
            .Node("Conv", ["x", "conv_w", "conv_b"], ["conv"], "conv", ("kernel_shape", new long[] { 3, 3 }), ("pads", new long[] { 1, 1, 1, 1 }))
            .Node("Relu", ["conv"], ["features"], "relu")
            .Node("Tanh", ["features"], ["squashed"], "tanh")
            .Node("GlobalAveragePool", ["squashed"], ["pooled"], "pool")
            .Node("Flatten", ["pooled"], ["steering"], "flatten")
            .Save("regressor.onnx");
        var card = Path.Combine(dir, "regressor.card.json");
        File.WriteAllText(card, """{ "task": "regression", "output": "steering", "target_layer": "features" }""");
        return (model, card);
    }
}
