using TorchSharp;
using static TorchSharp.torch;

namespace SaCam.Core.Onnx.Ops;

/// <summary>
/// Conv (1-D and 2-D): groups, dilations, strides, explicit or auto_pad padding. Symmetric padding goes to
/// the convolution itself; asymmetric padding (TensorFlow SAME exports) is applied as an explicit pad first.
/// </summary>
internal sealed class ConvOp : IOnnxOp
{
    private readonly long[] _strides, _dilations, _kernel;
    private readonly long _groups;
    private readonly SpatialPadding _padding;

    public ConvOp(OpContext ctx)
    {
        var weight = ctx.Constant(ctx.Node.Inputs[1]);
        _kernel = ctx.Ints("kernel_shape") ?? weight?.shape.Skip(2).ToArray()
            ?? throw ctx.Unsupported("kernel_shape is missing and the weight is not a constant");
        if (_kernel.Length != 2 && _kernel.Length != 1)
            throw ctx.Unsupported($"only 1-D and 2-D convolutions are supported (kernel rank {_kernel.Length})");
        _strides = ctx.Ints("strides") ?? Ones(_kernel.Length);
        _dilations = ctx.Ints("dilations") ?? Ones(_kernel.Length);
        _groups = ctx.Int("group", 1);
        _padding = SpatialPadding.FromNode(ctx, _kernel, _strides, _dilations);
    }

    public Tensor[] Run(IReadOnlyList<Tensor?> inputs)
    {
        var x = inputs[0]!;
        var w = inputs[1]!;
        var b = inputs.Count > 2 ? inputs[2] : null;
        var (input, padding) = _padding.Apply(x, 0.0);
        try
        {
            Tensor y = _kernel.Length == 2
                ? nn.functional.conv2d(input, w, b, _strides, padding, _dilations, _groups)
                : nn.functional.conv1d(input, w, b, _strides[0], padding[0], _dilations[0], _groups);
            return [y];
        }
        finally
        {
            if (!ReferenceEquals(input, x)) input.Dispose();
        }
    }

    internal static long[] Ones(int n) => Enumerable.Repeat(1L, n).ToArray();
}

/// <summary>
/// Padding of an ONNX conv or pool node, resolved at import. ONNX pads are [x1_begin, x2_begin, ..., x1_end, x2_end].
/// auto_pad SAME_* depends on the input size, so it is resolved per call.
/// </summary>
internal sealed class SpatialPadding
{
    private readonly string _autoPad;
    private readonly long[] _pads; // begin..., end...
    private readonly long[] _kernel, _strides, _dilations;

    private SpatialPadding(string autoPad, long[] pads, long[] kernel, long[] strides, long[] dilations)
    {
        _autoPad = autoPad;
        _pads = pads;
        _kernel = kernel;
        _strides = strides;
        _dilations = dilations;
    }

    public static SpatialPadding FromNode(OpContext ctx, long[] kernel, long[] strides, long[] dilations)
    {
        string autoPad = ctx.String("auto_pad", "NOTSET");
        if (autoPad is not ("NOTSET" or "VALID" or "SAME_UPPER" or "SAME_LOWER"))
            throw ctx.Unsupported($"auto_pad '{autoPad}' is not an ONNX value");
        var pads = ctx.Ints("pads") ?? new long[kernel.Length * 2];
        if (pads.Length != kernel.Length * 2)
            throw ctx.Unsupported($"pads has {pads.Length} values for a {kernel.Length}-D kernel");
        return new SpatialPadding(autoPad, pads, kernel, strides, dilations);
    }

    /// <summary>
    /// Returns the tensor to feed the op (padded explicitly where needed, with fill) and the symmetric
    /// padding to pass to the op itself.
    /// </summary>
    public (Tensor Input, long[] OpPadding) Apply(Tensor x, double fill)
    {
        int n = _kernel.Length;
        var pads = Resolve(x);
        bool symmetric = true;
        for (int i = 0; i < n; i++) symmetric &= pads[i] == pads[i + n];
        if (symmetric) return (x, pads.Take(n).ToArray());
        // torch's pad lists the last dimension first: (w_begin, w_end, h_begin, h_end).
        var torchPad = new long[2 * n];
        for (int i = 0; i < n; i++)
        {
            int dim = n - 1 - i;
            torchPad[2 * i] = pads[dim];
            torchPad[2 * i + 1] = pads[dim + n];
        }
        return (nn.functional.pad(x, torchPad, PaddingModes.Constant, fill), new long[n]);
    }

    private long[] Resolve(Tensor x)
    {
        int n = _kernel.Length;
        if (_autoPad == "NOTSET") return _pads;
        var pads = new long[2 * n];
        if (_autoPad == "VALID") return pads;
        for (int i = 0; i < n; i++)
        {
            long size = x.shape[2 + i];
            long outSize = (size + _strides[i] - 1) / _strides[i];
            long effectiveKernel = (_kernel[i] - 1) * _dilations[i] + 1;
            long total = Math.Max(0, (outSize - 1) * _strides[i] + effectiveKernel - size);
            long small = total / 2, large = total - small;
            (pads[i], pads[i + n]) = _autoPad == "SAME_UPPER" ? (small, large) : (large, small);
        }
        return pads;
    }
}
