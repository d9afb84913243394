using System.Diagnostics;
using System.Reflection;
using OpenCvSharp;
using SaCam.Core.Methods;
using SaCam.Core.Models;
using SaCam.Unity.Samples;
using SaCam.Video.Host;
using SaCam.Video.Overlays;
using SaCam.Video.Pipeline;
using UnityEngine;
using Debug = UnityEngine.Debug;

namespace SaCam.Unity.Tests;

/// <summary>
/// The package's SaCamOverlay in a fake engine loop: Start once, then one Update per engine frame at ~120 fps,
/// a camera frame each time, frames far faster than the explainer. Update must never wait for the explainer, and
/// overlays must arrive, the right way up.
/// </summary>
public class FakeEngineLoopTests
{
    private const int Width = 320, Height = 180;

    /// <summary>Calls a MonoBehaviour message the way Unity does: by name, whatever its visibility.</summary>
    private static void Send(MonoBehaviour behaviour, string message) =>
        behaviour.GetType().GetMethod(message, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)?.Invoke(behaviour, null);

    /// <summary>Frames of the project's own clip as a Unity camera delivers them: Color32, rows bottom to top.</summary>
    private static List<Color32[]> ClipFrames(int count)
    {
        var clip = Path.Combine(RepoRoot(), "media", "street_clip.mp4");
        using var capture = new VideoCapture(clip);
        Assert.That(capture.IsOpened(), $"cannot open {clip}");
        var frames = new List<Color32[]>();
        using var bgr = new Mat();
        while (frames.Count < count && capture.Read(bgr) && !bgr.Empty())
        {
            using var small = bgr.Resize(new OpenCvSharp.Size(Width, Height));
            using var flipped = small.Flip(FlipMode.X); // bottom row first
            using var rgba = flipped.CvtColor(ColorConversionCodes.BGR2RGBA);
            var pixels = new Color32[Width * Height];
            var bytes = new byte[Width * Height * 4];
            System.Runtime.InteropServices.Marshal.Copy(rgba.Data, bytes, 0, bytes.Length);
            System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Color32>(bytes).CopyTo(pixels);
            frames.Add(pixels);
        }
        return frames;
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "SaCam.Realtime.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("repository root (SaCam.Realtime.sln) not found above " + AppContext.BaseDirectory);
    }

    private sealed record LoopReport(List<double> UpdateMs, int EngineFrames);

    /// <summary>Runs the engine: each frame delivers a camera frame, calls Update, then sleeps to ~120 fps.</summary>
    private static LoopReport RunLoop(SaCamOverlay overlay, WebCamTexture camera, List<Color32[]> frames, Func<bool> done, TimeSpan limit)
    {
        var updates = new List<double>();
        var clock = Stopwatch.StartNew();
        int frame = 0;
        while (!done() && clock.Elapsed < limit)
        {
            camera.Deliver(frames[frame % frames.Count], Width, Height);
            var update = Stopwatch.StartNew();
            Send(overlay, "Update");
            updates.Add(update.Elapsed.TotalMilliseconds);
            Time.time = (float)clock.Elapsed.TotalSeconds;
            frame++;
            Thread.Sleep(8);
        }
        return new LoopReport(updates, frame);
    }

    [Test]
    public void Update_never_waits_for_the_explainer_and_overlays_arrive_on_the_real_core()
    {
        var frames = ClipFrames(24);
        var camera = new WebCamTexture();
        camera.Play();
        var overlay = new SaCamOverlay { model = "default", method = "sacam-rt", budgetMs = 40, CameraTexture = camera, display = new Renderer() };
        Send(overlay, "Start"); // builds the host through SaCamHostFactory: embedded model, sacam-rt
        var host = overlay.Host!;
        var report = RunLoop(overlay, camera, frames, () => overlay.OverlaysShown >= 4, TimeSpan.FromSeconds(60));
        var sorted = report.UpdateMs.Order().ToList();
        var median = sorted[sorted.Count / 2];
        TestContext.Out.WriteLine($"{report.EngineFrames} engine frames, {overlay.OverlaysShown} overlays, {host.Completed} explained, {host.Dropped} dropped; Update median {median:F2} ms, max {sorted[^1]:F1} ms; explainer latency {overlay.Latest?.LatencyMs:F0} ms");
        Assert.Multiple(() =>
        {
            Assert.That(host.Failure, Is.Null);
            Assert.That(overlay.OverlaysShown, Is.GreaterThanOrEqualTo(4), "overlays arrived");
            Assert.That(overlay.Latest!.LatencyMs, Is.GreaterThan(4 * median), "the explainer is much slower than an Update");
            Assert.That(sorted[^1], Is.LessThan(Math.Min(50, overlay.Latest.LatencyMs)), "no Update waited for the explainer");
            Assert.That(host.Dropped, Is.GreaterThan(0), "frames faster than the explainer were dropped, not queued");
            Assert.That(report.EngineFrames, Is.GreaterThan(2 * host.Completed), "the engine ran ahead of the explainer");
            Assert.That((overlay.Overlay!.width, overlay.Overlay.height), Is.EqualTo((Width, Height)));
            Assert.That(overlay.Overlay.Applies, Is.EqualTo(overlay.OverlaysShown), "one upload per new result, none per frame");
            Assert.That(((Material)overlay.display!.material).mainTexture, Is.SameAs(overlay.Overlay), "shown on the display");
        });
        Send(overlay, "OnDestroy");
        Assert.That(camera.isPlaying, Is.False, "the camera is stopped with the component");
        Assert.That(() => host.Submit(new byte[4], 1, 1), Throws.InstanceOf<ObjectDisposedException>().Or.InstanceOf<InvalidOperationException>(), "the host is disposed");
    }

