using Microsoft.Playwright;
using SaCam.TestSupport;

namespace SaCam.Review.Tests;

/// <summary>A page of two models' runs, in headless Chromium: the header names both models, each panel its own.</summary>
[TestFixture]
public class TwoModelsPageTests
{
    private const int PageLoadTimeoutMs = 10_000;

    [Test]
    public async Task The_header_names_both_models_and_each_panel_its_model()
    {
        HeadlessChromium.Require();
        var root = Directory.CreateTempSubdirectory("sacam-review-models-").FullName;
        try
        {
            var a = SyntheticRun.Write(Path.Combine(root, "a"), "gradcam", 3, 2, model: "resnet18");
            var b = SyntheticRun.Write(Path.Combine(root, "b"), "sacam-rt", 3, 1, model: "/models/mobilenet_v2.onnx");
            var index = ReviewBuilder.Build([a, b], Path.Combine(root, "review")).IndexPath;
            using var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
            await using var browser = await HeadlessChromium.Launch(playwright);
            var page = await browser.NewPageAsync();
            await page.GotoAsync(new Uri(index).AbsoluteUri);
            await page.WaitForFunctionAsync("() => document.querySelectorAll('.panel h2').length === 3", null, new PageWaitForFunctionOptions { Timeout = PageLoadTimeoutMs });
            var header = await page.TextContentAsync("#model-label");
            var titles = await page.Locator(".panel h2").AllTextContentsAsync();
            Assert.Multiple(() =>
            {
                Assert.That(header, Is.EqualTo("models: resnet18, /models/mobilenet_v2.onnx"));
                Assert.That(titles, Is.EqualTo(new[] { "original", "gradcam (resnet18)", "sacam-rt (mobilenet_v2.onnx)" }));
            });
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
