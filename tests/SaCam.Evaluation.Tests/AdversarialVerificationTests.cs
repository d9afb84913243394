using SaCam.Evaluation;

namespace SaCam.Tests;

/// <summary>The adversarial verification's core area, paste and draws on cases small enough to check by hand.</summary>
[TestFixture]
public class AdversarialVerificationTests
{
    [Test]
    public void The_core_area_is_the_maps_top_fraction_of_pixels()
    {
        var map = Enumerable.Range(0, 16).Select(i => (float)i).ToArray();
        var core = AdversarialVerification.CoreArea(map, 0.25);
        Assert.That(Enumerable.Range(0, 16).Where(p => core[p]), Is.EqualTo(new[] { 12, 13, 14, 15 }));
    }

    [Test]
    public void An_objects_core_is_keep_of_the_objects_own_area()
    {
        var map = Enumerable.Range(0, 100).Select(i => (float)i).ToArray();
        Assert.That(AdversarialVerification.CoreArea(map, 0.2, ofPixels: 30).Count(v => v), Is.EqualTo(6), "0.2 x 30 pixels, of a 100-pixel map");
        Assert.That(AdversarialVerification.CoreArea(map, 5, ofPixels: 30).Count(v => v), Is.EqualTo(100), "never more than the map");
    }

    [Test]
    public void Ties_are_broken_by_position_and_at_least_one_pixel_is_kept()
    {
        float[] map = [0, 1, 1, 1];
        Assert.That(Enumerable.Range(0, 4).Where(p => AdversarialVerification.CoreArea(map, 0.5)[p]), Is.EqualTo(new[] { 1, 2 }), "two of the three tied pixels, the first two");
        Assert.That(AdversarialVerification.CoreArea(map, 0.01).Count(v => v), Is.EqualTo(1), "a tiny fraction still keeps the top pixel");
    }

    [Test]
    public void An_all_zero_map_has_no_core_area_and_pastes_nothing()
    {
        var core = AdversarialVerification.CoreArea(new float[16], 0.2);
        Assert.That(core, Is.All.False);
        var background = Enumerable.Repeat(7f, 16).ToArray();
        var pasted = AdversarialVerification.Paste(Enumerable.Range(0, 16).Select(i => (float)i).ToArray(), core, 1, 4, 4, [background], [new PasteDraw(0, 0.5, 0.5)]);
        Assert.That(pasted[0], Is.EqualTo(background), "the background alone is what the model sees");
    }

    /// <summary>Image 4x4 (values 0..15), core = pixels 1 and 2 (the top row's middle, a 1x2 box). U = 1 puts the box
    /// at the right edge (left = min(4 - 2, floor(1 * 3)) = 2), V = 0.5 on row floor(0.5 * 4) = 2.</summary>
    [Test]
    public void The_core_moves_as_one_piece_to_its_drawn_position()
    {
        var image = Enumerable.Range(0, 16).Select(i => (float)i).ToArray();
        var core = new bool[16];
        core[1] = core[2] = true;
        var pasted = AdversarialVerification.Paste(image, core, 1, 4, 4, [new float[16]], [new PasteDraw(0, 1.0, 0.5)])[0];
        var expected = new float[16];
        expected[2 * 4 + 2] = 1;
        expected[2 * 4 + 3] = 2;
        Assert.That(pasted, Is.EqualTo(expected));
    }

    [Test]
    public void Every_channel_of_a_core_pixel_is_pasted()
    {
        var image = Enumerable.Range(0, 8).Select(i => (float)i + 1).ToArray(); // 2 channels of 2x2
        var core = new[] { false, false, false, true };
        var pasted = AdversarialVerification.Paste(image, core, 2, 2, 2, [new float[8]], [new PasteDraw(0, 0, 0)])[0];
        Assert.That(pasted, Is.EqualTo(new float[] { 4, 0, 0, 0, 8, 0, 0, 0 }), "pixel (1,1) of both channels to (0,0)");
    }

    [Test]
    public void Draws_are_seeded_by_run_and_image()
    {
        var a = AdversarialVerification.Draws(seed: 1, imageIndex: 2, pastes: 5, backgroundCount: 3);
        Assert.That(AdversarialVerification.Draws(1, 2, 5, 3), Is.EqualTo(a));
        Assert.That(AdversarialVerification.Draws(2, 2, 5, 3), Is.Not.EqualTo(a));
        Assert.That(AdversarialVerification.Draws(1, 3, 5, 3), Is.Not.EqualTo(a));
        Assert.That(a.Select(d => d.Background), Is.All.InRange(0, 2));
    }

    [Test]
    public void Accuracy_and_fading_rate_are_the_share_kept_and_the_mean_relative_drop()
    {
        var r = new AdversarialResult(0.8, [0.8, 0.4, 0.0, 1.0], Correct: 3, CorePixels: 10);
        Assert.That(r.Accuracy, Is.EqualTo(0.75));
        // (0 + 0.5 + 1 + (-0.25)) / 4
        Assert.That(r.FadingRate, Is.EqualTo(0.3125).Within(1e-12));
    }
}
