using OpenCvSharp;

namespace SaCam.Medical;

/// <summary>
/// Decodes frames through DCMTK into modality values (Hounsfield units for CT) as 32-bit float images, keeping every
/// bit: dcmj2pnm writes 16-bit PNGs through the window centre 0, width 65536, which maps a rescaled value v to exactly
/// v + 32768 (checked against pydicom on CT_small: identical). A tool's default stretch of the stored bit range is
/// never used: it is not HU. MONOCHROME1 is decoded with its polarity turned back, so values stay values; the window
/// turns it to display grey. Colour images come as 8-bit BGR (no window applies).
/// </summary>
public sealed class DicomPixelDecoder(DicomToolkit tools)
{
    public DicomToolkit Tools => tools;

    private const string JpegLs = "1.2.840.10008.1.2.4.80", JpegLsNearLossless = "1.2.840.10008.1.2.4.81";
    private static readonly HashSet<string> Jpeg2000 = ["1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.4.92", "1.2.840.10008.1.2.4.93"];
    private static readonly Dictionary<string, string> DcmjSyntaxes = new()
    {
        ["1.2.840.10008.1.2"] = "implicit little endian", ["1.2.840.10008.1.2.1"] = "explicit little endian", ["1.2.840.10008.1.2.2"] = "explicit big endian",
        ["1.2.840.10008.1.2.1.99"] = "deflated", ["1.2.840.10008.1.2.5"] = "RLE", ["1.2.840.10008.1.2.4.50"] = "JPEG baseline",
        ["1.2.840.10008.1.2.4.51"] = "JPEG extended", ["1.2.840.10008.1.2.4.57"] = "JPEG lossless", ["1.2.840.10008.1.2.4.70"] = "JPEG lossless SV1",
    };

    /// <summary>The program that decodes a transfer syntax, or an error naming the syntax and what to install.</summary>
    public string ToolFor(DicomHeader header)
    {
        string syntax = header.TransferSyntax;
        if (syntax.Length == 0 || DcmjSyntaxes.ContainsKey(syntax)) return "dcmj2pnm";
        if (syntax is JpegLs or JpegLsNearLossless) return "dcml2pnm";
        if (Jpeg2000.Contains(syntax))
        {
            if (!tools.Has("gdcmconv"))
                throw new DicomException($"The file is JPEG 2000 ({syntax}); DCMTK cannot decode it and GDCM's gdcmconv is not installed: apt-get install {DicomToolkit.GdcmPackage}.");
            return "gdcmconv";
        }
        throw new DicomException($"No installed tool decodes the transfer syntax {syntax} (video or another encoding): convert the file to an uncompressed or JPEG syntax first.");
    }

    /// <summary>Frames of a file: one (<paramref name="frame"/>, 0-based) or all.</summary>
    public IReadOnlyList<Mat> Decode(DicomHeader header, int? frame, string what)
    {
        var folder = Directory.CreateTempSubdirectory("sacam-dicom-").FullName;
        try
        {
            string input = header.File, tool = ToolFor(header);
            if (tool == "gdcmconv")
            {
                string raw = Path.Combine(folder, "raw.dcm");
                tools.Run("gdcmconv", DicomToolkit.GdcmPackage, ["--raw", input, raw], what);
                input = raw;
                tool = "dcmj2pnm";
            }
            var args = new List<string> { "-ll", "error", "-il", "-mf" };
            if (header.IsColor) args.Add("+on");
            else
            {
                args.AddRange(["+on2", "+Ww", "0", "65536"]);
                if (header.IsMonochrome1) args.Add("+P");
            }
            if (frame is int f) args.AddRange(["+F", (f + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            else if (header.Frames > 1) args.Add("+Fa");
            string output = Path.Combine(folder, "frame.png");
            args.AddRange([input, output]);
            tools.Run(tool, DicomToolkit.DcmtkPackage, args, what);
            var files = frame is null && header.Frames > 1
                ? Enumerable.Range(0, header.Frames).Select(i => Path.Combine(folder, $"frame.png.{i}.png")).Where(File.Exists).ToList()
                : [output];
            if (files.Count == 0 || !File.Exists(files[0])) throw new DicomException($"{what}: the decoder wrote no image.");
            return files.Select(file => Load(file, header)).ToList();
        }
        finally
        {
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
        }
    }

    private static Mat Load(string png, DicomHeader header)
    {
        using var image = Cv2.ImRead(png, header.IsColor ? ImreadModes.Color : ImreadModes.Unchanged);
        if (image.Empty()) throw new DicomException("The decoder's output could not be read back.");
        if (header.IsColor) return image.Clone();
        var values = new Mat();
        image.ConvertTo(values, MatType.CV_32FC1, 1, -32768);
        return values;
    }
}
