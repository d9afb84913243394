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
        CancellationToken cancellation = default, IProgress<PerturbationProgress>? progress = null) =>
        ExplainEach(input, [new CamJob(method, target)], layer, cancellation, progress)[0];

    /// <summary>
    /// Explains several targets of one image (the objects of a frame), each with its own method, from one forward
    /// pass: the model runs once, and each gradient-needing job gets dScore/dA from its own backward through the same
    /// graph (kept until the last one). Each result equals what <see cref="Explain"/> gives for that job alone; a
    /// frame of three cars pays one forward instead of three. Results are in the jobs' order; the caller disposes them.
    /// </summary>
    public IReadOnlyList<CamResult> ExplainEach(Tensor input, IReadOnlyList<CamJob> jobs, string? layer = null,
        CancellationToken cancellation = default, IProgress<PerturbationProgress>? progress = null)
    {
        if (jobs.Count == 0) return [];
        cancellation.ThrowIfCancellationRequested();
        var forwardClock = Stopwatch.StartNew();
        double startedAtMs = Clock.NowMs;
        layer ??= _model.DefaultLayer;
        if (!_model.Layers.Any(l => l.Name == layer)) throw ModelLayers.UnknownLayer(_model.Name, layer, _model.Layers);
        // The shape now; finiteness on the model's output below (a NaN or infinity in the input reaches it), since a
        // pass over every input value cost ~0.7 ms, a tenth of a fast forward.
        InputValidator.ValidateShape(input, _model);

        var results = new List<CamResult>(jobs.Count);
        try
        {
            using var scope = NewDisposeScope();
            var x = input.to(_model.Device).detach();
            bool anyGradients = jobs.Any(j => j.Method.NeedsGradients);
            using (anyGradients ? enable_grad() : no_grad())
            {
                var forward = _model.ForwardWithActivation(x, layer);
                if (!isfinite(forward.Output).all().item<bool>())
                {
                    InputValidator.RequireFinite(x);
                    throw new ArgumentException($"Model '{_model.Name}' gives NaN or infinite outputs for this input.");
                }
                var activations = forward.Activation.detach();
                var forwardTime = forwardClock.Elapsed;
                double forwardMs = Clock.NowMs - startedAtMs;
                int lastGradientJob = jobs.Select((j, i) => j.Method.NeedsGradients ? i : -1).Max();
                for (int i = 0; i < jobs.Count; i++)
                {
                    cancellation.ThrowIfCancellationRequested();
                    var jobClock = Stopwatch.StartNew();
                    // A budgeted method times its gradient pass from here: its own backward plus its share of the one
                    // forward (for a single job, exactly the time since the call began).
                    double jobStartedAtMs = Clock.NowMs - forwardMs / jobs.Count;
                    var (method, target) = jobs[i];
                    bool defaultTarget = target is null;
                    target ??= DefaultTarget(forward.Output.detach());
                    TargetValidator.Validate(target, _model);
                    Tensor? gradients = null;
                    if (method.NeedsGradients)
                    {
                        var score = target.Score(forward.Output).sum();
                        if (!score.requires_grad)
                            throw new InvalidOperationException($"The target '{target.Description}' does not depend on layer '{layer}': no gradient flows to it.");
                        // The graph stays for the jobs after this one; the last backward frees it.
                        gradients = autograd.grad([score], [forward.Activation], retain_graph: i < lastGradientJob)[0];
                    }
                    using (no_grad())
                    {
                        results.Add(Compute(x, activations, gradients, forward.Output.detach(), method, target, defaultTarget, layer,
                            jobStartedAtMs, forwardTime, jobClock, cancellation, progress));
                    }
                }
            }
            return results;
        }
        catch
        {
            foreach (var r in results) r.Dispose();
            throw;
        }
    }

    /// <summary>The method's own step on one job's inputs, then the final map. It runs in <see cref="ExplainEach"/>'s
    /// scope, not one of its own, so a method's tensors moved one scope out reach the engine's caller, as they did when
    /// the engine explained one target per call; the result's tensors go to the caller's scope.</summary>
    private CamResult Compute(Tensor x, Tensor activations, Tensor? gradients, Tensor output, ICamMethod method, IExplanationTarget target,
        bool ownsTarget, string layer, double startedAtMs, TimeSpan forwardTime, Stopwatch jobClock, CancellationToken cancellation,
        IProgress<PerturbationProgress>? progress)
    {
        var runner = new PerturbationRunner(_model, PerturbationBatchSize, cancellation, progress);
        runner.BatchRun += images => PerturbationBatchRun?.Invoke(images);
        var inputs = new CamInputs(x, activations, gradients, target, runner, Clock, startedAtMs);
        var computed = method.Compute(inputs);
        var map = FinalMap(computed.LowResMap, [x.shape[2], x.shape[3]], method.RenormalizeAfterResize);
        var signed = !KeepSignedMaps ? null
            : computed.ChannelWeights is { } cw ? (cw.reshape(-1, 1, 1) * activations[0]).sum(dim: 0) : computed.LowResMap;
        return new CamResult(method.Id, layer, target, map.MoveToOuterDisposeScope(), computed.LowResMap.MoveToOuterDisposeScope(),
            computed.ChannelWeights?.MoveToOuterDisposeScope(),
            computed.Parts.ToDictionary(p => p.Key, p => p.Value.MoveToOuterDisposeScope()),
            output[0].MoveToOuterDisposeScope(), forwardTime + jobClock.Elapsed)
        {
            Diagnostics = computed.Diagnostics,
            OwnsTarget = ownsTarget,
            SignedLowResMap = signed?.MoveToOuterDisposeScope(),
        };
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

/// <summary>One explanation of an image: a method and its target (null: the model's top class).</summary>
public readonly record struct CamJob(ICamMethod Method, IExplanationTarget? Target);
