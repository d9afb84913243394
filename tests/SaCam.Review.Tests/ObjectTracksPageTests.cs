using System.Text.Json.Nodes;
using Microsoft.Playwright;
using SaCam.Tests;

namespace SaCam.Review.Tests;

/// <summary>
/// The review page of an object run (records with an `objects` array, as `sacam video --target det:all` writes): the
/// track list, and following one track: the page jumps to its first frame, outlines its box on every panel while it
/// is in view (and not where it is not), and plots its score in the timeline.
/// </summary>
[TestFixture]
public class ObjectTracksPageTests : TempFolderTest
{
    private const int Frames = 12;

    /// <summary>Track 1 on frames 0-5 (box 8,8-24,24), track 2 on frames 3-11 (box 32,16-60,40), in 64x48 frames.</summary>
    private static JsonArray ObjectsOf(int k)
    {
        var list = new JsonArray();
        if (k <= 5) list.Add(new JsonObject { ["track"] = 1, ["label"] = "sedan", ["score"] = 0.4, ["box"] = new JsonArray(8, 8, 24, 24) });
        if (k >= 3) list.Add(new JsonObject { ["track"] = 2, ["label"] = "bus", ["score"] = 0.3 + k * 0.01, ["box"] = new JsonArray(32, 16, 60, 40) });
        return list;
    }

    [Test]
    public async Task Following_a_track_jumps_to_it_outlines_its_box_and_plots_its_score()
    {
        HeadlessChromium.Require();
        var run = SyntheticRun.Write(Path.Combine(Dir, "run"), "xgradcam", Frames, 2, objects: ObjectsOf);
        await using var review = await OpenReviewPage.Open(ReviewBuilder.Build([run], Path.Combine(Dir, "review"), new ReviewOptions { ChunkSize = 4 }).IndexPath);
        var page = review.Page;
        var options = await page.Locator("#track option").AllTextContentsAsync();
        Assert.That(options, Is.EqualTo(new[] { "all objects", "#1 sedan (frames 1-6)", "#2 bus (frames 4-12)" }));

        await page.SelectOptionAsync("#track", "2");
        await page.WaitForFunctionAsync("() => document.body.dataset.frame === '3' && document.body.dataset.track === '2'", null, new PageWaitForFunctionOptions { Timeout = 10_000 });
        var style = await page.EvaluateAsync<string[]>("() => { const b = document.querySelector('.track-box'); return [b.style.display, b.style.left, b.style.top, b.style.width, b.style.height]; }");
        Assert.That(style, Is.EqualTo(new[] { "block", "50%", "33.33%", "43.75%", "50%" }), "box 32,16-60,40 of a 64x48 frame, as shares to 4 places");
        Assert.That(await page.Locator("#timeline polyline[data-track='2']").CountAsync(), Is.EqualTo(1), "its score in the timeline");

        await page.SelectOptionAsync("#track", "1");
        await page.WaitForFunctionAsync("() => document.body.dataset.frame === '0' && document.body.dataset.track === '1'");
        await page.Keyboard.PressAsync("End");
        await page.WaitForFunctionAsync("() => document.body.dataset.frame === '11'");
        Assert.That(await page.EvaluateAsync<string>("() => document.querySelector('.track-box').style.display"), Is.EqualTo("none"), "track 1 is not in view on the last frame");
        Assert.That(await page.Locator("#timeline polyline[data-track='2']").CountAsync(), Is.Zero, "one track's line at a time");
    }

    /// <summary>Track 1's map is flat at level 200, track 2's at 60 (inside the map's content rectangle).</summary>
    private static int TrackLevel(int track) => track == 1 ? 200 : 60;

