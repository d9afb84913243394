using OpenCvSharp;

namespace SaCam.Imaging;

/// <summary>Reads image files into 8-bit BGR Mats, with errors that name the file.</summary>
public static class ImageFile
{
    /// <summary>The most pixels an image may have (256 MP, 16384x16384): models see 224x224, and OpenCV refuses a
    /// gigapixel, so a larger file is refused by its header with its size named, before anything is decoded.</summary>
    public const long MaxPixels = 1L << 28;

    public static Mat ReadBgr(string path)
    {
        if (Directory.Exists(path)) throw new ArgumentException($"Image '{path}' is a folder, not an image file.");
        if (!File.Exists(path)) throw new FileNotFoundException($"Image '{path}' does not exist.", path);
        if (ImageHeader.TryReadSize(path) is var (w, h))
        {
            if (w <= 0 || h <= 0) throw new InvalidDataException($"Image '{path}' cannot be decoded: its header gives a size of {w}x{h}.");
            if ((long)w * h > MaxPixels)
                throw new InvalidDataException($"Image '{path}' is {w}x{h} pixels ({(long)w * h / 1e6:F0} MP), above the {MaxPixels / 1e6:F0} MP this tool decodes: scale it down first (the model sees it at 224x224 anyway).");
        }
        var mat = Cv2.ImRead(path, ImreadModes.Unchanged);
        if (mat.Empty())
        {
            mat.Dispose();
            throw new InvalidDataException($"Image '{path}' cannot be decoded (not an image format OpenCV reads, or a corrupt file).");
        }
        return ToBgr8(mat);
    }

    /// <summary>Converts grayscale, BGRA and 16-bit images to 8-bit BGR (the input is consumed).</summary>
    public static Mat ToBgr8(Mat mat)
    {
        var current = mat;
        if (current.Depth() != MatType.CV_8U)
        {
            double scale = current.Depth() == MatType.CV_16U ? 1.0 / 257 : current.Depth() is 5 or 6 ? 255.0 : 1.0;
            var converted = new Mat();
            current.ConvertTo(converted, MatType.MakeType(MatType.CV_8U, current.Channels()), scale);
            current.Dispose();
            current = converted;
        }
        var code = current.Channels() switch
        {
            1 => ColorConversionCodes.GRAY2BGR,
            4 => ColorConversionCodes.BGRA2BGR,
            3 => (ColorConversionCodes?)null,
            _ => throw new InvalidDataException($"Images with {current.Channels()} channels are not supported."),
        } ;
        if (code is null) return current;
        var bgr = new Mat();
        Cv2.CvtColor(current, bgr, code.Value);
        current.Dispose();
        return bgr;
    }

    /// <summary>Writes an image, whole or not at all (encoded in memory, then <see cref="Core.IO.AtomicFile"/>): the
    /// folder is created, a full disk is an error naming the file, and a device or pipe is never replaced.</summary>
    public static void Write(string path, Mat image)
    {
        var ext = Path.GetExtension(path).ToLowerInvariant();
        byte[] encoded;
        try
        {
            if (!Cv2.ImEncode(ext, image, out encoded)) throw new IOException($"Cannot encode image '{path}' as {ext}.");
        }
        catch (OpenCVException e)
        {
            throw new ArgumentException($"Cannot write image '{path}': '{ext}' is not an image format OpenCV writes (use .png, .jpg, .bmp, .tif or .webp).", e);
        }
        Core.IO.AtomicFile.WriteAllBytes(path, encoded);
    }
}
