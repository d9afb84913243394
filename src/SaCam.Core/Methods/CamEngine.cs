using System.Diagnostics;
using SaCam.Core.Models;
using SaCam.Core.Targets;
using static TorchSharp.torch;

namespace SaCam.Core.Methods;

/// <summary>
/// The template every method runs in: validate the input, one forward pass that captures the target layer as a
/// grad-requiring leaf, dScore/dA by autograd.grad when the method asks for it (parameter gradients are never
/// touched), the method's own step, then ReLU, min-max normalization and bilinear upsampling. Everything runs in
/// one dispose scope; only the result's tensors leave it.
/// </summary>
public sealed class CamEngine
{
    private readonly IExplainableModel _model;

    public CamEngine(IExplainableModel model, int perturbationBatchSize = 16, ITimeSource? clock = null)
    {
        _model = model;
        PerturbationBatchSize = perturbationBatchSize;
        Clock = clock ?? StopwatchTimeSource.Shared;
    }

    /// <summary>Also compute each result's signed map (sum_k w_k A_k before ReLU) for comparisons that care about
    /// sign, such as sanity checks. Off by default: a video frame does not need it.</summary>
    public bool KeepSignedMaps { get; init; }

    /// <summary>The clock methods are timed by (tests put a controlled one here).</summary>
    public ITimeSource Clock { get; }

    /// <summary>Raised after every perturbation batch with its image count (benchmarks and controlled clocks listen).</summary>
    public event Action<long>? PerturbationBatchRun;

    public IExplainableModel Model => _model;
    public int PerturbationBatchSize { get; }

    /// <summary>
    /// The batch for whole-image perturbation methods (Score-CAM, Group-CAM, full SA-CAM) on this model: 32 on ONNX
    /// Runtime (full SA-CAM 0.93x the time of batch 16 there, 64 0.91x: docs/benchmarks.md, suite sacam-batch), 16 on
    /// TorchSharp (its activations at larger batches cost memory for little gain). Video keeps 16: sacam-rt's budget
    /// buys channels in small batches.
    /// </summary>
    public static int PreferredBatchSize(IExplainableModel model) => model is OnnxCnnModel { UsesFastEngine: true } ? 32 : 16;

    /// <summary>Explains <paramref name="input"/> [1, C, H, W] (normalized). Target: top-1 class, or self-similarity
    /// for a model without a classifier head. Layer: the model's default. A cancellation stops a perturbation method
    /// between two batches (OperationCanceledException); progress counts its perturbed images.</summary>
    public CamResult Explain(Tensor input, ICamMethod method, IExplanationTarget? target = null, string? layer = null,
        CancellationToken cancellation = default, IProgress<PerturbationProgress>? progress = null)
    {
        cancellation.ThrowIfCancellationRequested();
        var clock = Stopwatch.StartNew();
        double startedAtMs = Clock.NowMs;
        layer ??= _model.DefaultLayer;
        if (!_model.Layers.Any(l => l.Name == layer)) throw ModelLayers.UnknownLayer(_model.Name, layer, _model.Layers);
        // The shape now; finiteness on the model's output below (a NaN or infinity in the input reaches it), since a
        // pass over every input value cost ~0.7 ms, a tenth of a fast forward.
        InputValidator.ValidateShape(input, _model);

        using var scope = NewDisposeScope();
        var x = input.to(_model.Device).detach();
        Tensor activations, output;
        Tensor? gradients = null;
        bool defaultTarget = target is null;
        using (method.NeedsGradients ? enable_grad() : no_grad())
        {
            var forward = _model.ForwardWithActivation(x, layer);
            output = forward.Output;
            if (!isfinite(output).all().item<bool>())
            {
                InputValidator.RequireFinite(x);
                throw new ArgumentException($"Model '{_model.Name}' gives NaN or infinite outputs for this input.");
            }
            target ??= DefaultTarget(output.detach());
            TargetValidator.Validate(target, _model);
            if (method.NeedsGradients)
            {
                var score = target.Score(output).sum();
                if (!score.requires_grad)
                    throw new InvalidOperationException($"The target '{target.Description}' does not depend on layer '{layer}': no gradient flows to it.");
                gradients = autograd.grad([score], [forward.Activation])[0];
            }
            activations = forward.Activation.detach();
        }

        CamComputation computed;
        using (no_grad())
        {
            var runner = new PerturbationRunner(_model, PerturbationBatchSize, cancellation, progress);
            runner.BatchRun += images => PerturbationBatchRun?.Invoke(images);
            var inputs = new CamInputs(x, activations, gradients, target, runner, Clock, startedAtMs);
            computed = method.Compute(inputs);
        }
        var map = FinalMap(computed.LowResMap, [x.shape[2], x.shape[3]], method.RenormalizeAfterResize);
        var signed = !KeepSignedMaps ? null
            : computed.ChannelWeights is { } cw ? (cw.reshape(-1, 1, 1) * activations[0]).sum(dim: 0) : computed.LowResMap;
        var result = new CamResult(method.Id, layer, target, map.MoveToOuterDisposeScope(), computed.LowResMap.MoveToOuterDisposeScope(),
            computed.ChannelWeights?.MoveToOuterDisposeScope(),
            computed.Parts.ToDictionary(p => p.Key, p => p.Value.MoveToOuterDisposeScope()),
            output.detach()[0].MoveToOuterDisposeScope(), clock.Elapsed)
        {
            Diagnostics = computed.Diagnostics,
            OwnsTarget = defaultTarget,
            SignedLowResMap = signed?.MoveToOuterDisposeScope(),
        };
        return result;
    }

    /// <summary>min-max (eps 1e-7) at layer resolution, bilinear resize (half-pixel centres, as cv2.resize), and
    /// for pytorch-grad-cam's methods a second min-max after the resize, as its scale_cam_image does.</summary>
    public static Tensor FinalMap(Tensor lowRes, long[] size, bool renormalize)
    {
        using var scope = NewDisposeScope();
        var normalized = CamMath.MinMax(lowRes, 1e-7);
        var up = CamMath.Upsample(normalized.reshape(1, 1, normalized.shape[0], normalized.shape[1]), size, alignCorners: false)[0, 0];
        if (renormalize)
        {
            // In place on the upsampled map: this runs on every video frame.
            var lo = up.min();
            up.sub_(lo).div_(up.max().add_(1e-7));
        }
        return up.MoveToOuterDisposeScope();
    }

    private IExplanationTarget DefaultTarget(Tensor output)
    {
        if (_model.OutputKind == OutputKind.Embedding)
            return new EmbeddingSimilarityTarget(output[0], SimilarityMeasure.Projection, "projection on the image's own embedding");
        int top = (int)output[0].argmax().item<long>();
        return new ClassTarget(top, _model.Labels?[top]);
    }
}