    /// <summary>A frame whose top half is white and bottom half black must come back the right way up: the overlay
    /// texture (rows bottom to top, like the camera's) is dark in its first rows and bright in its last.</summary>
    [Test]
    public void The_overlay_comes_back_the_right_way_up()
    {
        var halfBlack = new Color32[Width * Height];
        for (int i = 0; i < halfBlack.Length; i++)
            halfBlack[i] = i / Width < Height / 2 ? new Color32(0, 0, 0, 255) : new Color32(255, 255, 255, 255); // bottom rows first
        // A flat map blends the same colour everywhere, so the picture's own top and bottom stay told apart.
        var overlay = StartWithHost(new FlatMap(), TimeSpan.Zero, out var camera);
        RunLoop(overlay, camera, [halfBlack], () => overlay.OverlaysShown >= 1, TimeSpan.FromSeconds(30));
        var pixels = overlay.Overlay!.Pixels;
        double Mean(int fromRow, int rows) => pixels.Skip(fromRow * Width * 4).Take(rows * Width * 4).Where((_, i) => i % 4 != 3).Average(b => (double)b);
        // Rows from the middle of each half (the caption band sits at the picture's top edge).
        Assert.That(Mean(3 * Height / 4 - 10, 20), Is.GreaterThan(Mean(Height / 4 - 10, 20) + 60), "top of the picture (last rows) bright, bottom (first rows) dark");
        Send(overlay, "OnDestroy");
    }

    /// <summary>With an explainer stalled for 400 ms a frame, Updates still take a few milliseconds.</summary>
    [Test]
    public void A_stalled_explainer_does_not_stall_the_frame_loop()
    {
        var frames = ClipFrames(4);
        var overlay = StartWithHost(new GradCam(), TimeSpan.FromMilliseconds(400), out var camera);
        var report = RunLoop(overlay, camera, frames, () => overlay.OverlaysShown >= 2, TimeSpan.FromSeconds(30));
        Assert.That(overlay.OverlaysShown, Is.GreaterThanOrEqualTo(2));
        Assert.That(report.UpdateMs.Max(), Is.LessThan(50), "no Update waited for the 400 ms explainer");
        Assert.That(report.EngineFrames, Is.GreaterThan(40), "the loop kept running at its own pace meanwhile");
        Send(overlay, "OnDestroy");
    }

    [Test]
    public void The_sample_logs_what_the_model_sees_once_a_second()
    {
        var frames = ClipFrames(2);
        var overlay = StartWithHost(new GradCam(), TimeSpan.Zero, out var camera);
        var demo = new WebcamOverlayDemo { overlay = overlay };
        Debug.Logged.Clear();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(2.5))
        {
            camera.Deliver(frames[0], Width, Height);
            Send(overlay, "Update");
            Send(demo, "Update");
            Time.time = (float)clock.Elapsed.TotalSeconds;
            Thread.Sleep(8);
        }
        Send(overlay, "OnDestroy");
        Assert.That(Debug.Logged.Count(l => l.StartsWith("SaCam: ")), Is.InRange(2, 3), string.Join("\n", Debug.Logged));
    }

    /// <summary>A component on a host built in code (the way to share a model or pick a method object), with the
    /// embedded model and an optional stall in the method.</summary>
    private static SaCamOverlay StartWithHost(ICamMethod method, TimeSpan stall, out WebCamTexture camera)
    {
        camera = new WebCamTexture();
        camera.Play();
        var model = ModelCatalog.Load(ModelCatalog.DefaultModelId);
        var explainer = new FrameExplainer(model, stall > TimeSpan.Zero ? new StalledMethod(method, stall) : method);
        var overlay = new SaCamOverlay
        {
            CameraTexture = camera,
            Host = new ExplainerHost(explainer, new FrameRenderer(new RenderOptions { Hud = false }), [explainer, model]),
        };
        Send(overlay, "Start");
        return overlay;
    }

    private sealed class FlatMap : ICamMethod
    {
        public string Id => "flat";
        public bool NeedsGradients => false;
        public CamComputation Compute(CamInputs inputs) => CamComputation.FromMap(TorchSharp.torch.zeros_like(inputs.Activations[0][0]));
    }

    private sealed class StalledMethod(ICamMethod inner, TimeSpan stall) : ICamMethod
    {
        public string Id => inner.Id;
        public bool NeedsGradients => inner.NeedsGradients;

        public CamComputation Compute(CamInputs inputs)
        {
            Thread.Sleep(stall);
            return inner.Compute(inputs);
        }
    }
}

public class RgbaRowsTests
{
    [Test]
    public void Rows_are_reversed_and_sizes_checked()
    {
        byte[] source = [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]; // 1x3 RGBA, rows 1, 2, 3
        var flipped = new byte[12];
        RgbaRows.FlipVertically(source, flipped, 1, 3);
        Assert.That(flipped, Is.EqualTo(new byte[] { 3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1 }));
        Assert.That(() => RgbaRows.FlipVertically(source, new byte[8], 1, 3), Throws.ArgumentException.With.Message.Contains("1x3"));
    }
}
