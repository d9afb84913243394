using SaCam.Video.Pipeline;

namespace SaCam.Tests;

/// <summary>The tracker's promises on boxes whose right ids are known.</summary>
[TestFixture]
public class IouTrackerTests
{
    private static float[] Box(float x, float y, float size = 10) => [x, y, x + size, y + size];

    [Test]
    public void Boxes_that_move_a_little_keep_their_ids_and_new_boxes_get_new_ones()
    {
        var tracker = new IouTracker(minIou: 0.3, maxMisses: 2);
        Assert.That(tracker.Update([Box(0, 0), Box(50, 50)]).Ids, Is.EqualTo(new[] { 1, 2 }));
        Assert.That(tracker.Update([Box(51, 51), Box(1, 1)]).Ids, Is.EqualTo(new[] { 2, 1 }), "matched by overlap, whatever the order");
        Assert.That(tracker.Update([Box(2, 2), Box(52, 52), Box(100, 100)]).Ids, Is.EqualTo(new[] { 1, 2, 3 }));
        Assert.That(tracker.Update([Box(30, 30)]).Ids, Is.EqualTo(new[] { 4 }), "overlapping none enough: a new track, ids never reused");
    }

    [Test]
    public void A_track_survives_its_allowed_misses_and_then_ends()
    {
        var tracker = new IouTracker(minIou: 0.3, maxMisses: 2);
        tracker.Update([Box(0, 0)]);
        Assert.That(tracker.Update([]).Ended, Is.Empty);
        Assert.That(tracker.Update([]).Ended, Is.Empty);
        Assert.That(tracker.Update([Box(1, 1)]).Ids, Is.EqualTo(new[] { 1 }), "back after two misses: the same id");
        tracker.Update([]);
        tracker.Update([]);
        Assert.That(tracker.Update([]).Ended, Is.EqualTo(new[] { 1 }), "the third miss in a row ends it");
        Assert.That(tracker.Update([Box(0, 0)]).Ids, Is.EqualTo(new[] { 2 }));
    }

    [Test]
    public void Each_box_takes_the_track_it_overlaps_most()
    {
        var tracker = new IouTracker(minIou: 0.1, maxMisses: 1);
        tracker.Update([Box(0, 0), Box(6, 0)]);
        // Box(5, 0) overlaps track 2 (at 6) more than track 1 (at 0); Box(0, 0) takes track 1.
        Assert.That(tracker.Update([Box(5, 0), Box(0, 0)]).Ids, Is.EqualTo(new[] { 2, 1 }));
    }
}
