using Microsoft.Playwright;
using OpenCvSharp;
using SaCam.TestSupport;

namespace SaCam.Review.Tests;

/// <summary>
/// The review page in headless Chromium (Debian's /usr/bin/chromium, installed by .ci/run; Playwright's own browser
/// download does not work on these machines): clicks through it and checks what it shows, down to pixel values of
/// the exported frame.
/// </summary>
[TestFixture]
public class ReviewPageTests
{
    private const int Frames = 12;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;
    private string _root = null!;
    private string _page = null!;

    [OneTimeSetUp]
    public async Task StartBrowser()
    {
        HeadlessChromium.Require();
        _playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        _browser = await HeadlessChromium.Launch(_playwright);
        _root = Directory.CreateTempSubdirectory("sacam-review-").FullName;
        var gradcam = SyntheticRun.Write(Path.Combine(_root, "gradcam"), "gradcam", Frames, channel: 2);
        var sacam = SyntheticRun.Write(Path.Combine(_root, "sacam-rt"), "sacam-rt", Frames, channel: 1);
        _page = ReviewBuilder.Build([gradcam, sacam], Path.Combine(_root, "review"), new ReviewOptions { ChunkSize = 4 }).IndexPath;
    }

    [OneTimeTearDown]
    public async Task StopBrowser()
    {
        if (_browser is not null) await _browser.CloseAsync();
        _playwright?.Dispose();
        if (_root is not null && Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    private async Task<IPage> Open(string url)
    {
        var page = await _browser.NewPageAsync(new BrowserNewPageOptions { AcceptDownloads = true });
        var errors = new List<string>();
        page.PageError += (_, e) => errors.Add(e);
        await page.GotoAsync(url);
        await WaitForFrame(page, 0);
        Assert.That(errors, Is.Empty, "script errors on the page");
        return page;
    }

    /// <summary>Waits until every panel shows frame <paramref name="position"/>: its image loaded, or its overlay drawn.</summary>
    private static async Task WaitForFrame(IPage page, int position) =>
        await page.WaitForFunctionAsync(
            "p => [...document.querySelectorAll('.panel img, .panel canvas')].every(e => e.dataset.frame === String(p) && (e.tagName === 'CANVAS' ? e.width > 0 : e.complete && e.naturalWidth > 0))",
            position, new PageWaitForFunctionOptions { Timeout = 10_000 });

    /// <summary>Clicks "export PNG" and decodes the download: the shown panels side by side.</summary>
    private static async Task<Mat> Export(IPage page)
    {
        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#export"));
        var path = Path.Combine(Path.GetTempPath(), $"sacam-export-{Guid.NewGuid():N}.png");
        await download.SaveAsAsync(path);
        var image = Cv2.ImRead(path, ImreadModes.Color);
        File.Delete(path);
        Assert.That(image.Empty(), Is.False, $"the export ({download.SuggestedFilename}) decodes as an image");
        return image;
    }

    /// <summary>Asserts that the exported strip shows frame k: the original's grey, and each method's map of frame k
    /// blended over it as sacam blends (the page drew both method panels from the original and the run's map).</summary>
    private static void AssertShowsFrame(Mat strip, int k)
    {
        Vec3b Centre(int panel) => strip.At<Vec3b>(SyntheticRun.Height / 2, panel * SyntheticRun.Width + SyntheticRun.Width / 2);
        var original = Centre(0);
        Assert.Multiple(() =>
        {
            Assert.That(strip.Width, Is.EqualTo(3 * SyntheticRun.Width), "original | gradcam | sacam-rt");
            Assert.That(original.Item0, Is.EqualTo(SyntheticRun.Level(k)).Within(6), $"original panel is frame {k}");
            AssertPixel(Centre(1), SyntheticRun.Blend(original.Item0, SyntheticRun.MapLevel(k, 2)), $"gradcam panel is frame {k}'s map over frame {k}");
            AssertPixel(Centre(2), SyntheticRun.Blend(original.Item0, SyntheticRun.MapLevel(k, 1)), $"sacam-rt panel is frame {k}'s map over frame {k}");
        });
    }

    private static void AssertPixel(Vec3b actual, Vec3b expected, string what)
    {
        for (int c = 0; c < 3; c++)
            Assert.That((int)actual[c], Is.EqualTo((int)expected[c]).Within(1), $"{what}: channel {c} of {actual} (expected {expected})");
    }

    [Test]
    public async Task Shows_the_original_and_each_method_side_by_side_and_exports_the_frame()
    {
        var page = await Open(new Uri(_page).AbsoluteUri);
        var titles = await page.Locator(".panel h2").AllTextContentsAsync();
        Assert.That(titles, Is.EqualTo(new[] { "original", "gradcam", "sacam-rt" }));
        Assert.That(await page.TextContentAsync("#frame-label"), Does.StartWith($"Frame 1 / {Frames}"));
        Assert.That(await page.TextContentAsync("#class-label"), Does.Contain("cock"));
        using var strip = await Export(page);
        AssertShowsFrame(strip, 0);
        await page.CloseAsync();
    }

    [Test]
    public async Task A_link_with_a_frame_opens_the_page_at_that_frame()
    {
        var page = await _browser.NewPageAsync();
        await page.GotoAsync(new Uri(_page).AbsoluteUri + "#frame=5");
        await WaitForFrame(page, 5);
        Assert.That(await page.TextContentAsync("#frame-label"), Does.StartWith($"Frame 6 / {Frames}"));
        await page.CloseAsync();
    }

    [Test]
    public async Task Arrow_keys_and_buttons_step_through_frames()
    {
        var page = await Open(new Uri(_page).AbsoluteUri);
        await page.Keyboard.PressAsync("ArrowRight");
        await page.Keyboard.PressAsync("ArrowRight");
        await WaitForFrame(page, 2);
        Assert.That(await page.TextContentAsync("#frame-label"), Does.StartWith($"Frame 3 / {Frames}"));
        using (var strip = await Export(page)) AssertShowsFrame(strip, 2);
        await page.ClickAsync("#prev");
        await WaitForFrame(page, 1);
        await page.Keyboard.PressAsync("ArrowLeft");
        await page.Keyboard.PressAsync("ArrowLeft"); // stays at the first frame
        await WaitForFrame(page, 0);
        await page.Keyboard.PressAsync("End");
        await WaitForFrame(page, Frames - 1);
        using (var strip = await Export(page)) AssertShowsFrame(strip, Frames - 1);
        await page.CloseAsync();
    }

    [Test]
    public async Task A_click_on_the_timeline_jumps_to_that_frame()
    {
        var page = await Open(new Uri(_page).AbsoluteUri);
        var box = (await page.Locator("#timeline").BoundingBoxAsync())!;
        await page.Mouse.ClickAsync(box.X + box.Width * 0.75f, box.Y + box.Height / 2);
        int expected = (int)Math.Round(0.75 * (Frames - 1));
        await WaitForFrame(page, expected);
        Assert.That(await page.InputValueAsync("#scrubber"), Is.EqualTo(expected.ToString()));
        using var strip = await Export(page);
        AssertShowsFrame(strip, expected);
        Assert.That(await page.Locator("#timeline polyline").CountAsync(), Is.EqualTo(1 + 2 * 2), "score, and peak and entropy per method");
        await page.CloseAsync();
    }

    [Test]
    public async Task Play_advances_and_pause_stops()
    {
        var page = await Open(new Uri(_page).AbsoluteUri);
        await page.ClickAsync("#play");
        await page.WaitForFunctionAsync("() => Number(document.body.dataset.frame) >= 3", null, new PageWaitForFunctionOptions { Timeout = 10_000 });
        await page.ClickAsync("#play");
        string stopped = (await page.GetAttributeAsync("body", "data-frame"))!;
        await Task.Delay(400); // four frame periods at 10 fps
        Assert.That(await page.GetAttributeAsync("body", "data-frame"), Is.EqualTo(stopped), "paused");
        Assert.That(await page.GetAttributeAsync("body", "data-playing"), Is.EqualTo("false"));
        await page.CloseAsync();
    }

    [Test]
    public async Task Frames_load_lazily_chunk_by_chunk()
    {
        var page = await Open(new Uri(_page).AbsoluteUri);
        // 12 frames in chunks of 4, three layers: the first chunk and its prefetched successor, not the third.
        await page.WaitForFunctionAsync("() => window.sacamReview.loadedChunks() === 6");
        Assert.That(await page.Locator("script[src*='-2.js']").CountAsync(), Is.Zero, "the last chunk is not requested yet");
        await page.Keyboard.PressAsync("End");
        await WaitForFrame(page, Frames - 1);
        Assert.That(await page.EvaluateAsync<int>("() => window.sacamReview.loadedChunks()"), Is.EqualTo(9));
        await page.CloseAsync();
    }

    [Test]
    public async Task Served_on_127_0_0_1_the_page_works_and_nothing_outside_the_folder_is_served()
    {
        using var server = new ReviewServer(Path.GetDirectoryName(_page)!);
        Assert.That(server.Address.Host, Is.EqualTo("127.0.0.1"));
        var page = await Open(server.Address.AbsoluteUri);
        await page.Keyboard.PressAsync("ArrowRight");
        await WaitForFrame(page, 1);
        using (var strip = await Export(page)) AssertShowsFrame(strip, 1);
        await page.CloseAsync();
        using var http = new HttpClient();
        var outside = await http.GetAsync(new Uri(server.Address, "/%2e%2e/gradcam/run.json"));
        Assert.That((int)outside.StatusCode, Is.EqualTo(404), "a path out of the review folder");
    }

    [Test]
    public async Task A_self_contained_page_needs_no_other_file()
    {
        var folder = Path.Combine(_root, "single");
        var built = ReviewBuilder.Build([Path.Combine(_root, "gradcam"), Path.Combine(_root, "sacam-rt")], folder,
            new ReviewOptions { SelfContained = true, ChunkSize = 4 });
        Assert.That(Directory.GetFileSystemEntries(folder), Is.EqualTo(new[] { built.IndexPath }), "only index.html");
        var page = await Open(new Uri(built.IndexPath).AbsoluteUri);
        await page.Keyboard.PressAsync("End");
        await WaitForFrame(page, Frames - 1);
        using (var strip = await Export(page)) AssertShowsFrame(strip, Frames - 1);
        await page.CloseAsync();
    }
}
