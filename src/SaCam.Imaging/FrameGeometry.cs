using OpenCvSharp;

namespace SaCam.Imaging;

/// <summary>
/// Where the model's input came from in the original frame: <see cref="SourceRect"/> (in frame pixels) was scaled
/// into <see cref="TargetRect"/> (in model input pixels). Lets overlays put a map back where it belongs.
/// </summary>
public sealed record FrameGeometry(Size FrameSize, Size InputSize, Rect SourceRect, Rect TargetRect);
