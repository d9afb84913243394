using System.Globalization;
using OpenCvSharp;
using SaCam.Video.Pipeline;

namespace SaCam.Video.Overlays;

/// <summary>Each explained object's box (a segment: its mask's outline) with its track, label and score, over the
/// heat map (object targets).</summary>
public sealed class ObjectBoxesOverlay : IFrameOverlay
{
    /// <summary>A segment's outline (BGR gold).</summary>
    public static readonly Scalar SegmentColour = new(0, 215, 255);

    public void Draw(Mat canvas, AnnotatedFrame frame)
    {
        if (frame.Explanation.Objects is not { } objects) return;
        int thickness = Math.Max(1, canvas.Width / 400);
        double scale = Math.Max(0.4, canvas.Width / 1600.0);
        foreach (var o in objects)
        {
            // A segment is outlined where the model put it, in gold so that it is not taken for the map's own white
            // contour; a detection gets its box.
            if (o.Outline is { } outline) Cv2.Polylines(canvas, outline, isClosed: true, SegmentColour, thickness, LineTypes.AntiAlias);
            else Cv2.Rectangle(canvas, o.Box, Scalar.White, thickness);
            string text = string.Create(CultureInfo.InvariantCulture, $"#{o.Track} {o.Label ?? (o.Class is int c ? $"class {c}" : "")} {o.Score:F2}");
            Cv2.PutText(canvas, text, new Point(o.Box.X + 2, Math.Max(12, o.Box.Y - 4)), HersheyFonts.HersheySimplex, scale, Scalar.White, 1, LineTypes.AntiAlias);
        }
    }
}
