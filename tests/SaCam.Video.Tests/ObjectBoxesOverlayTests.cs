using OpenCvSharp;
using SaCam.Video;
using SaCam.Video.Overlays;
using SaCam.Video.Pipeline;
using SaCam.Imaging;
using Size = OpenCvSharp.Size;

namespace SaCam.Tests;

/// <summary>How object targets are drawn over a frame: a detection's box; a segment's outline where the model put it,
/// not the box around it.</summary>
[TestFixture]
public class ObjectBoxesOverlayTests
{
    private static Mat Draw(Point[][]? outline)
    {
        var geometry = new FrameGeometry(new Size(100, 80), new Size(32, 32), new Rect(0, 0, 100, 80), new Rect(0, 0, 32, 32));
        var box = new Rect(20, 20, 60, 40);
        var o = new ObjectExplanation(0, 7, "car", 0.3f, box, TorchSharp.torch.zeros(32, 32), new Point(50, 40), 0.5, 1) { Outline = outline };
        using var frame = new VideoFrame(0, TimeSpan.Zero, new Mat(80, 100, MatType.CV_8UC3, Scalar.All(0)));
        var explanation = new FrameExplanation { MethodId = "gradcam", ClassIndex = 7, Score = 0.3f, Top5 = [], Geometry = geometry, ExplainMs = 1, Objects = [o] };
        using var annotated = new AnnotatedFrame(frame, explanation);
        var canvas = new Mat(80, 100, MatType.CV_8UC3, Scalar.All(0));
        new ObjectBoxesOverlay().Draw(canvas, annotated);
        return canvas;
    }

    private static bool White(Mat m, int x, int y) => m.At<Vec3b>(y, x).Item0 > 200;

    /// <summary>Gold: the outline's colour (blue low, green and red high).</summary>
    private static bool Gold(Mat m, int x, int y) => m.At<Vec3b>(y, x) is { Item0: < 60, Item1: > 150, Item2: > 200 };

    [Test]
    public void A_detection_gets_its_box()
    {
        using var canvas = Draw(null);
        Assert.That(White(canvas, 20, 59) && White(canvas, 79, 40), "the box's left and right edges");
    }

    [Test]
    public void A_segment_gets_its_outline_not_its_box()
    {
        // A triangle inside the box: its bottom-left corner is on the box, its right side is not.
        using var canvas = Draw([[new Point(20, 59), new Point(50, 20), new Point(79, 59)]]);
        Assert.Multiple(() =>
        {
            Assert.That(Gold(canvas, 50, 59), "the triangle's base, in gold");
            Assert.That(Gold(canvas, 35, 40), "its left side, halfway up");
            Assert.That(White(canvas, 79, 30) || Gold(canvas, 79, 30), Is.False, "the box's right edge is not drawn");
            Assert.That(White(canvas, 21, 25) || Gold(canvas, 21, 25), Is.False, "nor its top-left corner");
        });
    }
}
