using SaCam.Core;
using System.Diagnostics;
using SaCam.Core.Methods;
using SaCam.Core.Models;
using SaCam.Core.Targets;
using SaCam.Imaging;
using static TorchSharp.torch;

namespace SaCam.Video.Pipeline;

/// <summary>
/// The explain stage: preprocess a frame, explain it (or, for method "none", only classify it: the baseline every
/// speed figure is measured against), and keep what the later stages need. One dispose scope per frame; only the
/// map (moved to the CPU) leaves it. Not thread-safe: one instance per pipeline, called from one thread at a time.
/// </summary>
public sealed class FrameExplainer : IFrameExplainer
{
    public const string ClassifyOnly = "none";

    private readonly IExplainableModel _model;
    private readonly CamEngine _engine;
    private readonly ICamMethod? _method;
    private readonly IExplanationTarget? _target;
    private readonly string? _layer;

    public FrameExplainer(IExplainableModel model, string methodId, IExplanationTarget? target = null, string? layer = null, CamEngine? engine = null)
        : this(model, methodId == ClassifyOnly ? null : MethodRegistry.Create(methodId), target, layer, engine) { }

    /// <param name="target">What every frame is explained for: a class, an exemplar, a plugin's target; null for
    /// each frame's own top-1 class (or, for a backbone, its own embedding).</param>
    public FrameExplainer(IExplainableModel model, ICamMethod? method, IExplanationTarget? target = null, string? layer = null, CamEngine? engine = null)
    {
        _model = model;
        _method = method;
        _target = target;
        _layer = layer;
        _engine = engine ?? new CamEngine(model);
        if (target is ClassTarget { ClassIndex: var c } && (c < 0 || c >= model.OutputSize))
            throw new ArgumentOutOfRangeException(nameof(target), c, $"Class {c} is out of range for model '{model.Name}' ({model.OutputSize} outputs).");
    }

    public string MethodId => _method?.Id ?? ClassifyOnly;
    public IExplainableModel Model => _model;

    /// <summary>Frames between two returns of free heap memory to the system (see NativeRuntime.ReleaseFreeMemory).</summary>
    public const int FramesBetweenHeapTrims = 100;
    private long _explained;
    private bool _warmedUp;

    /// <summary>
    /// Whether the first frame is preceded by an untimed warm-up: one forward and backward (Grad-CAM, no state) and
    /// one plain forward on that frame, so that first-use costs (libtorch's and ONNX Runtime's lazy set-up, JIT)
    /// are paid before anything is timed. Without it a cold first pass (5.6 s measured, 20x a warm one) seeded
    /// sacam-rt's automatic budget, which spent about ten frames' worth of it scoring (frames 0-9 took 20 of a
    /// 26.5 s run). On by default; its time is not in the frame's ExplainMs.
    /// </summary>
    public bool WarmUpFirstFrame { get; init; } = true;

    /// <summary>A faithfulness check of every Nth explained frame's map (`--quality-every N`); null: none. Its time is
    /// not in the frame's ExplainMs: the record gives it as quality_ms.</summary>
    public QualitySampling? Quality { get; init; }

    /// <param name="cancellation">A stop: a perturbation method ends between two batches (OperationCanceledException).</param>
    public FrameExplanation Explain(VideoFrame frame, CancellationToken cancellation = default)
    {
        if (++_explained % FramesBetweenHeapTrims == 0) NativeRuntime.ReleaseFreeMemory();
        var clock = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        var (input, geometry) = ImagePreprocessor.ToTensor(frame.ModelImage ?? frame.Image, _model.Preprocess, _model.Device);
        // Preprocessing is part of the frame's time; the warm-up is not.
        double warmUpMs = 0;
        if (!_warmedUp)
        {
            _warmedUp = true;
            if (WarmUpFirstFrame)
            {
                var warmUp = Stopwatch.StartNew();
                WarmUp(input, cancellation);
                warmUpMs = warmUp.Elapsed.TotalMilliseconds;
            }
        }
        if (_method is null)
        {
            Tensor output;
            using (no_grad()) output = _model.Predict(input)[0];
            var (top, label, score, top5) = Summarize(output);
            return new FrameExplanation
            {
                MethodId = ClassifyOnly, ClassIndex = top, Label = label, Score = score, Top5 = top5,
                Geometry = geometry, ExplainMs = clock.Elapsed.TotalMilliseconds - warmUpMs,
            };
        }
        using var result = _engine.Explain(input, _method, _target, _layer, cancellation);
        var map = result.Map.detach().cpu().MoveToOuterDisposeScope();
        var summary = Summarize(result.Output);
        int classIndex = result.Target is ClassTarget t ? t.ClassIndex : summary.Top;
        float classScore = result.Target.Confidence(result.Output.unsqueeze(0)).item<float>();
        double explainMs = clock.Elapsed.TotalMilliseconds - warmUpMs;
        MapQuality? quality = null;
        var diagnostics = result.Diagnostics;
        if (Quality is { } sampling && sampling.NextIsDue())
        {
            var qualityClock = Stopwatch.StartNew();
            quality = sampling.Check.Check(input, result.Map, result.Target, cancellation);
            diagnostics = new Dictionary<string, double>(diagnostics) { ["quality_ms"] = qualityClock.Elapsed.TotalMilliseconds };
        }
        return new FrameExplanation
        {
            MethodId = _method.Id, ClassIndex = classIndex, Label = result.Target is ClassTarget ? _model.Labels?[classIndex] : result.Target.Description,
            Score = classScore, Top5 = summary.Top5, Map = map, Geometry = geometry,
            Statistics = MapStatistics.Of(map, geometry), ExplainMs = explainMs, Diagnostics = diagnostics, Quality = quality,
        };
    }

    /// <summary>The untimed first passes (see <see cref="WarmUpFirstFrame"/>): Grad-CAM for the forward and backward
    /// the method's own frame will time, a plain forward for the perturbed batches; the results are dropped.</summary>
    private void WarmUp(Tensor input, CancellationToken cancellation)
    {
        using var scope = NewDisposeScope();
        using (no_grad()) _model.Predict(input);
        if (_method is not null)
        {
            using var warm = _engine.Explain(input, new GradCam(), _target, _layer, cancellation);
        }
    }

    private (int Top, string? Label, float Score, IReadOnlyList<(int, string?, float)> Top5) Summarize(Tensor output)
    {
        if (_model.OutputKind != OutputKind.Logits) return (-1, null, 0, []);
        var top = CamResult.TopKOf(output, 5);
        var top5 = top.Select(t => (t.Index, _model.Labels?[t.Index], t.Probability)).ToList();
        return (top[0].Index, _model.Labels?[top[0].Index], top[0].Probability, top5);
    }

    public void Dispose() => (_method as IDisposable)?.Dispose();
}
