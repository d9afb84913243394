using System.Diagnostics;
using SaCam.Core.Methods;
using SaCam.Video.Host;
using SaCam.Video.Overlays;
using SaCam.Video.Pipeline;

namespace SaCam.Tests;

[TestFixture]
public class HostApiTests
{
    /// <summary>How long an explanation of a 320x180 frame may take on a busy machine before the test gives up.</summary>
    private static readonly TimeSpan ExplainLimit = TimeSpan.FromMinutes(2);

    /// <summary>An engine submitting frames while the explainer is busy: Submit returns at once, each newer frame replaces
    /// the one still waiting (counted as dropped), and the newest arrives as an RGBA overlay of the frame's size. The
    /// explainer is held on a gate while the frames go in, so the counts are exact on any machine.</summary>
    [NeedsSharedData]
    [Test]
    public void Frames_submitted_while_the_explainer_is_busy_replace_each_other_and_the_newest_is_explained()
    {
        using var gated = new GatedMethod(new GradCam());
        using var explainer = new FrameExplainer(SharedModels.MobileNetV2, gated);
        using var host = new ExplainerHost(explainer, new FrameRenderer(new RenderOptions()));
        const int width = 320, height = 180;
        var rgba = new byte[width * height * 4];
        new Random(1).NextBytes(rgba);

        long first = host.Submit(rgba, width, height);
        Assert.That(gated.Entered.Wait(ExplainLimit), Is.True, "the explainer took the first frame");
        // The explainer is held inside frame 0: these return at once, and each replaces the one before it.
        var waiting = new[] { host.Submit(rgba, width, height), host.Submit(rgba, width, height), host.Submit(rgba, width, height) };
        Assert.That(host.Dropped, Is.EqualTo(2), "two frames replaced while the explainer was busy");
        gated.Open();

        HostResult? latest = null;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < ExplainLimit && host.Failure is null && !(host.TryGetLatest(out latest) && latest!.FrameId == waiting[^1])) Thread.Sleep(10);
        Assert.Multiple(() =>
        {
            Assert.That(host.Failure, Is.Null);
            Assert.That(latest?.FrameId, Is.EqualTo(waiting[^1]), "the newest frame was explained");
            Assert.That((first, host.Submitted, host.Completed, host.Dropped), Is.EqualTo((0L, 4L, 2L, 2L)), "first id, submitted, explained, dropped");
            Assert.That(latest!.OverlayRgba, Has.Length.EqualTo(width * height * 4));
            Assert.That((latest.Width, latest.Height), Is.EqualTo((width, height)));
        });
    }

    /// <summary>Wraps a method and holds every explanation until the test opens the gate; says when one has begun.</summary>
    private sealed class GatedMethod(ICamMethod inner) : ICamMethod, IDisposable
    {
        private readonly ManualResetEventSlim _gate = new();
        public SemaphoreSlim Entered { get; } = new(0);
        public string Id => inner.Id;
        public bool NeedsGradients => inner.NeedsGradients;

        public void Open() => _gate.Set();

        public CamComputation Compute(CamInputs inputs)
        {
            Entered.Release();
            if (!_gate.Wait(ExplainLimit)) throw new TimeoutException("the test never opened the gate");
            return inner.Compute(inputs);
        }

        public void Dispose()
        {
            _gate.Dispose();
            Entered.Dispose();
        }
    }

    [NeedsSharedData]
    [Test]
    public void A_buffer_of_the_wrong_size_is_refused()
    {
        using var explainer = new FrameExplainer(SharedModels.MobileNetV2, FrameExplainer.ClassifyOnly);
        using var host = new ExplainerHost(explainer, new FrameRenderer(new RenderOptions()));
        var e = Assert.Throws<ArgumentException>(() => host.Submit(new byte[100], 10, 10));
        Assert.That(e!.Message, Does.Contain("400").And.Contain("100"));
    }
}
