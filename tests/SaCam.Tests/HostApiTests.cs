using System.Diagnostics;
using SaCam.Core.Methods;
using SaCam.Video.Host;
using SaCam.Video.Overlays;
using SaCam.Video.Pipeline;

namespace SaCam.Tests;

[TestFixture]
public class HostApiTests
{
    /// <summary>An engine loop submitting frames faster than the explainer: Submit returns at once, stale frames are
    /// dropped, and the newest result arrives as an RGBA overlay of the frame's size.</summary>
    [NeedsSharedData]
    [Test]
    public void Frames_faster_than_the_explainer_are_dropped_and_results_arrive()
    {
        using var explainer = new FrameExplainer(MobileNetParityTests.Model, new VideoPipelineTests.SlowMethod(new GradCam(), TimeSpan.FromMilliseconds(100)));
        using var host = new ExplainerHost(explainer, new FrameRenderer(new RenderOptions()));
        const int width = 320, height = 180;
        var rgba = new byte[width * height * 4];
        new Random(1).NextBytes(rgba);
        HostResult? latest = null;
        var loop = Stopwatch.StartNew();
        int frames = 0;
        while (loop.Elapsed < TimeSpan.FromSeconds(3) && (latest is null || host.Completed < 3))
        {
            host.Submit(rgba, width, height);
            frames++;
            host.TryGetLatest(out latest);
            Thread.Sleep(10); // a 100 fps engine loop
        }
        Assert.Multiple(() =>
        {
            Assert.That(host.Failure, Is.Null);
            Assert.That(latest, Is.Not.Null, "a result arrived");
            Assert.That(latest!.OverlayRgba, Has.Length.EqualTo(width * height * 4));
            Assert.That((latest.Width, latest.Height), Is.EqualTo((width, height)));
            Assert.That(host.Dropped, Is.GreaterThan(0), "stale frames were dropped");
            Assert.That(host.Dropped + host.Completed, Is.LessThanOrEqualTo(host.Submitted));
        });
    }

    [NeedsSharedData]
    [Test]
    public void A_buffer_of_the_wrong_size_is_refused()
    {
        using var explainer = new FrameExplainer(MobileNetParityTests.Model, FrameExplainer.ClassifyOnly);
        using var host = new ExplainerHost(explainer, new FrameRenderer(new RenderOptions()));
        var e = Assert.Throws<ArgumentException>(() => host.Submit(new byte[100], 10, 10));
        Assert.That(e!.Message, Does.Contain("400").And.Contain("100"));
    }
}
