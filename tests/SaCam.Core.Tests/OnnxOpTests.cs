using SaCam.Core;
using SaCam.Core.Models;
using SaCam.Core.Onnx;
using static TorchSharp.torch;

namespace SaCam.Tests;

/// <summary>Importer semantics on tiny graphs whose answers are known by hand.</summary>
[TestFixture]
public class OnnxOpTests
{
    private static Tensor Run(OnnxBuilder builder, Tensor input)
    {
        var module = OnnxImporter.Import(OnnxFileReader.Parse(builder.Build()), "test.onnx");
        using var noGrad = no_grad();
        return module.forward(input);
    }

    /// <summary>Slice with a negative start, an end past the size and a step of 2 (starts, ends, axes, steps as inputs).</summary>
    [Test]
    public void Slice_clamps_negative_and_oversized_indices_and_steps()
    {
        using var scope = NewDisposeScope();
        var b = new OnnxBuilder().Input("x", 1, 1, 1, 8).Output("y", 4)
            .Initializer("starts", [1], [-7]).Initializer("ends", [1], [100]).Initializer("axes", [1], [3]).Initializer("steps", [1], [2])
            .Node("Slice", ["x", "starts", "ends", "axes", "steps"], ["y"]);
        var y = Run(b, arange(8f).reshape(1, 1, 1, 8));
        Assert.That(y.flatten().data<float>().ToArray(), Is.EqualTo(new float[] { 1, 3, 5, 7 }));
    }

    /// <summary>Resize: nearest, asymmetric, floor, by scales 2 (an FPN's upsampling); linear with align_corners to
    /// sizes (a segmenter's logits to the input): 0, 1 over 3 pixels is 0, 0.5, 1.</summary>
    [Test]
    public void Resize_nearest_by_scales_and_linear_with_align_corners_by_sizes()
    {
        using var scope = NewDisposeScope();
        var nearest = new OnnxBuilder().Input("x", 1, 1, 2, 2).Output("y", 4).Initializer("scales", [4], [1, 1, 2, 2])
            .Node("Resize", ["x", "", "scales"], ["y"], null, ("mode", "nearest"), ("coordinate_transformation_mode", "asymmetric"), ("nearest_mode", "floor"));
        var y = Run(nearest, arange(4f).reshape(1, 1, 2, 2));
        Assert.That(y[0, 0].flatten().data<float>().ToArray(), Is.EqualTo(new float[] { 0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3 }));
        var linear = new OnnxBuilder().Input("x", 1, 1, 1, 2).Output("y", 4).Initializer("sizes", [4], [1, 1, 1, 3])
            .Node("Resize", ["x", "", "", "sizes"], ["y"], null, ("mode", "linear"), ("coordinate_transformation_mode", "align_corners"));
        var z = Run(linear, tensor(new float[] { 0, 1 }).reshape(1, 1, 1, 2));
        Assert.That(z.flatten().data<float>().ToArray(), Is.EqualTo(new float[] { 0, 0.5f, 1 }).Within(1e-6));
    }

    [Test]
    public void A_resize_mode_the_importer_lacks_is_named()
    {
        var b = new OnnxBuilder().Input("x", 1, 1, 2, 2).Output("y", 4).Initializer("scales", [4], [1, 1, 2, 2])
            .Node("Resize", ["x", "", "scales"], ["y"], "up", ("mode", "cubic"));
        var e = Assert.Throws<ModelLoadException>(() => OnnxImporter.Import(OnnxFileReader.Parse(b.Build()), "test.onnx"));
        Assert.That(e!.Message, Does.Contain("'up' (Resize)").And.Contain("cubic"));
    }

    /// <summary>Expand broadcasts [1, 2, 1, 1] to [1, 2, 2, 3]; Where picks by an Equal mask.</summary>
    [Test]
    public void Expand_broadcasts_and_where_picks_by_an_equal_mask()
    {
        using var scope = NewDisposeScope();
        var expand = new OnnxBuilder().Input("x", 1, 2, 1, 1).Output("y", 4).Initializer("shape", [4], [1, 1, 2, 3])
            .Node("Expand", ["x", "shape"], ["y"]);
        var y = Run(expand, tensor(new float[] { 5, 7 }).reshape(1, 2, 1, 1));
        Assert.That(y.shape, Is.EqualTo(new long[] { 1, 2, 2, 3 }));
        Assert.That(y[0, 1].flatten().data<float>().ToArray(), Is.All.EqualTo(7f));
        var pick = new OnnxBuilder().Input("x", 1, 1, 1, 4).Output("y", 4).Initializer("two", [1], [2]).Initializer("zero", [1], [0])
            .Node("Equal", ["x", "two"], ["is_two"]).Node("Where", ["is_two", "zero", "x"], ["y"]);
        var z = Run(pick, tensor(new float[] { 1, 2, 3, 2 }).reshape(1, 1, 1, 4));
        Assert.That(z.flatten().data<float>().ToArray(), Is.EqualTo(new float[] { 1, 0, 3, 0 }));
    }

