using SaCam.Fleet;

namespace SaCam.Tests;

/// <summary>
/// Fleets of object runs: the workers explain each tracked object of every frame (`--target det:all` with the shared
/// SSD's card), and the merged report ranks the tracks worth a look: a score that fell well below its best, a map that
/// mostly left the object's box.
/// </summary>
[TestFixture]
[NonParallelizable]
public class ObjectFleetTests : TempFolderTest
{
    private static TrackObservation Seen(int track, long frame, double score, double energy) =>
        new("r00000", "a.mp4", "part-0", (int)frame, frame, track, "sedan", score, energy);

    [Test]
    public void A_track_whose_score_falls_or_whose_map_leaves_its_box_is_ranked_and_a_steady_one_is_not()
    {
        var observations = new List<TrackObservation>
        {
            Seen(1, 0, 0.40, 0.8), Seen(1, 1, 0.42, 0.7), Seen(1, 2, 0.41, 0.9),           // steady, on its box
            Seen(2, 0, 0.45, 0.6), Seen(2, 1, 0.40, 0.6), Seen(2, 2, 0.20, 0.6),           // falls to 44% of its best
            Seen(3, 0, 0.35, 0.1), Seen(3, 1, 0.36, 0.2), Seen(3, 2, 0.35, 0.9), Seen(3, 3, 0.35, 0.05), // outside on 3 of 4
        };
        var ranked = TrackRanking.WorthALook(observations);
        Assert.That(ranked.Select(t => t.Track), Is.EqualTo(new[] { 3, 2 }), "most severe first; the steady track is not flagged");
        Assert.Multiple(() =>
        {
            Assert.That(ranked[1].ScoreDrop, Is.EqualTo((0.45 - 0.20) / 0.45).Within(1e-9));
            Assert.That(ranked[1].Reasons, Is.EqualTo("score fell 56% below its best"));
            Assert.That(ranked[0].ShareOutsideBox, Is.EqualTo(0.75));
            Assert.That(ranked[0].Reasons, Is.EqualTo("attention outside its box on 75% of its frames"));
            Assert.That((ranked[0].FirstFrame, ranked[0].LastFrame, ranked[0].Frames), Is.EqualTo((0L, 3L, 4)));
        });
        // The same track id in another part is another object (each part's tracker starts anew).
        var twoParts = observations.Take(3).Concat(observations.Take(3).Select(o => o with { PartFolder = "part-1" })).ToList();
        Assert.That(TrackRanking.All(twoParts), Has.Count.EqualTo(2));
    }

    [Test, Category("Slow"), NeedsSharedData]
    public void A_fleet_of_a_detector_writes_objects_per_frame_and_ranks_its_tracks()
    {
        string card = SharedModelCards.Write(Dir, "traffic_ssd");
        string fleet = Path.Combine(Dir, "fleet");
        var (exit, _, err) = SacamInProcess.Run("fleet", "plan", SharedData.Path_("media", "driving", "traffic_frames.mp4"), "--out", fleet, "--frames-per-shard", "10",
            "--model", SharedModelCards.Model("traffic_ssd"), "--model-card", card, "--target", "det:all", "--method", "xgradcam");
        Assert.That(exit, Is.Zero, err);
        var layout = new FleetLayout(fleet);
        var (plan, _) = layout.LoadPlan();
        Assert.That(plan.Shards, Has.Count.EqualTo(2), "20 frames in 10-frame shards");
        foreach (var shard in plan.Shards)
        {
            var work = SacamInProcess.Run("fleet", "work", "--plan", fleet, "--shard", shard.Index.ToString());
            Assert.That(work.Exit, Is.Zero, work.Err);
        }
        var records = Directory.GetFiles(layout.Shards, "frames.jsonl", SearchOption.AllDirectories).SelectMany(File.ReadLines)
            .Select(l => System.Text.Json.Nodes.JsonNode.Parse(l)!).ToList();
        Assert.That(records, Has.Count.EqualTo(20));
        Assert.That(records.All(r => r["objects"] is System.Text.Json.Nodes.JsonArray), "every frame lists its objects");
        int objects = records.Sum(r => r["objects"]!.AsArray().Count);
        Assert.That(objects, Is.GreaterThan(20), "the traffic clip has two or three cars a frame");

        var merged = SacamInProcess.Run("fleet", "merge", "--plan", fleet);
        Assert.That(merged.Exit, Is.Zero, merged.Err);
        var report = File.ReadAllText(Path.Combine(layout.Report, "report.md"));
        Assert.That(report, Does.Contain("## Tracks worth a look"));
        var tracks = File.ReadAllLines(Path.Combine(layout.Report, "tracks-to-review.csv"));
        Assert.That(tracks[0], Does.StartWith("recording,file,track,label,first_frame,last_frame,frames,mean_score,score_drop,share_outside_box,why,review"));
        Assert.That(tracks.Length, Is.GreaterThan(1), "XGrad-CAM's maps of the far cars lie mostly outside their boxes (measured: frames 0-1)");
        var first = tracks[1].Split(',');
        Assert.That(first[^2], Does.Contain("attention outside its box").Or.Contain("score fell"));
        var link = first[^1];
        Assert.That(File.Exists(Path.Combine(layout.Report, link.Split('#')[0])), $"the review page {link} exists");
        Assert.That(File.ReadAllText(Path.Combine(layout.Report, "index.html")), Does.Contain("<table id=\"tracks\">"));
    }
}
