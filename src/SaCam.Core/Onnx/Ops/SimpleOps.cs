using TorchSharp;
using static TorchSharp.torch;

namespace SaCam.Core.Onnx.Ops;

/// <summary>An op whose whole behaviour is one function of its inputs, attributes already bound.</summary>
internal sealed class LambdaOp(Func<IReadOnlyList<Tensor?>, Tensor> run) : IOnnxOp
{
    public Tensor[] Run(IReadOnlyList<Tensor?> inputs) => [run(inputs)];
}

/// <summary>Compilers for the activation, arithmetic and normalization ops.</summary>
internal static class SimpleOps
{
    public static IOnnxOp Relu(OpContext _) => new LambdaOp(i => nn.functional.relu(i[0]!));

    public static IOnnxOp LeakyRelu(OpContext ctx)
    {
        double alpha = ctx.Float("alpha", 0.01f);
        return new LambdaOp(i => nn.functional.leaky_relu(i[0]!, alpha));
    }

    public static IOnnxOp Sigmoid(OpContext _) => new LambdaOp(i => i[0]!.sigmoid());

    public static IOnnxOp HardSigmoid(OpContext ctx)
    {
        double alpha = ctx.Float("alpha", 0.2f), beta = ctx.Float("beta", 0.5f);
        return new LambdaOp(i => (i[0]! * alpha + beta).clamp(0.0, 1.0));
    }

    public static IOnnxOp HardSwish(OpContext _) => new LambdaOp(i => nn.functional.hardswish(i[0]!));

    /// <summary>Clip: min/max as attributes (opset &lt; 11) or as optional constant inputs (opset 11+).</summary>
    public static IOnnxOp Clip(OpContext ctx)
    {
        double? min, max;
        if (ctx.Opset < 11)
        {
            min = ctx.Has("min") ? ctx.Float("min", float.MinValue) : null;
            max = ctx.Has("max") ? ctx.Float("max", float.MaxValue) : null;
        }
        else
        {
            min = ScalarInput(ctx, 1);
            max = ScalarInput(ctx, 2);
        }
        return new LambdaOp(i => min is null && max is null ? i[0]!.alias() : i[0]!.clamp(min, max));
    }

    private static double? ScalarInput(OpContext ctx, int index)
    {
        if (ctx.Node.Inputs.Count <= index || ctx.Node.Inputs[index].Length == 0) return null;
        var t = ctx.Constant(ctx.Node.Inputs[index]) ?? throw ctx.Unsupported($"input {index} must be a constant");
        return t.to_type(ScalarType.Float64).item<double>();
    }

    public static IOnnxOp Add(OpContext _) => new LambdaOp(i => i[0]! + i[1]!);
    public static IOnnxOp Sub(OpContext _) => new LambdaOp(i => i[0]! - i[1]!);
    public static IOnnxOp Mul(OpContext _) => new LambdaOp(i => i[0]! * i[1]!);

    public static IOnnxOp Div(OpContext _) => new LambdaOp(i =>
        i[0]!.dtype == ScalarType.Int64 && i[1]!.dtype == ScalarType.Int64
            ? i[0]!.div(i[1]!, RoundingMode.trunc) // ONNX integer division truncates
            : i[0]! / i[1]!);

    public static IOnnxOp Identity(OpContext _) => new LambdaOp(i => i[0]!.alias());

    /// <summary>Dropout is the identity at inference; its optional mask output is not supported.</summary>
    public static IOnnxOp Dropout(OpContext ctx)
    {
        if (ctx.Node.Outputs.Count > 1 && ctx.Node.Outputs[1].Length > 0) throw ctx.Unsupported("the mask output is not supported");
        return Identity(ctx);
    }

    /// <summary>BatchNormalization in inference form: (x - mean) / sqrt(var + eps) * scale + bias.</summary>
    public static IOnnxOp BatchNormalization(OpContext ctx)
    {
        double epsilon = ctx.Float("epsilon", 1e-5f);
        if (ctx.Opset < 7 && ctx.Int("spatial", 1) != 1) throw ctx.Unsupported("non-spatial batch normalization is not supported");
        return new LambdaOp(i => nn.functional.batch_norm(i[0]!, i[3]!, i[4]!, i[1]!, i[2]!, training: false, momentum: 0.0, eps: epsilon));
    }

    /// <summary>Softmax: axis -1 from opset 13; before that 1, over the input flattened to 2-D at that axis.</summary>
    public static IOnnxOp Softmax(OpContext ctx)
    {
        long axis = ctx.Int("axis", ctx.Opset >= 13 ? -1 : 1);
        if (ctx.Opset >= 13) return new LambdaOp(i => i[0]!.softmax(axis));
        return new LambdaOp(i =>
        {
            var x = i[0]!;
            long a = axis < 0 ? axis + x.dim() : axis;
            using var flat = x.flatten((int)a).flatten(0, (int)a - 1 < 0 ? 0 : (int)a - 1);
            using var soft = flat.softmax(-1);
            return soft.reshape(x.shape);
        });
    }

    public static IOnnxOp Gemm(OpContext ctx)
    {
        double alpha = ctx.Float("alpha", 1f), beta = ctx.Float("beta", 1f);
        bool transA = ctx.Int("transA", 0) == 1, transB = ctx.Int("transB", 0) == 1;
        return new LambdaOp(i =>
        {
            using var scope = NewDisposeScope();
            var a = transA ? i[0]!.t() : i[0]!;
            var b = transB ? i[1]!.t() : i[1]!;
            var y = a.matmul(b);
            if (alpha != 1.0) y = y * alpha;
            if (i.Count > 2 && i[2] is not null) y = beta == 1.0 ? y + i[2]! : y + i[2]! * beta;
            return y.MoveToOuterDisposeScope();
        });
    }

    public static IOnnxOp MatMul(OpContext _) => new LambdaOp(i => i[0]!.matmul(i[1]!));
}