    [Test]
    public void MaxPool_with_asymmetric_pads_and_ceil_mode()
    {
        using var scope = NewDisposeScope();
        // 1x1x4x4 ramp 0..15, kernel 2, stride 2, pads (top 1, left 1, bottom 0, right 0), ceil_mode: 3x3 output.
        var b = new OnnxBuilder().Input("x", 1, 1, 4, 4).Output("y", 4)
            .Node("MaxPool", ["x"], ["y"], null, ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }),
                ("pads", new long[] { 1, 1, 0, 0 }), ("ceil_mode", 1L));
        var y = Run(b, arange(16f).reshape(1, 1, 4, 4));
        Assert.That(y.flatten().data<float>().ToArray(), Is.EqualTo(new float[] { 0, 2, 3, 8, 10, 11, 12, 14, 15 }));
    }

    [Test]
    public void AveragePool_counts_real_pixels_only_unless_told_otherwise()
    {
        using var scope = NewDisposeScope();
        foreach (var (include, corner) in new[] { (0L, 1f), (1L, 0.25f) })
        {
            var b = new OnnxBuilder().Input("x", 1, 1, 4, 4).Output("y", 4)
                .Node("AveragePool", ["x"], ["y"], null, ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }),
                    ("pads", new long[] { 1, 1, 0, 0 }), ("ceil_mode", 1L), ("count_include_pad", include));
            var y = Run(b, ones(1, 1, 4, 4));
            Assert.That(y[0, 0, 0, 0].item<float>(), Is.EqualTo(corner).Within(1e-6), $"count_include_pad={include}: corner window holds 1 real of 4");
        }
    }

    [Test]
    public void Conv_same_upper_and_groups()
    {
        using var scope = NewDisposeScope();
        // Depthwise 3x3 ones kernel, stride 2, SAME_UPPER on 5x5 ones: total pad 2 split 1/1 -> 3x3 output of window counts.
        var b = new OnnxBuilder().Input("x", 1, 2, 5, 5).Output("y", 4)
            .Initializer("w", [2, 1, 3, 3], Enumerable.Repeat(1f, 18).ToArray())
            .Node("Conv", ["x", "w"], ["y"], null, ("group", 2L), ("strides", new long[] { 2, 2 }), ("auto_pad", "SAME_UPPER"));
        var y = Run(b, ones(1, 2, 5, 5));
        Assert.That(y[0, 1].flatten().data<float>().ToArray(), Is.EqualTo(new float[] { 4, 6, 4, 6, 9, 6, 4, 6, 4 }));
    }

    [Test]
    public void Shape_arithmetic_reshapes_with_a_dynamic_batch()
    {
        using var scope = NewDisposeScope();
        // Flatten written the exporter way: Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1])).
        var b = new OnnxBuilder(11).Input("x", -1, 2, 3, 3).Output("y", 2)
            .Node("Shape", ["x"], ["s"])
            .Node("Constant", [], ["zero"], null, ("value_int", 0L))
            .Node("Gather", ["s", "zero"], ["n"], null, ("axis", 0L))
            .Node("Unsqueeze", ["n"], ["n1"], null, ("axes", new long[] { 0 }))
            .Node("Constant", [], ["minus1"], null, ("value_ints", new long[] { -1 }))
            .Node("Concat", ["n1", "minus1"], ["shape"], null, ("axis", 0L))
            .Node("Reshape", ["x", "shape"], ["y"]);
        Assert.That(Run(b, ones(5, 2, 3, 3)).shape, Is.EqualTo(new long[] { 5, 18 }));
        Assert.That(Run(b, ones(2, 2, 3, 3)).shape, Is.EqualTo(new long[] { 2, 18 }), "the batch size is not baked in");
    }

    [Test]
    public void Clip_reads_min_and_max_as_attributes_before_opset_11_and_as_inputs_after()
    {
        using var scope = NewDisposeScope();
        var old = new OnnxBuilder(9).Input("x", 1, 4).Output("y", 2)
            .Node("Clip", ["x"], ["y"], null, ("min", 0f), ("max", 6f));
        var current = new OnnxBuilder(13).Input("x", 1, 4).Output("y", 2)
            .Initializer("lo", [], [0f]).Initializer("hi", [], [6f])
            .Node("Clip", ["x", "lo", "hi"], ["y"]);
        var x = tensor(new float[] { -3, 2, 7, 6 }).reshape(1, 4);
        var expected = new float[] { 0, 2, 6, 6 };
        Assert.That(Run(old, x).data<float>().ToArray(), Is.EqualTo(expected));
        Assert.That(Run(current, x).data<float>().ToArray(), Is.EqualTo(expected));
    }

    [Test]
    public void Gemm_with_transposed_weight_and_softmax()
    {
        using var scope = NewDisposeScope();
        var b = new OnnxBuilder().Input("x", 1, 2).Output("y", 2)
            .Initializer("w", [3, 2], [1, 0, 0, 1, 1, 1]).Initializer("c", [3], [0, 0, 0])
            .Node("Gemm", ["x", "w", "c"], ["z"], null, ("transB", 1L))
            .Node("Softmax", ["z"], ["y"], null, ("axis", 1L));
        var y = Run(b, tensor(new float[] { 1, 2 }).reshape(1, 2));
        var z = new[] { 1.0, 2.0, 3.0 };
        var e = z.Select(Math.Exp).ToArray();
        Assert.That(y.data<float>().ToArray(), Is.EqualTo(e.Select(v => (float)(v / e.Sum())).ToArray()).Within(1e-6));
    }
}
