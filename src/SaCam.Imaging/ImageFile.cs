using OpenCvSharp;

namespace SaCam.Imaging;

/// <summary>Reads image files into 8-bit BGR Mats, with errors that name the file.</summary>
public static class ImageFile
{
    public static Mat ReadBgr(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Image '{path}' does not exist.", path);
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

    /// <summary>Writes an image; the folder is created, and an unwritable path is an error naming it.</summary>
    public static void Write(string path, Mat image)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        if (!Cv2.ImWrite(path, image))
            throw new IOException($"Cannot write image '{path}' (unknown extension or unwritable location).");
    }
}
