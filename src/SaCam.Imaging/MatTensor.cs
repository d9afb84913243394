using OpenCvSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace SaCam.Imaging;

/// <summary>Single-copy moves between OpenCV Mats and CPU tensors of the same byte layout.</summary>
public static class MatTensor
{
    /// <summary>Copies a Mat's pixels into a CPU tensor of exactly as many bytes.</summary>
    public static unsafe void CopyTo(Mat image, Tensor destination)
    {
        Mat source = image.IsContinuous() ? image : image.Clone();
        try
        {
            var span = destination.bytes;
            long size = source.Total() * source.ElemSize();
            if (size != span.Length)
                throw new ArgumentException($"Image of {size} bytes does not fit a tensor of {span.Length} bytes.");
            new ReadOnlySpan<byte>((void*)source.Data, span.Length).CopyTo(span);
        }
        finally
        {
            if (!ReferenceEquals(source, image)) source.Dispose();
        }
    }

    /// <summary>A [H, W] float map (any device) as a CV_32FC1 Mat.</summary>
    public static unsafe Mat ToFloatMat(Tensor map)
    {
        if (map.dim() != 2) throw new ArgumentException($"Expected a 2-D map, got shape [{string.Join(", ", map.shape)}].");
        using var cpu = map.detach().to(CPU).to_type(ScalarType.Float32).contiguous();
        var mat = new Mat((int)cpu.shape[0], (int)cpu.shape[1], MatType.CV_32FC1);
        var bytes = cpu.bytes;
        bytes.CopyTo(new Span<byte>((void*)mat.Data, bytes.Length));
        return mat;
    }
}
