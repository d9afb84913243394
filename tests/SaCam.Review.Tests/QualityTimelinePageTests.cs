using System.Text.Json.Nodes;
using Microsoft.Playwright;
using SaCam.Tests;

namespace SaCam.Review.Tests;

/// <summary>
/// The review page of a run written with `sacam video --quality-every 4`: the timeline's quality lane plots
/// insertion and deletion through the checked frames only, marks the one frame whose map fails the check, and the
/// header names the shown frame's quality and flags the failing one.
/// </summary>
[TestFixture]
public class QualityTimelinePageTests : TempFolderTest
{
    private const int Frames = 12;

    /// <summary>Frames 0, 4 and 8 were checked; frame 8's map fails (insertion 0.4 not above deletion 0.7).</summary>
    private static JsonObject? QualityOf(int k) => k switch
    {
        0 => new JsonObject { ["deletion"] = 0.2, ["insertion"] = 0.9 },
        4 => new JsonObject { ["deletion"] = 0.3, ["insertion"] = 0.8 },
        8 => new JsonObject { ["deletion"] = 0.7, ["insertion"] = 0.4 },
        _ => null,
    };

    [Test]
    public async Task The_timeline_plots_quality_on_the_checked_frames_and_flags_the_failing_one()
    {
        HeadlessChromium.Require();
        var run = SyntheticRun.Write(Path.Combine(Dir, "run"), "sacam-rt", Frames, 2, quality: QualityOf);
        await using var review = await OpenReviewPage.Open(ReviewBuilder.Build([run], Path.Combine(Dir, "review"), new ReviewOptions { ChunkSize = 4 }).IndexPath);
        var page = review.Page;

        var insertionPoints = await page.EvaluateAsync<string>("() => document.querySelector(\"#timeline polyline[data-quality='insertion']\").getAttribute('points')");
        var deletionDash = await page.EvaluateAsync<string>("() => document.querySelector(\"#timeline polyline[data-quality='deletion']\").getAttribute('stroke-dasharray')");
        await Assert.MultipleAsync(async () =>
        {
            Assert.That(insertionPoints.Split(' '), Has.Length.EqualTo(3), "a point on each of the three checked frames");
            Assert.That(deletionDash, Is.Not.Empty, "deletion is the dashed line");
            Assert.That(await page.Locator("#timeline .quality-fail").CountAsync(), Is.EqualTo(1), "one failing frame marked");
            Assert.That(await page.TextContentAsync("#timeline .quality-fail title"), Does.Contain("frame 9").And.Contain("fails"));
            Assert.That(await page.TextContentAsync("#quality-label"), Is.EqualTo("map quality: insertion 0.900, deletion 0.200"));
            Assert.That(await page.EvaluateAsync<string>("() => document.body.dataset.quality"), Is.EqualTo("passes"));
        });

        await review.Go(1);
        Assert.That(await page.EvaluateAsync<string>("() => document.body.dataset.quality"), Is.EqualTo("none"), "frame 1 was not checked");
        Assert.That(await page.TextContentAsync("#quality-label"), Is.Empty);

        await review.Go(8);
        await Assert.MultipleAsync(async () =>
        {
            Assert.That(await page.EvaluateAsync<string>("() => document.body.dataset.quality"), Is.EqualTo("fails"));
            Assert.That(await page.TextContentAsync("#quality-label"), Is.EqualTo("map quality: insertion 0.400, deletion 0.700: fails the check"));
            Assert.That(await page.GetAttributeAsync("#quality-label", "class"), Is.EqualTo("fails"), "flagged in red");
            Assert.That(review.Errors, Is.Empty);
        });
    }

    /// <summary>An object run checked on frames 0 and 2: two cars each; on frame 2 one car's map fails and the other's
    /// passes. The lane shows the worst object's figures, so frame 2 is marked and its header flagged.</summary>
    [Test]
    public async Task An_object_run_is_flagged_where_any_objects_map_fails()
    {
        HeadlessChromium.Require();
        static JsonObject Car(int track, double? deletion, double? insertion)
        {
            var o = new JsonObject { ["track"] = track, ["label"] = "sedan", ["score"] = 0.5, ["box"] = new JsonArray(8, 8, 24, 24) };
            if (deletion is double d && insertion is double i) o["quality"] = new JsonObject { ["deletion"] = d, ["insertion"] = i };
            return o;
        }
        JsonArray ObjectsOf(int k) => k switch
        {
            0 => new JsonArray(Car(1, 0.2, 0.9), Car(2, 0.1, 0.6)),
            2 => new JsonArray(Car(1, 0.2, 0.9), Car(2, 0.6, 0.5)),
            _ => new JsonArray(Car(1, null, null), Car(2, null, null)),
        };
        var run = SyntheticRun.Write(Path.Combine(Dir, "run"), "xgradcam", 4, 2, objects: ObjectsOf);
        await using var review = await OpenReviewPage.Open(ReviewBuilder.Build([run], Path.Combine(Dir, "review")).IndexPath);
        var page = review.Page;
        Assert.That(await page.TextContentAsync("#quality-label"), Is.EqualTo("map quality: insertion 0.600, deletion 0.100"), "frame 0: the worse of 0.9 - 0.2 and 0.6 - 0.1");
        await review.Go(2);
        await Assert.MultipleAsync(async () =>
        {
            Assert.That(await page.EvaluateAsync<string>("() => document.body.dataset.quality"), Is.EqualTo("fails"));
            Assert.That(await page.TextContentAsync("#quality-label"), Is.EqualTo("map quality: insertion 0.500, deletion 0.600: fails the check"));
            Assert.That(await page.Locator("#timeline .quality-fail").CountAsync(), Is.EqualTo(1));
        });
    }

    /// <summary>A run without checks: no quality lines, no marks, no label.</summary>
    [Test]
    public async Task A_run_without_checks_has_an_empty_quality_lane()
    {
        HeadlessChromium.Require();
        var run = SyntheticRun.Write(Path.Combine(Dir, "run"), "gradcam", 4, 1);
        await using var review = await OpenReviewPage.Open(ReviewBuilder.Build([run], Path.Combine(Dir, "review")).IndexPath);
        var page = review.Page;
        await Assert.MultipleAsync(async () =>
        {
            Assert.That(await page.Locator("#timeline polyline[data-quality]").CountAsync(), Is.Zero);
            Assert.That(await page.Locator("#timeline .quality-fail").CountAsync(), Is.Zero);
            Assert.That(await page.EvaluateAsync<string>("() => document.body.dataset.quality"), Is.EqualTo("none"));
        });
    }
}
