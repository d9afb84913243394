using SaCam.App.Building;
using SaCam.Core.Methods;
using SaCam.Core.Realtime;
using SaCam.Video;

namespace SaCam.Tests;

/// <summary>
/// sacam-rt through video with an object target: one instance per track (its own score cache), and the frame's
/// budget divided equally among the objects explained on the frame, so three tracked cars cost one frame's scoring
/// time rather than three.
/// </summary>
[TestFixture]
public class ObjectBudgetTests : TempFolderTest
{
    [Test]
    public void A_budget_share_scales_the_fixed_budget_and_is_refused_outside_zero_to_one()
    {
        using var rt = new RealtimeSaCam(new RealtimeSaCamOptions { BudgetMs = 90 });
        Assert.That(rt.BudgetMs, Is.EqualTo(90));
        rt.BudgetShare = 1.0 / 3;
        Assert.That(rt.BudgetMs, Is.EqualTo(30).Within(1e-9));
        Assert.Throws<ArgumentOutOfRangeException>(() => rt.BudgetShare = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => rt.BudgetShare = 1.5);
        Assert.That(rt.BudgetShare, Is.EqualTo(1.0 / 3).Within(1e-12), "a refused share leaves the last one");
    }

    /// <summary>Frame 0 of the traffic clip holds three cars (tracks 1-3): three sacam-rt instances, each spending a
    /// third of the 90 ms budget.</summary>
    [Test, NeedsSharedData]
    public void Each_track_gets_its_own_instance_and_an_equal_share_of_the_frame_budget()
    {
        using var model = ModelLoader.Load(new SaCam.App.Specs.ModelSpec { Id = SharedModelCards.Model("traffic_ssd"), Card = SharedModelCards.Write(Dir, "traffic_ssd") }, SilentFeedback.Instance);
        var made = new List<RealtimeSaCam>();
        ICamMethod Create()
        {
            var rt = new RealtimeSaCam(new RealtimeSaCamOptions { BudgetMs = 90 });
            made.Add(rt);
            return rt;
        }
        using var explainer = new ObjectFrameExplainer(model, Create, "det:all", maxObjects: 5, layer: null);
        using var frame = new VideoFrame(0, TimeSpan.Zero, SharedModelCards.DrivingFrame("traffic_frames.mp4", 0));
        using var explained = explainer.Explain(frame);
        Assert.That(explained.Objects, Has.Count.EqualTo(3));
        var live = made.Skip(1).ToList(); // the first instance is the constructor's probe, disposed at once
        Assert.That(live, Has.Count.EqualTo(3), "one instance per track");
        Assert.That(live.Select(m => m.BudgetMs), Is.All.EqualTo(30).Within(1e-9), "a third of the frame's 90 ms each");
    }
}
