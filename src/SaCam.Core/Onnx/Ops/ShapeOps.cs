using TorchSharp;
using static TorchSharp.torch;

namespace SaCam.Core.Onnx.Ops;

/// <summary>
/// Compilers for the ops that move data around or compute shapes. Shape values are small int64 tensors kept
/// on the CPU; when all of a node's inputs are known at import the importer folds it to a constant.
/// </summary>
internal static class ShapeOps
{
    public static IOnnxOp Flatten(OpContext ctx)
    {
        long axis = ctx.Int("axis", 1);
        return new LambdaOp(i =>
        {
            var x = i[0]!;
            long a = axis < 0 ? axis + x.dim() : axis;
            long outer = 1;
            for (int d = 0; d < a; d++) outer *= x.shape[d];
            return x.reshape(outer, -1);
        });
    }

    /// <summary>Reshape: 0 copies the input dimension (unless allowzero), -1 is inferred.</summary>
    public static IOnnxOp Reshape(OpContext ctx)
    {
        bool allowZero = ctx.Int("allowzero", 0) == 1;
        long[]? fixedShape = ctx.Opset < 5
            ? ctx.Ints("shape")
            : ctx.Constant(ctx.Node.Inputs[1])?.to_type(ScalarType.Int64).data<long>().ToArray();
        return new LambdaOp(i =>
        {
            var x = i[0]!;
            var shape = (long[])(fixedShape ?? i[1]!.cpu().to_type(ScalarType.Int64).data<long>().ToArray()).Clone();
            for (int d = 0; d < shape.Length; d++)
                if (shape[d] == 0 && !allowZero) shape[d] = x.shape[d];
            return x.reshape(shape);
        });
    }

    public static IOnnxOp Transpose(OpContext ctx)
    {
        var perm = ctx.Ints("perm");
        return new LambdaOp(i =>
        {
            var x = i[0]!;
            var p = perm ?? Enumerable.Range(0, (int)x.dim()).Reverse().Select(v => (long)v).ToArray();
            return x.permute(p);
        });
    }

    public static IOnnxOp Concat(OpContext ctx)
    {
        long axis = ctx.Int("axis", 0);
        return new LambdaOp(i => cat(i.Where(t => t is not null).Select(t => t!).ToArray(), axis));
    }

    /// <summary>Pad: constant, reflect or edge; pads as attribute (opset &lt; 11) or input (11+).</summary>
    public static IOnnxOp Pad(OpContext ctx)
    {
        string mode = ctx.String("mode", "constant");
        var padMode = mode switch
        {
            "constant" => PaddingModes.Constant,
            "reflect" => PaddingModes.Reflect,
            "edge" => PaddingModes.Replicate,
            _ => throw ctx.Unsupported($"pad mode '{mode}' is not supported"),
        };
        var pads = ctx.Opset < 11 ? ctx.Ints("pads") : ctx.IntsFromAttributeOrInput("pads", 1);
        if (pads is null) throw ctx.Unsupported("pads are required");
        double value = ctx.Opset < 11 ? ctx.Float("value", 0f) : 0.0;
        if (ctx.Opset >= 11 && ctx.Node.Inputs.Count > 2 && ctx.Node.Inputs[2].Length > 0)
            value = (ctx.Constant(ctx.Node.Inputs[2]) ?? throw ctx.Unsupported("constant_value must be a constant")).to_type(ScalarType.Float64).item<double>();
        if (ctx.Node.Inputs.Count > 3 && ctx.Node.Inputs[3].Length > 0) throw ctx.Unsupported("the axes input is not supported");
        int rank = pads.Length / 2;
        // ONNX: [d0_begin, d1_begin, ..., d0_end, d1_end, ...]; torch: last dimension first, (begin, end) pairs.
        var torchPad = new List<long>();
        for (int d = rank - 1; d >= 0; d--)
        {
            torchPad.Add(pads[d]);
            torchPad.Add(pads[d + rank]);
        }
        // Trailing all-zero pairs (leading dimensions) are dropped: reflect/edge modes only pad spatial axes.
        while (torchPad.Count > 2 && torchPad[^1] == 0 && torchPad[^2] == 0) torchPad.RemoveRange(torchPad.Count - 2, 2);
        var finalPad = torchPad.ToArray();
        return new LambdaOp(i => nn.functional.pad(i[0]!, finalPad, padMode, value));
    }

