using System.Text.Json.Nodes;
using Microsoft.Playwright;
using OpenCvSharp;
using SaCam.TestSupport;
using SaCam.Video.Sinks;

namespace SaCam.Review.Tests;

/// <summary>
/// The review page of a medical run in headless Chromium: the scrubber reads slice n/N and the slice position, the
/// preset menu and number keys re-window the originals from their full-depth values in the browser, and the opacity
/// slider blends each method's map; pixels are read back from the page's canvases.
/// </summary>
[TestFixture]
public class MedicalReviewPageTests
{
    private const int Slices = 3, Width = 32, Height = 16;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;
    private string _root = null!;
    private string _page = null!;

    /// <summary>HU of slice k: the left half -1000 (air), the right half 40 + 10k; the map is 0 left, 255 right.</summary>
    private static short Hu(int k, int x) => (short)(x < Width / 2 ? -1000 : 40 + 10 * k);

    [OneTimeSetUp]
    public async Task StartBrowser()
    {
        HeadlessChromium.Require();
        _playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        _browser = await HeadlessChromium.Launch(_playwright);
        _root = Directory.CreateTempSubdirectory("sacam-medical-review-").FullName;
        var run = SyntheticRun.Write(Path.Combine(_root, "gradcam"), "gradcam", Slices, channel: 2, source: "CT series, 3 slices (source 0a1b2c3d4e5f)");
        WriteExtras(new RunFolder(run));
        _page = ReviewBuilder.Build([run], Path.Combine(_root, "review"), new ReviewOptions { ChunkSize = 2 }).IndexPath;
    }

    /// <summary>What a DICOM source writes into a run's source/ folder (see SaCam.Medical.DicomRunSink).</summary>
    private static void WriteExtras(RunFolder run)
    {
        var values = Directory.CreateDirectory(Path.Combine(run.SourceExtras, "values")).FullName;
        var maps = Directory.CreateDirectory(Path.Combine(run.SourceExtras, "maps")).FullName;
        for (int k = 0; k < Slices; k++)
        {
            using var packed = new Mat(Height, Width, MatType.CV_8UC3);
            using var map = new Mat(Height, Width, MatType.CV_8UC1);
            for (int y = 0; y < Height; y++)
                for (int x = 0; x < Width; x++)
                {
                    int u = Hu(k, x) + 32768;
                    packed.Set(y, x, new Vec3b(0, (byte)(u & 255), (byte)(u >> 8)));
                    map.Set(y, x, (byte)(x < Width / 2 ? 0 : 255));
                }
            Cv2.ImWrite(Path.Combine(values, $"{k:D6}.png"), packed);
            Cv2.ImWrite(Path.Combine(maps, $"{k:D6}.png"), map);
        }
        var medical = new JsonObject
        {
            ["label"] = "CT series, 3 slices (source 0a1b2c3d4e5f)", ["kind"] = "series", ["monochrome1"] = false, ["fileWindow"] = null,
            ["frames"] = new JsonArray(Enumerable.Range(0, Slices).Select(k => (JsonNode)new JsonObject { ["index"] = k, ["positionMm"] = -20.0 + 2.5 * k }).ToArray()),
            ["presets"] = new JsonObject { ["soft"] = new JsonObject { ["center"] = 40, ["width"] = 400 }, ["lung"] = new JsonObject { ["center"] = -600, ["width"] = 1500 } },
        };
        File.WriteAllText(Path.Combine(run.SourceExtras, "medical.json"), medical.ToJsonString());
    }

    [OneTimeTearDown]
    public async Task StopBrowser()
    {
        if (_browser is not null) await _browser.CloseAsync();
        _playwright?.Dispose();
        if (_root is not null && Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    private static Task Rendered(IPage page, int slice) =>
        page.WaitForFunctionAsync("p => document.body.dataset.rendered === String(p)", slice, new PageWaitForFunctionOptions { Timeout = 10_000 });

    private static async Task<int[]> Pixel(IPage page, string layer, int x, int y) =>
        await page.EvaluateAsync<int[]>("([l, x, y]) => window.sacamReview.pixel(l, x, y)", new object[] { layer, x, y });

    private static double Grey(double hu, double center, double width) => Math.Clamp(255 * ((hu - (center - 0.5)) / (width - 1) + 0.5), 0, 255);

    [Test]
    public async Task Presets_keys_opacity_and_the_slice_scrubber_work_on_full_depth_values()
    {
        var page = await _browser.NewPageAsync();
        var errors = new List<string>();
        page.PageError += (_, e) => errors.Add(e);
        await page.GotoAsync(new Uri(_page).AbsoluteUri);
        await Rendered(page, 0);
        Assert.That(errors, Is.Empty, "script errors on the page");
        Assert.That(await page.TextContentAsync("#frame-label"), Does.StartWith("Slice 1 / 3, -20.0 mm"));

        // The first preset (soft, 40/400) is the default: HU 40 on the right, -1000 (black) on the left.
        Assert.That((await Pixel(page, "original", 24, 8))[0], Is.EqualTo(Grey(40, 40, 400)).Within(1));
        Assert.That((await Pixel(page, "original", 4, 8))[0], Is.Zero);

        await page.Keyboard.PressAsync("2"); // lung, -600/1500
        await page.WaitForFunctionAsync("() => window.sacamReview.medical().window === 'lung'");
        Assert.That((await Pixel(page, "original", 24, 8))[0], Is.EqualTo(Grey(40, -600, 1500)).Within(1), "re-windowed from the values, not the 8-bit picture");
        Assert.That((await Pixel(page, "original", 4, 8))[0], Is.EqualTo(Grey(-1000, -600, 1500)).Within(1));

        await page.EvalOnSelectorAsync("#opacity", "e => { e.value = '0'; e.dispatchEvent(new Event('input')); }");
        Assert.That(await Pixel(page, "m0", 24, 8), Is.EqualTo(await Pixel(page, "original", 24, 8)), "opacity 0: the original");
        await page.EvalOnSelectorAsync("#opacity", "e => { e.value = '100'; e.dispatchEvent(new Event('input')); }");
        var hot = await Pixel(page, "m0", 24, 8);
        Assert.That(hot[0], Is.EqualTo(128).Within(2), "opacity 1 where the map is 1: jet's dark red");
        Assert.That(hot[1] + hot[2], Is.LessThan(4));
        var cold = await Pixel(page, "m0", 4, 8);
        Assert.That(cold[2], Is.EqualTo(128).Within(2), "where the map is 0: jet's dark blue");

        await page.Keyboard.PressAsync("ArrowRight");
        await page.Keyboard.PressAsync("ArrowRight");
        await Rendered(page, 2);
        Assert.That(await page.TextContentAsync("#frame-label"), Does.StartWith("Slice 3 / 3, -15.0 mm"));
        await page.EvalOnSelectorAsync("#opacity", "e => { e.value = '0'; e.dispatchEvent(new Event('input')); }");
        Assert.That((await Pixel(page, "original", 24, 8))[0], Is.EqualTo(Grey(60, -600, 1500)).Within(1), "slice 3 holds HU 60");
        await page.CloseAsync();
    }
}
