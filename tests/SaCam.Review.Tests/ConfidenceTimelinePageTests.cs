using Microsoft.Playwright;
using SaCam.Tests;

namespace SaCam.Review.Tests;

/// <summary>
/// A sacam-rt run's score_confidence on the review page (issue 23, part 5): a fifth timeline lane plots it through
/// every frame, and the header names the shown frame's value, so a reviewer sees which maps lean on guessed scores.
/// A run of another method has no such lane.
/// </summary>
[TestFixture]
public class ConfidenceTimelinePageTests : TempFolderTest
{
    [Test]
    public async Task A_sacam_rt_run_plots_its_score_confidence_and_names_the_shown_frames()
    {
        HeadlessChromium.Require();
        var run = SyntheticRun.Write(Path.Combine(Dir, "run"), "sacam-rt", 6, 2, scoreConfidence: k => k / 10.0);
        await using var review = await OpenReviewPage.Open(ReviewBuilder.Build([run], Path.Combine(Dir, "review")).IndexPath);
        var page = review.Page;
        var points = await page.EvaluateAsync<string>("() => document.querySelector('#timeline polyline[data-confidence]').getAttribute('points')");
        var y = points.Split(' ').Select(p => double.Parse(p.Split(',')[1], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        await Assert.MultipleAsync(async () =>
        {
            Assert.That(y, Has.Count.EqualTo(6), "a point on every frame");
            Assert.That(y, Is.Ordered.Descending, "confidence rises from frame to frame, so the line climbs (SVG y grows downwards)");
            Assert.That(y[0], Is.EqualTo(240 + 55).Within(0.05), "confidence 0 sits at the bottom of the fifth lane");
            Assert.That(await page.TextContentAsync("#confidence-label"), Is.EqualTo("score confidence 0.00"));
            Assert.That(await page.EvaluateAsync<string>("() => document.getElementById('timeline').getAttribute('viewBox')"), Is.EqualTo("0 0 1000 300"));
        });
        await review.Go(3);
        Assert.That(await page.TextContentAsync("#confidence-label"), Is.EqualTo("score confidence 0.30"));
        Assert.That(review.Errors, Is.Empty, "the page runs without script errors");
    }

    [Test]
    public async Task A_run_without_score_confidence_has_no_confidence_lane()
    {
        HeadlessChromium.Require();
        var run = SyntheticRun.Write(Path.Combine(Dir, "run"), "gradcam", 4, 1);
        await using var review = await OpenReviewPage.Open(ReviewBuilder.Build([run], Path.Combine(Dir, "review")).IndexPath);
        var page = review.Page;
        await Assert.MultipleAsync(async () =>
        {
            Assert.That(await page.Locator("#timeline polyline[data-confidence]").CountAsync(), Is.Zero);
            Assert.That(await page.TextContentAsync("#confidence-label"), Is.Empty);
            Assert.That(await page.EvaluateAsync<string>("() => document.getElementById('timeline').getAttribute('viewBox')"), Is.EqualTo("0 0 1000 240"), "four lanes");
            Assert.That(review.Errors, Is.Empty, "the page runs without script errors");
        });
    }
}