    /// <summary>ReduceMean: axes as attribute (opset &lt; 18) or input (18+); keepdims default 1.</summary>
    public static IOnnxOp ReduceMean(OpContext ctx)
    {
        var axes = ctx.IntsFromAttributeOrInput("axes", 1);
        bool keep = ctx.Int("keepdims", 1) == 1;
        return new LambdaOp(i =>
        {
            var x = i[0]!;
            var a = axes ?? Enumerable.Range(0, (int)x.dim()).Select(v => (long)v).ToArray();
            return x.mean(a, keepdim: keep);
        });
    }

    public static IOnnxOp Shape(OpContext ctx)
    {
        long start = ctx.Int("start", 0);
        long? end = ctx.Has("end") ? ctx.Int("end", 0) : null;
        return new LambdaOp(i =>
        {
            var s = i[0]!.shape;
            long from = start < 0 ? start + s.Length : start;
            long to = end is long e ? (e < 0 ? e + s.Length : e) : s.Length;
            return tensor(s[(int)from..(int)to], ScalarType.Int64);
        });
    }

    public static IOnnxOp Gather(OpContext ctx)
    {
        long axis = ctx.Int("axis", 0);
        return new LambdaOp(i =>
        {
            using var scope = NewDisposeScope();
            var x = i[0]!;
            var indices = i[1]!.to_type(ScalarType.Int64).cpu();
            long a = axis < 0 ? axis + x.dim() : axis;
            var positive = where(indices.lt(0), indices + x.shape[a], indices);
            var picked = x.index_select(a, positive.flatten().to(x.device));
            var shape = x.shape.Take((int)a).Concat(indices.shape).Concat(x.shape.Skip((int)a + 1)).ToArray();
            return picked.reshape(shape).MoveToOuterDisposeScope();
        });
    }

    public static IOnnxOp Unsqueeze(OpContext ctx)
    {
        var axes = ctx.IntsFromAttributeOrInput("axes", 1) ?? throw ctx.Unsupported("axes are required");
        return new LambdaOp(i =>
        {
            var x = i[0]!;
            long rank = x.dim() + axes.Length;
            var shape = x.shape.ToList();
            foreach (var a in axes.Select(a => a < 0 ? a + rank : a).OrderBy(a => a)) shape.Insert((int)a, 1);
            return x.reshape(shape.ToArray());
        });
    }

    public static IOnnxOp Squeeze(OpContext ctx)
    {
        var axes = ctx.IntsFromAttributeOrInput("axes", 1);
        return new LambdaOp(i =>
        {
            var x = i[0]!;
            var a = axes is null
                ? Enumerable.Range(0, (int)x.dim()).Where(d => x.shape[d] == 1).Select(d => (long)d).ToArray()
                : axes.Select(v => v < 0 ? v + x.dim() : v).ToArray();
            var keep = x.shape.Where((_, d) => !a.Contains(d)).ToArray();
            return x.reshape(keep);
        });
    }

    public static IOnnxOp Cast(OpContext ctx)
    {
        var to = (OnnxDataType)ctx.Int("to", (long)OnnxDataType.Float);
        var type = OnnxTensors.ToScalarType(to) ?? throw ctx.Unsupported($"cast to {to} is not supported");
        return new LambdaOp(i => i[0]!.to_type(type));
    }

    public static IOnnxOp ConstantOfShape(OpContext ctx)
    {
        var value = ctx.Node.Attributes.TryGetValue("value", out var a) && a.Tensor is not null
            ? OnnxTensors.ToTensor(a.Tensor)
            : zeros(1, ScalarType.Float32);
        var fill = value.flatten()[0].ToScalar();
        var dtype = value.dtype;
        value.Dispose();
        return new LambdaOp(i => full(i[0]!.cpu().to_type(ScalarType.Int64).data<long>().ToArray(), fill, dtype));
    }

    public static IOnnxOp Constant(OpContext ctx)
    {
        var attrs = ctx.Node.Attributes;
        Func<Tensor> make;
        if (attrs.TryGetValue("value", out var v) && v.Tensor is not null) { var t = v.Tensor; make = () => OnnxTensors.ToTensor(t); }
        else if (attrs.TryGetValue("value_float", out var f) && f.Float is float fl) make = () => tensor(fl);
        else if (attrs.TryGetValue("value_floats", out var fs)) { var arr = fs.Floats.ToArray(); make = () => tensor(arr); }
        else if (attrs.TryGetValue("value_int", out var n) && n.Int is long l) make = () => tensor(l);
        else if (attrs.TryGetValue("value_ints", out var ns)) { var arr = ns.Ints.ToArray(); make = () => tensor(arr); }
        else throw ctx.Unsupported("only tensor, float(s) and int(s) constants are supported");
        return new LambdaOp(_ => make());
    }
}
