using OpenCvSharp;
using Size = OpenCvSharp.Size;
using SaCam.Core;
using SaCam.Core.Methods;
using SaCam.Core.Models;
using SaCam.Core.Realtime;
using SaCam.Imaging;
using SaCam.Video;
using SaCam.Video.Overlays;
using SaCam.Video.Pipeline;
using static TorchSharp.torch;

namespace SaCam.Tests;

/// <summary>
/// The start of a video run (issue 20 section 6): a cold first pass must not set sacam-rt's automatic budget (a
/// 5.6 s budget made frames 0-9 take 20 of 26.5 s), and the HUD shows no rate it cannot know yet.
/// </summary>
[TestFixture]
public class VideoStartupTests
{
    private sealed class ControlledClock : ITimeSource
    {
        public double NowMs { get; private set; }
        public void Advance(double ms) => NowMs += ms;
    }

    /// <summary>The tiny CNN on a controlled clock whose first forward-with-activation is cold (5 s), the later ones
    /// 30 ms; a perturbed image costs 2 ms.</summary>
    private sealed class ColdStartModel(IExplainableModel inner, ControlledClock clock) : IExplainableModel
    {
        public const double ColdMs = 5000, WarmMs = 30, PerImageMs = 2;
        private bool _warm;

        public string Name => inner.Name;
        public Device Device => inner.Device;
        public SaCam.Core.Preprocessing.PreprocessSpec Preprocess { get => inner.Preprocess; set => inner.Preprocess = value; }
        public ClassLabels? Labels { get => inner.Labels; set => inner.Labels = value; }
        public OutputKind OutputKind => inner.OutputKind;
        public long OutputSize => inner.OutputSize;
        public string DefaultLayer => inner.DefaultLayer;
        public IReadOnlyList<LayerInfo> Layers => inner.Layers;
        public nn.Module Module => inner.Module;

        public CapturedForward ForwardWithActivation(Tensor input, string layer)
        {
            clock.Advance(_warm ? WarmMs : ColdMs);
            _warm = true;
            return inner.ForwardWithActivation(input, layer);
        }

        public Tensor Predict(Tensor input)
        {
            clock.Advance(PerImageMs * input.shape[0]);
            return inner.Predict(input);
        }

        public void Dispose() => inner.Dispose();
    }

    private static double FirstFrameBudget(bool warmUp)
    {
        var clock = new ControlledClock();
        using var model = new ColdStartModel(OnnxCnnModel.Load(TinyCnn.Save()), clock);
        using var explainer = new FrameExplainer(model, new RealtimeSaCam(), engine: new CamEngine(model, clock: clock)) { WarmUpFirstFrame = warmUp };
        using var image = new Mat(48, 64, MatType.CV_8UC3, new Scalar(40, 120, 200));
        using var frame = new VideoFrame(0, TimeSpan.Zero, image.Clone());
        using var explanation = explainer.Explain(frame);
        return explanation.Diagnostics["budget_ms"];
    }

    /// <summary>With the warm-up (the default), the first frame's automatic budget is 2x a warm forward and backward;
    /// without it, 2x the cold one.</summary>
    [Test]
    public void The_automatic_budget_is_measured_after_a_warm_up()
    {
        Assert.Multiple(() =>
        {
            Assert.That(FirstFrameBudget(warmUp: true), Is.EqualTo(2 * ColdStartModel.WarmMs).Within(1e-9), "2 x the warm 30 ms pass");
            Assert.That(FirstFrameBudget(warmUp: false), Is.EqualTo(2 * ColdStartModel.ColdMs).Within(1e-9), "the cold pass, as before the warm-up");
        });
    }

    private static AnnotatedFrame Annotated(double latencyMs)
    {
        var geometry = new FrameGeometry(new Size(64, 48), new Size(32, 32), new Rect(0, 0, 64, 48), new Rect(0, 0, 32, 32));
        var explanation = new FrameExplanation
        {
            MethodId = "sacam-rt", ClassIndex = 1, Score = 0.5f, Top5 = [], Geometry = geometry, ExplainMs = 10,
            Diagnostics = new Dictionary<string, double> { ["budget_ms"] = 60, ["used_ms"] = 55, ["cache_coverage"] = 0.25 },
        };
        return new AnnotatedFrame(new VideoFrame(0, TimeSpan.Zero, new Mat(48, 64, MatType.CV_8UC3)), explanation) { LatencyMs = latencyMs };
    }

    /// <summary>Until the pipeline has measured IntervalsBeforeRatesKnown intervals, and for the first frames drawn,
    /// the HUD says it is measuring instead of printing a start-up fps and latency; the frame's own figures (budget,
    /// cache, drops) are there from the first frame.</summary>
    [Test]
    public void The_hud_shows_rates_only_once_they_are_measured()
    {
        var stats = new PipelineStatistics();
        using var first = Annotated(latencyMs: 12891);
        string atStart = FrameRenderer.HudText(first, stats, renderedFrames: 1);
        for (int i = 0; i <= PipelineStatistics.IntervalsBeforeRatesKnown; i++) stats.OnExplained(1000 + 100 * i);
        string drawnLate = FrameRenderer.HudText(first, stats, renderedFrames: 1);
        using var later = Annotated(latencyMs: 180);
        string settled = FrameRenderer.HudText(later, stats, renderedFrames: PipelineStatistics.IntervalsBeforeRatesKnown + 1);
        Assert.Multiple(() =>
        {
            Assert.That(atStart, Does.Contain("fps measuring").And.Not.Contain("latency").And.Not.Contain("0.0 fps"));
            Assert.That(atStart, Does.Contain("budget 55/60 ms").And.Contain("cache 25%").And.Contain("dropped 0"));
            Assert.That(drawnLate, Does.Not.Contain("12891"), "a start-up frame drawn after the rates settled keeps its latency off");
            Assert.That(settled, Does.Contain("10.0 fps").And.Contain("latency 180 ms"));
        });
    }
}
