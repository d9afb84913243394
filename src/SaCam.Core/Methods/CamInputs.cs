using SaCam.Core.Targets;
using static TorchSharp.torch;

namespace SaCam.Core.Methods;

/// <summary>
/// Everything a CAM method may use, prepared once by the engine: the input, the target layer's activations and
/// (for gradient methods) their gradients, the target, and a runner for batched perturbation passes.
/// All tensors are detached and live on the model's device.
/// </summary>
public sealed class CamInputs
{
    public CamInputs(Tensor input, Tensor activations, Tensor? gradients, IExplanationTarget target, PerturbationRunner perturbations,
        ITimeSource? clock = null, double startedAtMs = 0)
    {
        Clock = clock ?? StopwatchTimeSource.Shared;
        StartedAtMs = clock is null ? Clock.NowMs : startedAtMs;
        Input = input;
        Activations = activations;
        Gradients = gradients;
        Target = target;
        Perturbations = perturbations;
    }

    /// <summary>The normalized input [1, C, H, W].</summary>
    public Tensor Input { get; }

    /// <summary>A: the target layer's activations [1, K, h, w].</summary>
    public Tensor Activations { get; }

    /// <summary>G = dScore/dA [1, K, h, w]; null for methods that do not ask for gradients.</summary>
    public Tensor? Gradients { get; }

    public Tensor RequireGradients(string method) =>
        Gradients ?? throw new InvalidOperationException($"Method '{method}' needs gradients but declares NeedsGradients = false.");

    public IExplanationTarget Target { get; }
    public PerturbationRunner Perturbations { get; }

    /// <summary>The clock the explanation is timed by (budgeted methods size their work with it).</summary>
    public ITimeSource Clock { get; }

    /// <summary>When the explanation started (forward pass included), on <see cref="Clock"/>.</summary>
    public double StartedAtMs { get; }

    public long Channels => Activations.shape[1];
    public long[] InputSize => [Input.shape[2], Input.shape[3]];
}
