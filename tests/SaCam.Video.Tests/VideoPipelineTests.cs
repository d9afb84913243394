using System.Reactive.Linq;
using System.Text.Json;
using OpenCvSharp;
using SaCam.Core.Methods;
using SaCam.Video;
using SaCam.Video.Overlays;
using SaCam.Video.Pipeline;
using SaCam.Video.Sinks;
using SaCam.Video.Sources;

namespace SaCam.Tests;

[TestFixture]
public class VideoPipelineTests : TempFolderTest
{
    private static string Clip(string name) => SharedData.Path_("media", "driving", name);

    private static FrameRenderer Renderer() => new(new RenderOptions());


    [NeedsSharedData]
    [Test]
    public void Exact_mode_processes_a_whole_clip_in_order_and_every_output_is_valid()
    {
        var source = VideoCaptureSource.File(Clip("traffic_frames.mp4"));
        using var explainer = new FrameExplainer(SharedModels.MobileNetV2, "gradcam");
        var pipeline = new VideoPipeline(source, explainer, Renderer(), new PipelineOptions { Mode = PipelineMode.Exact });
        string video = Path.Combine(Dir, "out.mp4"), jsonl = Path.Combine(Dir, "frames.jsonl"), maps = Path.Combine(Dir, "maps");
        var result = pipeline.Run([new VideoFileSink(video, 30), new JsonLinesSink(jsonl), new MapFileSink(maps)]);

        var lines = File.ReadAllLines(jsonl).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var indices = lines.Select(l => l.GetProperty("index").GetInt64()).ToList();
        var times = lines.Select(l => l.GetProperty("timestamp").GetDouble()).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(result.Error, Is.Null);
            Assert.That(result.FramesWritten, Is.EqualTo(20), "frames in = frames out (the clip has 20)");
            Assert.That(result.FramesDropped, Is.Zero);
            Assert.That(indices, Is.EqualTo(Enumerable.Range(0, 20).Select(i => (long)i)), "JSONL numbers the frames in order");
            Assert.That(times.Zip(times.Skip(1)).All(p => p.Second > p.First), "timestamps increase");
            Assert.That(lines.All(l => l.GetProperty("box").GetProperty("w").GetInt32() > 0 && l.TryGetProperty("entropy", out _)));
            Assert.That(VideoFiles.CountDecodedFrames(video), Is.EqualTo(20), "the output decodes with the same frame count");
            Assert.That(Directory.GetFiles(maps, "*.npy").Select(Path.GetFileName).Order(), Is.EqualTo(Enumerable.Range(0, 20).Select(i => $"{i:D6}.npy")));
        });
    }

    [NeedsSharedData]
    [Test]
    public void Stride_and_max_frames_limit_what_is_explained()
    {
        var source = VideoCaptureSource.File(Clip("traffic_frames.mp4"));
        using var explainer = new FrameExplainer(SharedModels.MobileNetV2, FrameExplainer.ClassifyOnly);
        var jsonl = Path.Combine(Dir, "frames.jsonl");
        var result = new VideoPipeline(source, explainer, Renderer(), new PipelineOptions { Stride = 3, MaxFrames = 5 })
            .Run([new JsonLinesSink(jsonl)]);
        var indices = File.ReadAllLines(jsonl).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("index").GetInt64());
        Assert.That(indices, Is.EqualTo(new long[] { 0, 3, 6, 9, 12 }));
        Assert.That(result.FramesWritten, Is.EqualTo(5));
    }

    /// <summary>A slow explainer behind a file played at its frame rate: stale frames are dropped and counted.</summary>
    [NeedsSharedData]
    [Test]
    public void Live_mode_drops_stale_frames_and_counts_them()
    {
        var source = VideoCaptureSource.File(Clip("traffic_frames.mp4")); // 20 frames at 30 fps: one every 33 ms
        using var explainer = new FrameExplainer(SharedModels.MobileNetV2, new SlowMethod(new GradCam(), TimeSpan.FromMilliseconds(150)));
        var pipeline = new VideoPipeline(source, explainer, Renderer(), new PipelineOptions { Mode = PipelineMode.Live });
        var jsonl = Path.Combine(Dir, "frames.jsonl");
        var result = pipeline.Run([new JsonLinesSink(jsonl)]);
        var lines = File.ReadAllLines(jsonl).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(result.Error, Is.Null);
            Assert.That(result.FramesDropped, Is.GreaterThan(0));
            Assert.That(result.FramesWritten + result.FramesDropped, Is.EqualTo(pipeline.Statistics.Captured), "every captured frame is written or dropped");
            Assert.That(lines.Select(l => l.GetProperty("index").GetInt64()), Is.Ordered.Ascending);
            Assert.That(lines[^1].GetProperty("dropped_before").GetInt64(), Is.GreaterThan(0), "drops are reported with the frames");
        });
    }

    [NeedsSharedData]
    [Test]
    public void A_truncated_video_ends_with_an_error_and_the_outputs_stay_valid()
    {
        // An MJPG AVI of 40 frames, cut at 60% of its bytes.
        string whole = Path.Combine(Dir, "whole.avi"), cut = Path.Combine(Dir, "cut.avi");
        using (var capture = new VideoCapture(Clip("lane_dashcam.mp4")))
        using (var writer = new VideoWriter(whole, FourCC.MJPG, 25, new Size(480, 270)))
        using (var mat = new Mat())
        using (var small = new Mat())
            for (int i = 0; i < 40 && capture.Read(mat); i++)
            {
                Cv2.Resize(mat, small, new Size(480, 270));
                writer.Write(small);
            }
        var bytes = File.ReadAllBytes(whole);
        File.WriteAllBytes(cut, bytes[..(int)(bytes.Length * 0.6)]);

        var source = VideoCaptureSource.File(cut);
        using var explainer = new FrameExplainer(SharedModels.MobileNetV2, FrameExplainer.ClassifyOnly);
        string video = Path.Combine(Dir, "out.avi"), jsonl = Path.Combine(Dir, "frames.jsonl");
        var result = new VideoPipeline(source, explainer, Renderer(), new PipelineOptions())
            .Run([new VideoFileSink(video, 25), new JsonLinesSink(jsonl)]);
        var lines = File.ReadAllLines(jsonl);
        Assert.Multiple(() =>
        {
            Assert.That(result.Error, Is.InstanceOf<FrameSourceException>());
            Assert.That(result.Error!.Message, Does.Contain("cut.avi").And.Contain("truncated"));
            Assert.That(result.FramesWritten, Is.GreaterThan(10).And.LessThan(40));
            Assert.That(lines, Has.Length.EqualTo(result.FramesWritten), "every frame read before the error is in the JSONL");
            Assert.That(lines.All(l => JsonDocument.Parse(l).RootElement.GetProperty("index").GetInt64() >= 0));
            Assert.That(VideoFiles.CountDecodedFrames(video), Is.EqualTo(result.FramesWritten), "the output video is closed and playable");
        });
    }

    [Test]
    public void Sources_name_what_is_wrong()
    {
        Assert.That(Assert.Throws<FrameSourceException>(() => FrameSources.Open(Path.Combine(Dir, "nope.mp4")))!.Message, Does.Contain("nope.mp4").And.Contain("does not exist"));
        var notVideo = Path.Combine(Dir, "text.mp4");
        File.WriteAllText(notVideo, "definitely not a video");
        Assert.That(Assert.Throws<FrameSourceException>(() => FrameSources.Open(notVideo))!.Message, Does.Contain("text.mp4").And.Contain("Cannot open"));
        Assert.That(Assert.Throws<FrameSourceException>(() => FrameSources.Open(Path.Combine(Dir, "*.png")))!.Message, Does.Contain("No images"));
    }

    [Test]
    public void An_image_folder_is_a_source_in_name_order()
    {
        foreach (var (name, i) in new[] { ("b.png", 1), ("a.png", 0), ("c.png", 2) })
            Cv2.ImWrite(Path.Combine(Dir, name), new Mat(64, 96, MatType.CV_8UC3, Scalar.All(i * 100)));
        var frames = new ImageFolderSource(Path.Combine(Dir, "*.png")).Frames().ToEnumerable().ToList();
        Assert.That(frames.Select(f => (f.Index, (int)f.Image.Get<Vec3b>(0, 0).Item0)), Is.EqualTo(new[] { (0L, 0), (1L, 100), (2L, 200) }));
        foreach (var f in frames) f.Dispose();
    }

    /// <summary>Wraps a method and sleeps first: a deliberately slow explainer.</summary>
    internal sealed class SlowMethod(ICamMethod inner, TimeSpan delay) : ICamMethod
    {
        public string Id => inner.Id;
        public bool NeedsGradients => inner.NeedsGradients;
        public CamComputation Compute(CamInputs inputs)
        {
            Thread.Sleep(delay);
            return inner.Compute(inputs);
        }
    }
}
