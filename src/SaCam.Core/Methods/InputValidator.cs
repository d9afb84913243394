using SaCam.Core.Models;
using SaCam.Core.Targets;
using static TorchSharp.torch;

namespace SaCam.Core.Methods;

/// <summary>
/// Checks an input tensor before it reaches native code: libtorch aborts the whole process on some shape errors,
/// so a wrong shape or type must become a managed exception that says what was expected.
/// </summary>
public static class InputValidator
{
    public static void Validate(Tensor input, IExplainableModel model, string what = "input tensor")
    {
        ValidateShape(input, model, what);
        RequireFinite(input, what);
    }

    /// <summary>The type and shape a model needs (cheap: no pass over the values).</summary>
    public static void ValidateShape(Tensor input, IExplainableModel model, string what = "input tensor")
    {
        var spec = model.Preprocess;
        long channels = model is IHasInputChannels c ? c.InputChannels : 3;
        if (input.dtype != ScalarType.Float32)
            throw new ArgumentException($"The {what} has dtype {input.dtype}; model '{model.Name}' needs float32.");
        var shape = input.shape;
        if (shape.Length != 4 || shape[0] != 1 || shape[1] != channels || shape[2] != spec.Height || shape[3] != spec.Width)
            throw new ArgumentException($"The {what} has shape [{string.Join(", ", shape)}]; model '{model.Name}' needs [1, {channels}, {spec.Height}, {spec.Width}].");
    }

    /// <summary>No NaN or infinity in <paramref name="values"/>.</summary>
    public static void RequireFinite(Tensor values, string what = "input tensor")
    {
        bool finite;
        using (NewDisposeScope()) finite = isfinite(values).all().item<bool>();
        if (!finite)
            throw new ArgumentException($"The {what} holds NaN or infinite values.");
    }
}

/// <summary>Models that know their input channel count.</summary>
public interface IHasInputChannels
{
    long InputChannels { get; }
}

/// <summary>Checks that a target fits the model (a class index in range; class targets need a classifier).</summary>
public static class TargetValidator
{
    public static void Validate(IExplanationTarget target, IExplainableModel model)
    {
        if (target is not ClassTarget c) return;
        if (model.OutputKind != OutputKind.Logits)
            throw new ArgumentException($"Model '{model.Name}' has no classifier head (its output is a {model.OutputSize}-d embedding): " +
                                        $"explain a similarity target instead of class {c.ClassIndex}.");
        if (c.ClassIndex < 0 || c.ClassIndex >= model.OutputSize)
            throw new ArgumentOutOfRangeException(nameof(target), c.ClassIndex,
                $"Class index {c.ClassIndex} is out of range for model '{model.Name}', which has {model.OutputSize} classes (0..{model.OutputSize - 1}).");
    }
}
