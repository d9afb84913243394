using Microsoft.Playwright;

namespace SaCam.Review.Tests;

/// <summary>
/// A built review page open in headless Chromium and showing its first frame, with the script errors it has raised
/// so far. The page tests share it instead of each starting Playwright, the browser and the page themselves;
/// disposing closes the browser.
/// </summary>
internal sealed class OpenReviewPage : IAsyncDisposable
{
    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;

    private OpenReviewPage(IPlaywright playwright, IBrowser browser, IPage page)
    {
        _playwright = playwright;
        _browser = browser;
        Page = page;
        page.PageError += (_, e) => Errors.Add(e);
    }

    public IPage Page { get; }
    public List<string> Errors { get; } = [];

    /// <summary>Opens <paramref name="indexPath"/> and waits until frame 0 is shown.</summary>
    public static async Task<OpenReviewPage> Open(string indexPath)
    {
        var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        var browser = await HeadlessChromium.Launch(playwright);
        var opened = new OpenReviewPage(playwright, browser, await browser.NewPageAsync());
        await opened.Page.GotoAsync(new Uri(indexPath).AbsoluteUri);
        await opened.Page.WaitForFunctionAsync("() => document.body.dataset.frame === '0'", null, new PageWaitForFunctionOptions { Timeout = 10_000 });
        return opened;
    }

    /// <summary>Moves the scrubber to <paramref name="frame"/> as a user would and waits until the page shows it.</summary>
    public async Task Go(int frame)
    {
        await Page.EvaluateAsync("p => { const s = document.getElementById('scrubber'); s.value = String(p); s.dispatchEvent(new Event('input')); }", frame);
        await Page.WaitForFunctionAsync("p => document.body.dataset.frame === String(p)", frame, new PageWaitForFunctionOptions { Timeout = 10_000 });
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }
}
