using Microsoft.Playwright;
using SaCam.TestSupport;

namespace SaCam.Review.Tests;

/// <summary>Debian's Chromium, headless, as every page test drives it (installed by .ci/run; Playwright's own browser
/// download does not work on these machines).</summary>
internal static class HeadlessChromium
{
    public const string Path = "/usr/bin/chromium";

    /// <summary>Skips the test (or, where ../shared is required, fails it) when Chromium is not installed.</summary>
    public static void Require()
    {
        if (!File.Exists(Path)) Requirement.Missing(Path, "the review tests drive Debian's Chromium: apt-get install chromium");
    }

    public static Task<IBrowser> Launch(IPlaywright playwright) => playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
    {
        ExecutablePath = Path,
        Headless = true,
        // Without the background-networking flags Chromium keeps dialling Google's hosts, which this closed network refuses.
        Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
}