    /// <summary>
    /// An object run as `sacam video --run` writes one: its annotated video (boxes drawn on it), its maps with their
    /// overlay, and each object's own map (maps/000003-t2.png). Following a track opens a panel with that object's map
    /// alone over the original frame, drawn as sacam draws an overlay; a frame without the track leaves it empty.
    /// </summary>
    [Test]
    public async Task Following_a_track_shows_its_own_map_over_the_original_frame()
    {
        HeadlessChromium.Require();
        var folder = SyntheticRun.Write(Path.Combine(Dir, "run"), "sacam-rt", Frames, 2, annotated: true, objects: ObjectsOf);
        var run = new SaCam.Video.Sinks.RunFolder(folder);
        Directory.CreateDirectory(run.Maps);
        SaCam.Video.Sinks.RunOverlay.Of(SyntheticRun.Geometry, SyntheticRun.Overlay).Write(run.Maps);
        for (int k = 0; k < Frames; k++)
            foreach (var o in ObjectsOf(k))
            {
                int track = o!["track"]!.GetValue<int>();
                using var map = new OpenCvSharp.Mat(32, 32, OpenCvSharp.MatType.CV_8UC1, OpenCvSharp.Scalar.All(255));
                map[SyntheticRun.Geometry.TargetRect].SetTo(OpenCvSharp.Scalar.All(TrackLevel(track)));
                OpenCvSharp.Cv2.ImWrite(Path.Combine(run.Maps, SaCam.Video.Sinks.RunFolder.ObjectMapFileName(k, track)), map);
            }
        await using var review = await OpenReviewPage.Open(ReviewBuilder.Build([folder], Path.Combine(Dir, "review"), new ReviewOptions { ChunkSize = 4 }).IndexPath);
        var page = review.Page;
        var errors = review.Errors;
        Assert.That(await page.Locator(".panel[data-layer='track']").IsHiddenAsync(), "no track followed: no track panel");

        async Task<(int Level, int[] Colour)> Shown(int frame)
        {
            await page.WaitForFunctionAsync("p => document.querySelector(\"canvas[data-layer='track']\").dataset.frame === String(p)", frame,
                new PageWaitForFunctionOptions { Timeout = 10_000 });
            int level = await page.EvaluateAsync<int>("() => window.sacamReview.overlayLevel('track', 30, 20)");
            var colour = await page.EvaluateAsync<int[]>("() => Array.from(document.querySelector(\"canvas[data-layer='track']\").getContext('2d').getImageData(30, 20, 1, 1).data.slice(0, 3))");
            return (level, colour);
        }

        await page.SelectOptionAsync("#track", "2");
        var (level2, colour2) = await Shown(3);
        Assert.That(level2, Is.EqualTo(TrackLevel(2)), "track 2's own map, not the frame's");
        var expected = SyntheticRun.Blend(SyntheticRun.Level(3), TrackLevel(2));
        Assert.That(colour2, Is.EqualTo(new[] { (int)expected.Item2, expected.Item1, expected.Item0 }).Within(3),
            "sacam's blend of the original frame (MJPG: within 3 grey levels) and the map's colour");
        Assert.That(await page.TextContentAsync(".panel[data-layer='track'] h2"), Is.EqualTo("track #2 bus: its map"));

        await page.SelectOptionAsync("#track", "1");
        var (level1, _) = await Shown(0);
        Assert.That(level1, Is.EqualTo(TrackLevel(1)));
        await page.Keyboard.PressAsync("End");
        await page.WaitForFunctionAsync("() => document.body.dataset.frame === '11' && document.querySelector(\"canvas[data-layer='track']\").dataset.frame === '11'");
        Assert.That(await page.EvaluateAsync<int>("() => document.querySelector(\"canvas[data-layer='track']\").width"), Is.Zero, "track 1 is not on the last frame: an empty panel");
        Assert.That(errors, Is.Empty, "script errors on the page");
    }

    [Test]
    public void A_run_without_objects_has_no_track_list()
    {
        var run = SyntheticRun.Write(Path.Combine(Dir, "run"), "gradcam", 3, 2);
        var page = ReviewBuilder.Build([run], Path.Combine(Dir, "review"));
        var frames = ReviewInputTests.PageData(page.IndexPath)["frames"]!.AsArray();
        Assert.That(frames.All(f => f!["objects"] is null));
    }
}
