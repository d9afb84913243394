using TorchSharp;
using static TorchSharp.torch;

namespace SaCam.Core.Onnx.Ops;

/// <summary>MaxPool (2-D): asymmetric pads are applied as -inf padding first, ceil_mode as torch does it.</summary>
internal sealed class MaxPoolOp : IOnnxOp
{
    private readonly long[] _kernel, _strides, _dilations;
    private readonly bool _ceil;
    private readonly SpatialPadding _padding;

    public MaxPoolOp(OpContext ctx)
    {
        _kernel = ctx.Ints("kernel_shape") ?? throw ctx.Unsupported("kernel_shape is required");
        if (_kernel.Length != 2) throw ctx.Unsupported("only 2-D pooling is supported");
        if (ctx.Node.Outputs.Count > 1 && ctx.Node.Outputs[1].Length > 0) throw ctx.Unsupported("the Indices output is not supported");
        _strides = ctx.Ints("strides") ?? ConvOp.Ones(2);
        _dilations = ctx.Ints("dilations") ?? ConvOp.Ones(2);
        _ceil = ctx.Int("ceil_mode", 0) == 1;
        _padding = SpatialPadding.FromNode(ctx, _kernel, _strides, _dilations);
    }

    public Tensor[] Run(IReadOnlyList<Tensor?> inputs)
    {
        var x = inputs[0]!;
        var (input, padding) = _padding.Apply(x, double.NegativeInfinity);
        try
        {
            return [nn.functional.max_pool2d(input, _kernel, _strides, padding, _dilations, _ceil)];
        }
        finally
        {
            if (!ReferenceEquals(input, x)) input.Dispose();
        }
    }
}

/// <summary>
/// AveragePool (2-D). With asymmetric pads the sum over the explicitly zero-padded input is divided by the
/// count of real (count_include_pad = 0) or padded (= 1) positions in each window, which is ONNX's definition.
/// </summary>
internal sealed class AveragePoolOp : IOnnxOp
{
    private readonly long[] _kernel, _strides;
    private readonly bool _ceil, _countIncludePad;
    private readonly SpatialPadding _padding;

    public AveragePoolOp(OpContext ctx)
    {
        _kernel = ctx.Ints("kernel_shape") ?? throw ctx.Unsupported("kernel_shape is required");
        if (_kernel.Length != 2) throw ctx.Unsupported("only 2-D pooling is supported");
        _strides = ctx.Ints("strides") ?? ConvOp.Ones(2);
        _ceil = ctx.Int("ceil_mode", 0) == 1;
        _countIncludePad = ctx.Int("count_include_pad", 0) == 1;
        _padding = SpatialPadding.FromNode(ctx, _kernel, _strides, ConvOp.Ones(2));
    }

    public Tensor[] Run(IReadOnlyList<Tensor?> inputs)
    {
        var x = inputs[0]!;
        var (input, padding) = _padding.Apply(x, 0.0);
        if (ReferenceEquals(input, x))
            return [nn.functional.avg_pool2d(x, _kernel, _strides, padding, _ceil, _countIncludePad)];
        using var scope = NewDisposeScope();
        var sums = nn.functional.avg_pool2d(input, _kernel, _strides, ceil_mode: _ceil, count_include_pad: true, divisor_override: 1);
        Tensor counts;
        if (_countIncludePad)
        {
            counts = nn.functional.avg_pool2d(ones_like(input[..1, ..1]), _kernel, _strides, ceil_mode: _ceil, count_include_pad: true, divisor_override: 1);
        }
        else
        {
            var (mask, _) = _padding.Apply(ones_like(x[..1, ..1]), 0.0);
            counts = nn.functional.avg_pool2d(mask, _kernel, _strides, ceil_mode: _ceil, count_include_pad: true, divisor_override: 1);
        }
        return [(sums / counts).MoveToOuterDisposeScope()];
    }
}

/// <summary>GlobalAveragePool and GlobalMaxPool: reduce every spatial axis, keep dims.</summary>
internal sealed class GlobalPoolOp(bool max) : IOnnxOp
{
    public Tensor[] Run(IReadOnlyList<Tensor?> inputs)
    {
        var x = inputs[0]!;
        var axes = Enumerable.Range(2, (int)x.dim() - 2).Select(i => (long)i).ToArray();
        return [max ? x.amax(axes, keepdim: true) : x.mean(axes, keepdim: true)];
    }
}
