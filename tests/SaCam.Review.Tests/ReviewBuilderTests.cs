namespace SaCam.Review.Tests;

/// <summary>What the builder refuses, and how it says so.</summary>
public class ReviewBuilderTests
{
    private string _root = null!;

    [SetUp]
    public void CreateFolder() => _root = Directory.CreateTempSubdirectory("sacam-review-builder-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_root, recursive: true);

    [Test]
    public void A_folder_that_is_not_a_run_is_named_in_the_error()
    {
        var e = Assert.Throws<FileNotFoundException>(() => ReviewBuilder.Build([_root], Path.Combine(_root, "out")));
        Assert.That(e!.Message, Does.Contain(_root).And.Contain("run.json"));
    }

    [Test]
    public void Runs_of_different_footage_are_refused()
    {
        var a = SyntheticRun.Write(Path.Combine(_root, "a"), "gradcam", 3, 2, source: "video 'a.mp4'");
        var b = SyntheticRun.Write(Path.Combine(_root, "b"), "gradcam", 3, 2, source: "video 'b.mp4'");
        var e = Assert.Throws<ArgumentException>(() => ReviewBuilder.Build([a, b], Path.Combine(_root, "out")));
        Assert.That(e!.Message, Does.Contain("a.mp4").And.Contain("b.mp4"));
    }

    [Test]
    public void A_self_contained_page_over_the_size_limit_is_refused_with_the_alternative()
    {
        var a = SyntheticRun.Write(Path.Combine(_root, "a"), "gradcam", 6, 2);
        var e = Assert.Throws<InvalidOperationException>(() => ReviewBuilder.Build([a], Path.Combine(_root, "out"),
            new ReviewOptions { SelfContained = true, MaxInlineBytes = 2000 }));
        Assert.That(e!.Message, Does.Contain("--serve").And.Contain("folder form"));
    }

    [Test]
    public void An_interrupted_run_is_reviewed_up_to_its_last_whole_line()
    {
        var a = SyntheticRun.Write(Path.Combine(_root, "a"), "gradcam", 5, 2);
        File.AppendAllText(Path.Combine(a, "frames.jsonl"), "{\"index\": 5, \"timesta");
        var page = ReviewBuilder.Build([a], Path.Combine(_root, "out"));
        Assert.That(page.Frames, Is.EqualTo(5));
        Assert.That(File.ReadAllText(page.IndexPath), Does.Contain("\"frames\":[{\"index\":0"));
    }

    /// <summary>Chunk scripts hold each original frame as a JPEG data: URL and each map as the run's own 8-bit PNG,
    /// written plainly: base64's '+' as itself, not as the default JSON encoder's \u002B (8% of a page of frames).</summary>
    [Test]
    public void Chunks_hold_plain_base64_frames_and_maps()
    {
        var a = SyntheticRun.Write(Path.Combine(_root, "a"), "gradcam", 5, 2);
        var page = ReviewBuilder.Build([a], Path.Combine(_root, "out"), new ReviewOptions { ChunkSize = 4 });
        var scripts = Directory.GetFiles(Path.Combine(Path.GetDirectoryName(page.IndexPath)!, "frames"), "*.js").Order(StringComparer.Ordinal).Select(File.ReadAllText).ToList();
        var jpegs = scripts.SelectMany(s => System.Text.RegularExpressions.Regex.Matches(s, "\"data:image/jpeg;base64,([A-Za-z0-9+/=]*)\"")).ToList();
        var pngs = scripts.SelectMany(s => System.Text.RegularExpressions.Regex.Matches(s, "\"data:image/png;base64,([A-Za-z0-9+/=]*)\"")).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(scripts, Has.None.Contain("\\u002B"));
            Assert.That(jpegs, Has.Count.EqualTo(5), "5 original frames; the gradcam panel is drawn from its maps");
            Assert.That(jpegs.Select(m => Convert.FromBase64String(m.Groups[1].Value).Take(2)), Has.All.EqualTo(new byte[] { 0xFF, 0xD8 }), "each a JPEG");
            var video = File.ReadAllBytes(Path.Combine(a, "original.avi"));
            Assert.That(jpegs.Select(m => video.AsSpan().IndexOf(Convert.FromBase64String(m.Groups[1].Value)) >= 0), Has.All.True,
                "each is the run's MJPG frame byte for byte, not a second encoding");
            Assert.That(pngs.Select(m => Convert.FromBase64String(m.Groups[1].Value)), Is.EqualTo(Enumerable.Range(0, 5).Select(k => File.ReadAllBytes(Path.Combine(a, "maps", $"{k:D6}.png")))),
                "each map is the run's PNG, byte for byte");
        });
    }

    /// <summary>A run written before maps carried their overlay (or one that kept its annotated frames for a plugin's
    /// drawing) has no maps/overlay.json: its panel is its annotated video's frames.</summary>
    [Test]
    public void A_run_without_an_overlay_is_shown_from_its_annotated_video()
    {
        var a = SyntheticRun.Write(Path.Combine(_root, "a"), "gradcam", 5, 2, annotated: true);
        var page = ReviewBuilder.Build([a], Path.Combine(_root, "out"), new ReviewOptions { ChunkSize = 8 });
        var chunks = Directory.GetFiles(Path.Combine(_root, "out", "frames")).Select(Path.GetFileName).Order();
        Assert.That(chunks, Is.EqualTo(new[] { "m0-0.js", "original-0.js" }));
        Assert.That(System.Text.RegularExpressions.Regex.Matches(File.ReadAllText(Path.Combine(_root, "out", "frames", "m0-0.js")), "data:image/jpeg").Count, Is.EqualTo(5));
        Assert.That(ReviewInputTests.PageData(page.IndexPath)["layers"]![1]!["overlay"], Is.Null, "the page shows the video's frames as they are");
    }

    /// <summary>A record whose frame never reached the video (the run was cut between the two writes) gets an empty
    /// panel; every other frame keeps its image, chunk by chunk.</summary>
    /// <summary>A run killed before its video writers flushed lists frames its videos never received (here a 6th
    /// record for 5 frames): the review shows the 5 frames the videos hold, and says why.</summary>
    [Test]
    public void A_killed_run_shows_the_frames_its_videos_hold_and_says_so()
    {
        var a = SyntheticRun.Write(Path.Combine(_root, "a"), "gradcam", 5, 2);
        File.AppendAllText(Path.Combine(a, "frames.jsonl"), "{\"index\": 5, \"timestamp\": 0.5, \"score\": 0.5}\n");
        var page = ReviewBuilder.Build([a], Path.Combine(_root, "out"), new ReviewOptions { ChunkSize = 4 });
        var index = File.ReadAllText(page.IndexPath);
        Assert.Multiple(() =>
        {
            Assert.That(page.Frames, Is.EqualTo(5));
            Assert.That(page.Note, Does.Contain("lists 6 frames but its videos hold 5").And.Contain("(it did not finish)"));
            Assert.That(index, Does.Not.Contain("\"index\":5"), "the page's timeline has no frame the videos lack");
        });
    }

    /// <summary>A second run that lacks a frame the first has shows an empty panel there; the rest stay.</summary>
    [Test]
    public void A_frame_missing_from_another_run_is_an_empty_panel_and_the_rest_stay()
    {
        var a = SyntheticRun.Write(Path.Combine(_root, "a"), "gradcam", 6, 2);
        var b = SyntheticRun.Write(Path.Combine(_root, "b"), "layercam", 5, 1);
        var page = ReviewBuilder.Build([a, b], Path.Combine(_root, "out"), new ReviewOptions { ChunkSize = 4 });
        Assert.That(page.Frames, Is.EqualTo(6));
        var second = File.ReadAllText(Path.Combine(_root, "out", "frames", "ov1-1.js"));
        Assert.That(second, Does.Match(@"^window\.sacamReview\.chunk\(""ov1"",1,\[""data:image/png;base64,[^""]+"",null\]\);$"));
        var first = File.ReadAllText(Path.Combine(_root, "out", "frames", "original-0.js"));
        Assert.That(System.Text.RegularExpressions.Regex.Matches(first, "data:image/jpeg").Count, Is.EqualTo(4));
    }

    [Test]
    public void Two_runs_of_one_method_are_told_apart_by_their_folder()
    {
        var a = SyntheticRun.Write(Path.Combine(_root, "morning"), "gradcam", 3, 2);
        var b = SyntheticRun.Write(Path.Combine(_root, "evening"), "gradcam", 3, 2);
        var page = ReviewBuilder.Build([a, b], Path.Combine(_root, "out"));
        Assert.That(page.Layers, Is.EqualTo(new[] { "original", "gradcam (morning)", "gradcam (evening)" }));
    }
}
