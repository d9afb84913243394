using static TorchSharp.torch;

namespace SaCam.Core.Onnx.Ops;

/// <summary>
/// Slice, Resize, Expand, Equal and Where: what segmentation and detection heads add to a classifier's ops (a
/// DeepLab ASPP's image pooling broadcast back and upsampled to the input, an FPN's nearest upsampling, box and
/// score slices). Their size inputs are often computed at run time from a Shape, so every one of them reads its
/// indices from the tensors it is given, not only from constants.
/// </summary>
internal static class ResizeOps
{
    private static long[] Longs(Tensor t) => t.cpu().to_type(ScalarType.Int64).data<long>().ToArray();
    private static double[] Doubles(Tensor t) => t.cpu().to_type(ScalarType.Float64).data<double>().ToArray();

    /// <summary>Slice (opset 10+: starts, ends, axes, steps as inputs; opset 1-9 as attributes), positive steps.</summary>
    public static IOnnxOp Slice(OpContext ctx)
    {
        bool fromAttributes = ctx.Opset < 10;
        long[]? attrStarts = fromAttributes ? ctx.Ints("starts") : null, attrEnds = fromAttributes ? ctx.Ints("ends") : null, attrAxes = fromAttributes ? ctx.Ints("axes") : null;
        return new LambdaOp(i =>
        {
            var x = i[0]!;
            long[] starts = attrStarts ?? Longs(i[1]!), ends = attrEnds ?? Longs(i[2]!);
            long[] axes = attrAxes ?? (i.Count > 3 && i[3] is { } a ? Longs(a) : Enumerable.Range(0, starts.Length).Select(v => (long)v).ToArray());
            long[] steps = !fromAttributes && i.Count > 4 && i[4] is { } s ? Longs(s) : Enumerable.Repeat(1L, starts.Length).ToArray();
            var result = x.alias();
            for (int k = 0; k < starts.Length; k++)
            {
                long axis = axes[k] < 0 ? axes[k] + x.dim() : axes[k], size = x.shape[axis];
                if (steps[k] < 1) throw new NotSupportedException($"ONNX node '{ctx.Node.DisplayName}' (Slice): step {steps[k]} is not supported (positive steps only)");
                long start = Clamp(starts[k], size), end = Clamp(ends[k], size);
                var sliced = result.slice(axis, start, Math.Max(start, end), steps[k]);
                result.Dispose();
                result = sliced;
            }
            return result;
        });
    }

    private static long Clamp(long index, long size)
    {
        if (index < 0) index += size;
        return Math.Clamp(index, 0, size);
    }

    /// <summary>Resize (opset 11+): nearest with asymmetric coordinates and floor (an FPN's upsampling), linear with
    /// align_corners or half_pixel (a segmenter's logits to the input size), output size from sizes or scales.</summary>
    public static IOnnxOp Resize(OpContext ctx)
    {
        if (ctx.Opset < 11) throw ctx.Unsupported("Resize before opset 11 is not supported");
        string mode = ctx.String("mode", "nearest"), transform = ctx.String("coordinate_transformation_mode", "half_pixel"), nearest = ctx.String("nearest_mode", "round_prefer_floor");
        bool linear = mode == "linear";
        if (linear && transform is not ("align_corners" or "half_pixel" or "pytorch_half_pixel"))
            throw ctx.Unsupported($"linear Resize with coordinate_transformation_mode '{transform}' is not supported (align_corners, half_pixel)");
        if (mode == "nearest" && (transform != "asymmetric" || nearest != "floor"))
            throw ctx.Unsupported($"nearest Resize with '{transform}' coordinates and nearest_mode '{nearest}' is not supported (asymmetric, floor)");
        if (mode is not ("linear" or "nearest")) throw ctx.Unsupported($"Resize mode '{mode}' is not supported (nearest, linear)");
        return new LambdaOp(i =>
        {
            var x = i[0]!;
            if (x.dim() != 4) throw new NotSupportedException($"ONNX node '{ctx.Node.DisplayName}' (Resize): only [N, C, H, W] inputs are supported");
            long outH, outW;
            if (i.Count > 3 && i[3] is { } sizes && sizes.numel() > 0)
            {
                var s = Longs(sizes);
                (outH, outW) = (s[^2], s[^1]);
            }
            else
            {
                var scales = Doubles(i[2]!);
                (outH, outW) = ((long)Math.Floor(x.shape[2] * scales[^2]), (long)Math.Floor(x.shape[3] * scales[^1]));
            }
            if (linear) return Methods.CamMath.Upsample(x, [outH, outW], transform == "align_corners");
            // asymmetric + floor: source index = floor(dst * in / out)
            var rows = NearestIndices(x.shape[2], outH, x.device);
            var cols = NearestIndices(x.shape[3], outW, x.device);
            using var picked = x.index_select(2, rows);
            return picked.index_select(3, cols);
        });
    }

    private static Tensor NearestIndices(long input, long output, Device device)
    {
        var index = new long[output];
        for (long o = 0; o < output; o++) index[o] = Math.Min(input - 1, (long)Math.Floor(o * (double)input / output));
        return tensor(index, device: device);
    }

    /// <summary>Expand: broadcast to a shape (numpy rules in both directions, as ONNX says).</summary>
    public static IOnnxOp Expand(OpContext _) => new LambdaOp(i =>
    {
        var x = i[0]!;
        var shape = Longs(i[1]!);
        int rank = Math.Max(shape.Length, (int)x.dim());
        var target = new long[rank];
        for (int d = 0; d < rank; d++)
        {
            long a = d - (rank - x.dim()) >= 0 ? x.shape[d - (rank - x.dim())] : 1;
            long b = d - (rank - shape.Length) >= 0 ? shape[d - (rank - shape.Length)] : 1;
            target[d] = a == 1 ? b : a;
        }
        return x.expand(target);
    });

    public static IOnnxOp Equal(OpContext _) => new LambdaOp(i => i[0]!.eq(i[1]!));

    public static IOnnxOp Where(OpContext _) => new LambdaOp(i => where(i[0]!.to_type(ScalarType.Bool), i[1]!, i[2]!));
}
