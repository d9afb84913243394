using SaCam.Core.Onnx.Ops;

namespace SaCam.Core.Onnx;

/// <summary>The ONNX ops this importer understands, each mapped to the compiler of its op class.</summary>
internal static class OnnxOpRegistry
{
    private static readonly Dictionary<string, Func<OpContext, IOnnxOp>> Compilers = new()
    {
        ["Conv"] = ctx => new ConvOp(ctx),
        ["MaxPool"] = ctx => new MaxPoolOp(ctx),
        ["AveragePool"] = ctx => new AveragePoolOp(ctx),
        ["GlobalAveragePool"] = _ => new GlobalPoolOp(max: false),
        ["GlobalMaxPool"] = _ => new GlobalPoolOp(max: true),
        ["BatchNormalization"] = SimpleOps.BatchNormalization,
        ["Relu"] = SimpleOps.Relu,
        ["LeakyRelu"] = SimpleOps.LeakyRelu,
        ["Clip"] = SimpleOps.Clip,
        ["Sigmoid"] = SimpleOps.Sigmoid,
        ["HardSigmoid"] = SimpleOps.HardSigmoid,
        ["HardSwish"] = SimpleOps.HardSwish,
        ["Add"] = SimpleOps.Add,
        ["Sub"] = SimpleOps.Sub,
        ["Mul"] = SimpleOps.Mul,
        ["Div"] = SimpleOps.Div,
        ["Gemm"] = SimpleOps.Gemm,
        ["MatMul"] = SimpleOps.MatMul,
        ["Softmax"] = SimpleOps.Softmax,
        ["Dropout"] = SimpleOps.Dropout,
        ["Identity"] = SimpleOps.Identity,
        ["ReduceMean"] = ShapeOps.ReduceMean,
        ["Flatten"] = ShapeOps.Flatten,
        ["Reshape"] = ShapeOps.Reshape,
        ["Concat"] = ShapeOps.Concat,
        ["Pad"] = ShapeOps.Pad,
        ["Transpose"] = ShapeOps.Transpose,
        ["Shape"] = ShapeOps.Shape,
        ["Gather"] = ShapeOps.Gather,
        ["Unsqueeze"] = ShapeOps.Unsqueeze,
        ["Squeeze"] = ShapeOps.Squeeze,
        ["Cast"] = ShapeOps.Cast,
        ["ConstantOfShape"] = ShapeOps.ConstantOfShape,
        ["Constant"] = ShapeOps.Constant,
        ["Slice"] = ResizeOps.Slice,
        ["Resize"] = ResizeOps.Resize,
        ["Expand"] = ResizeOps.Expand,
        ["Equal"] = ResizeOps.Equal,
        ["Where"] = ResizeOps.Where,
    };

    public static IReadOnlyCollection<string> SupportedOps => Compilers.Keys;

    public static IOnnxOp Compile(OpContext ctx)
    {
        if (ctx.Node.Domain is not ("" or "ai.onnx"))
            throw ctx.Unsupported($"op domain '{ctx.Node.Domain}' is not supported (only the default ONNX domain)");
        if (!Compilers.TryGetValue(ctx.Node.OpType, out var compile))
            throw ctx.Unsupported($"op '{ctx.Node.OpType}' is not supported; supported ops: {string.Join(", ", Compilers.Keys.Order())}");
        return compile(ctx);
    }
}
