using OpenCvSharp;
using SaCam.Video.Pipeline;

namespace SaCam.Video.Overlays;

/// <summary>
/// Something drawn on the overlay after the heat map and before the HUD (a plugin's lane markings, a box, a
/// watermark). Called on the render thread, once per frame, in order.
/// </summary>
public interface IFrameOverlay
{
    void Draw(Mat canvas, AnnotatedFrame frame);
}
