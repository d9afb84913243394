using System.Text.Json.Nodes;
using Microsoft.Playwright;
using OpenCvSharp;
using SaCam.Imaging;
using SaCam.TestSupport;
using SaCam.Video.Sinks;

namespace SaCam.Review.Tests;

/// <summary>
/// The page draws a method's panel from the original frame and the run's 8-bit map; sacam drew it from the float map.
/// Here, in headless Chromium, on a textured frame and a smooth map through a crop-and-letterbox geometry (the map's
/// content rectangle is not the whole map, the frame's source rectangle not the whole frame): the page's colour index
/// is within one level of the index sacam's overlay takes from the float map at every pixel; it is the index sacam
/// takes from the same 8-bit map but where a value falls on .5 within a float's rounding (OpenCV's vector code fuses
/// multiply and add); and its colours and blend are OpenCV's LUT and AddWeighted of that index within one grey level.
/// </summary>
[TestFixture]
public class OverlayFidelityPageTests
{
    private const int TimeoutMs = 10_000;
    private static readonly FrameGeometry Geometry = new(new Size(96, 64), new Size(40, 40), new Rect(8, 0, 80, 64), new Rect(0, 4, 40, 32));

    [Test]
    public async Task The_page_draws_a_runs_overlay_as_sacam_does()
    {
        HeadlessChromium.Require();
        var root = Directory.CreateTempSubdirectory("sacam-review-fidelity-").FullName;
        try
        {
            var overlay = new OverlayOptions { ColorMap = ColorMap.Turbo, Alpha = 0.45 };
            var (runPath, floatMap) = WriteRun(Path.Combine(root, "run"), overlay);
            var index = ReviewBuilder.Build([runPath], Path.Combine(root, "review")).IndexPath;

            using var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
            await using var browser = await HeadlessChromium.Launch(playwright);
            var page = await browser.NewPageAsync();
            await page.GotoAsync(new Uri(index).AbsoluteUri);
            await page.WaitForFunctionAsync("() => { const c = document.querySelector('.panel canvas'); const i = document.querySelector('.panel img'); return c && c.dataset.frame === '0' && c.width > 0 && i.complete && i.naturalWidth > 0; }",
                null, new PageWaitForFunctionOptions { Timeout = TimeoutMs });
            // The page's own pixels: the decoded original, the drawn overlay and the colour index of each pixel.
            var pixels = JsonNode.Parse(await page.EvaluateAsync<string>(@"() => {
                const img = document.querySelector('.panel img'), canvas = document.querySelector('.panel canvas');
                const c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;
                const g = c.getContext('2d'); g.drawImage(img, 0, 0);
                const w = canvas.width, h = canvas.height, levels = [];
                for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) levels.push(window.sacamReview.overlayLevel('m0', x, y));
                return JSON.stringify({ w, h, original: Array.from(g.getImageData(0, 0, w, h).data), drawn: Array.from(canvas.getContext('2d').getImageData(0, 0, w, h).data), levels });
            }"))!.AsObject();
            int width = pixels["w"]!.GetValue<int>(), height = pixels["h"]!.GetValue<int>();
            Assert.That((width, height), Is.EqualTo((96, 64)), "the panel is the frame's size");
            var original = pixels["original"]!.AsArray().Select(v => (byte)v!.GetValue<int>()).ToArray();
            var drawn = pixels["drawn"]!.AsArray().Select(v => v!.GetValue<int>()).ToArray();
            var levels = pixels["levels"]!.AsArray().Select(v => v!.GetValue<int>()).ToArray();

            // sacam's index, from the float map; and sacam's blend of the 8-bit map over the page's original.
            using var floatMat = Mat.FromPixelData(40, 40, MatType.CV_32FC1, floatMap);
            using var floatOnFrame = HeatmapOverlay.MapToFrame(floatMat, Geometry);
            using var floatIndex = new Mat();
            floatOnFrame.ConvertTo(floatIndex, MatType.CV_8UC1, 255.0);
            using var stored = new RunFolder(runPath).ReadMap(0)!;
            using var frame = new Mat(height, width, MatType.CV_8UC3);
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    int i = 4 * (y * width + x);
                    frame.Set(y, x, new Vec3b(original[i + 2], original[i + 1], original[i]));
                }
            // sacam's index of the same 8-bit map, and sacam's colouring and blend of the page's own index.
            using var storedOnFrame = HeatmapOverlay.MapToFrame(stored, Geometry);
            using var storedIndex = new Mat();
            storedOnFrame.ConvertTo(storedIndex, MatType.CV_8UC1, 255.0);
            using var pageIndex = new Mat(height, width, MatType.CV_8UC1);
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++) pageIndex.Set(y, x, (byte)levels[y * width + x]);
            using var coloured = new Mat();
            ColorMaps.Apply(pageIndex, coloured, overlay.ColorMap);
            using var expected = new Mat();
            Cv2.AddWeighted(frame, 1 - overlay.Alpha, coloured, overlay.Alpha, 0, expected);

