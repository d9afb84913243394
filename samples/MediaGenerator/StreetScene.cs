using OpenCvSharp;

namespace SaCam.Samples.MediaGenerator;

/// <summary>
/// A synthetic dashcam view drawn with OpenCV primitives: sky, hills, a road with lane marks, a car and two trees.
/// Deterministic, licence-free, and with objects at known places, so maps can be checked by eye and by tests.
/// </summary>
public static class StreetScene
{
    public static readonly Size ClipSize = new(640, 360);
    public const int ClipFrames = 48;
    public const double ClipFps = 12;

    /// <summary>The demo clip's car drifts across the lane and back: its sideways offset in frame <paramref name="index"/>.</summary>
    public static int CarOffset(int index) => (int)(120 * Math.Sin(index * Math.PI / 24));

    /// <summary>The car's bounding box (body, cabin and wheels) for a given offset.</summary>
    public static Rect CarBox(Size size, int carOffset)
    {
        var (cx, cy) = CarOrigin(size, carOffset);
        return new Rect(cx, cy - 30, 120, 30 + 45 + 14);
    }

    private static (int X, int Y) CarOrigin(Size size, int carOffset) => (size.Width / 2 - 60 + carOffset, (int)(size.Height * 0.68));

    public static Mat Draw(Size size, int carOffset)
    {
        int w = size.Width, h = size.Height;
        var img = new Mat(size, MatType.CV_8UC3, new Scalar(235, 206, 135)); // sky (BGR)
        Cv2.FillPoly(img, [[new Point(0, h / 2), new Point(w / 4, h / 3), new Point(w / 2, h / 2)]], new Scalar(60, 140, 80));
        Cv2.FillPoly(img, [[new Point(w / 3, h / 2), new Point(3 * w / 4, h / 3 + 10), new Point(w, h / 2)]], new Scalar(70, 150, 90));
        Cv2.Rectangle(img, new Rect(0, h / 2, w, h / 2), new Scalar(80, 160, 100), -1);                 // grass
        var road = new[] { new Point(w / 2 - 20, h / 2), new Point(w / 2 + 20, h / 2), new Point(w - 40, h), new Point(40, h) };
        Cv2.FillPoly(img, [road], new Scalar(90, 90, 90));
        for (int k = 0; k < 6; k++)                                                                      // lane marks
        {
            double t0 = k / 6.0 + 0.03, t1 = t0 + 0.08;
            int y0 = h / 2 + (int)(t0 * h / 2), y1 = h / 2 + (int)(t1 * h / 2);
            Cv2.Line(img, new Point(w / 2, y0), new Point(w / 2, y1), Scalar.White, 2 + k);
        }
        // A car ahead, drawn as body, cabin, windows and wheels; carOffset moves it sideways between frames.
        var (cx, cy) = CarOrigin(size, carOffset);
        Cv2.Rectangle(img, new Rect(cx, cy, 120, 45), new Scalar(40, 40, 200), -1);
        Cv2.Rectangle(img, new Rect(cx + 20, cy - 30, 80, 32), new Scalar(40, 40, 180), -1);
        Cv2.Rectangle(img, new Rect(cx + 28, cy - 25, 28, 20), new Scalar(230, 220, 200), -1);
        Cv2.Rectangle(img, new Rect(cx + 64, cy - 25, 28, 20), new Scalar(230, 220, 200), -1);
        Cv2.Circle(img, new Point(cx + 25, cy + 45), 14, new Scalar(20, 20, 20), -1);
        Cv2.Circle(img, new Point(cx + 95, cy + 45), 14, new Scalar(20, 20, 20), -1);
        foreach (int tx in new[] { 70, w - 90 })                                                          // trees
        {
            Cv2.Rectangle(img, new Rect(tx - 6, h / 2 - 20, 12, 50), new Scalar(30, 60, 100), -1);
            Cv2.Circle(img, new Point(tx, h / 2 - 40), 32, new Scalar(40, 120, 40), -1);
        }
        return img;
    }

    /// <summary>
    /// The exemplar for the demo's target: the car as the clip shows it (same size, same place), alone on a plain
    /// road-grey frame. Measured with the embedded ResNet18: a tight crop stretched to the model's input shows the
    /// car four times larger than the clip does, and its similarity map strays to the trees on some frames (sacam-rt
    /// 39/48 frames on the car); at the clip's scale Grad-CAM's peak is on the car in 48/48 frames and sacam-rt's in
    /// 47/48.
    /// </summary>
    public static Mat CarExemplar()
    {
        using var scene = Draw(ClipSize, carOffset: 0);
        var box = CarBox(ClipSize, 0);
        var exemplar = new Mat(ClipSize, MatType.CV_8UC3, new Scalar(90, 90, 90));
        using var car = new Mat(scene, box);
        using var target = new Mat(exemplar, box);
        car.CopyTo(target);
        return exemplar;
    }
}
