#nullable enable
namespace SaCam.Unity
{
    /// <summary>
    /// Unity textures store rows bottom to top; the explainer host takes and returns rows top to bottom. One copy
    /// that reverses the row order, into a buffer the caller keeps (no allocation per frame).
    /// </summary>
    public static class RgbaRows
    {
        public static void FlipVertically(System.ReadOnlySpan<byte> source, System.Span<byte> destination, int width, int height)
        {
            int stride = width * 4;
            if (source.Length != stride * height || destination.Length != source.Length)
                throw new System.ArgumentException($"Expected {width}x{height} RGBA ({stride * height} bytes), got {source.Length} in and {destination.Length} out.");
            for (int row = 0; row < height; row++)
                source.Slice(row * stride, stride).CopyTo(destination.Slice((height - 1 - row) * stride, stride));
        }
    }
}