            int worstIndex = 0, worstStored = 0, differentFromStored = 0, worstBlend = 0;
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                {
                    int level = levels[y * width + x];
                    worstIndex = Math.Max(worstIndex, Math.Abs(level - floatIndex.At<byte>(y, x)));
                    int fromStored = Math.Abs(level - storedIndex.At<byte>(y, x));
                    worstStored = Math.Max(worstStored, fromStored);
                    if (fromStored > 0) differentFromStored++;
                    var bgr = expected.At<Vec3b>(y, x);
                    int i = 4 * (y * width + x);
                    worstBlend = Math.Max(worstBlend, new[] { Math.Abs(drawn[i] - bgr.Item2), Math.Abs(drawn[i + 1] - bgr.Item1), Math.Abs(drawn[i + 2] - bgr.Item0) }.Max());
                }
            Assert.Multiple(() =>
            {
                Assert.That(worstIndex, Is.LessThanOrEqualTo(1), "colour index: page (from the 8-bit map) against sacam (from the float map)");
                Assert.That(worstStored, Is.LessThanOrEqualTo(1), "colour index: page against sacam, both from the 8-bit map");
                Assert.That(differentFromStored, Is.LessThan(width * height / 100), "the page's index is sacam's but for values that fall on .5 within a float's rounding");
                Assert.That(worstBlend, Is.LessThanOrEqualTo(1), "colour table and blend: page against OpenCV's LUT and AddWeighted of the same index and frame");
                Assert.That(levels.Take(8).Distinct(), Is.EqualTo(new[] { 0 }), "left of the source rectangle the map is 0");
                Assert.That(levels.Distinct().Count(), Is.GreaterThan(100), "the map is not flat: the test compares something");
            });
            TestContext.Out.WriteLine($"index vs float map: max {worstIndex}; vs 8-bit map: max {worstStored}, {differentFromStored} of {width * height} pixels differ; blend max {worstBlend}");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>One frame with texture, and a smooth two-bump float map stored as the run folder stores it.</summary>
    private static (string Folder, float[] FloatMap) WriteRun(string folder, OverlayOptions overlay)
    {
        var run = new RunFolder(folder);
        Directory.CreateDirectory(folder);
        run.WriteManifest(new RunManifest("video 'fidelity.avi'", "synthetic", "gradcam", "exact", 10, DateTime.UtcNow));
        using (var writer = new VideoWriter(run.OriginalVideo, FourCC.MJPG, 10, Geometry.FrameSize))
        using (var frame = new Mat(Geometry.FrameSize, MatType.CV_8UC3))
        {
            for (int y = 0; y < Geometry.FrameSize.Height; y++)
                for (int x = 0; x < Geometry.FrameSize.Width; x++)
                    frame.Set(y, x, new Vec3b((byte)(x * 2), (byte)(y * 3), (byte)((x * y) % 251)));
            writer.Write(frame);
        }
        var values = new float[40 * 40];
        for (int y = 0; y < 40; y++)
            for (int x = 0; x < 40; x++)
            {
                double a = Math.Exp(-((x - 12) * (x - 12) + (y - 15) * (y - 15)) / 40.0), b = 0.7 * Math.Exp(-((x - 30) * (x - 30) + (y - 26) * (y - 26)) / 90.0);
                values[y * 40 + x] = (float)Math.Min(1, a + b);
            }
        Directory.CreateDirectory(run.Maps);
        RunOverlay.Of(Geometry, overlay).Write(run.Maps);
        using (var map = Mat.FromPixelData(40, 40, MatType.CV_32FC1, values))
        using (var grey = RunMapSink.Quantize(map))
            Cv2.ImWrite(Path.Combine(run.Maps, RunFolder.MapFileName(0)), grey);
        File.WriteAllText(run.Frames, new JsonObject { ["index"] = 0, ["timestamp"] = 0.0, ["method"] = "gradcam", ["label"] = "x", ["score"] = 0.5 }.ToJsonString() + "\n");
        return (folder, values);
    }
}
