using System.Globalization;
using System.Text;
using OpenCvSharp;

namespace SaCam.Medical;

/// <summary>What made an explanation, as the written DICOM names it: method, target, model and window.</summary>
public sealed record DicomDerivation(string Method, string Target, string Model, string Window)
{
    /// <summary>Series Description (LO, at most 64 characters): what a PACS lists beside the original series.</summary>
    public string SeriesDescription => Clip($"CAM {Method}, {Target}, {Model}", 64);

    /// <summary>Derivation Description (ST): what the pixels are, in words a reviewer reads in the viewer's tags.</summary>
    public string DerivationDescription => Clip(
        $"Class activation map ({Method}; target {Target}; model {Model}) blended over the source image windowed {Window}, by SaCam.Realtime. The colours are the map, not tissue.", 1024);

    /// <summary>Names from a command line may be paths (a model file, an exemplar image): only the file name is kept,
    /// and nothing a DICOM text value cannot hold (backslash separates values; control characters are not allowed).</summary>
    public static string Name(string text)
    {
        int slash = text.IndexOfAny(['/', '\\']);
        string name = slash < 0 ? text : text[..(text.LastIndexOf(':', slash) + 1)] + Path.GetFileName(text.Replace('\\', '/').TrimEnd('/'));
        var clean = new StringBuilder(name.Length);
        foreach (char c in name) clean.Append(c is >= ' ' and <= '~' && c != '\\' ? c : '_');
        return clean.ToString();
    }

    private static string Clip(string text, int max) => text.Length <= max ? text : text[..max];
}

/// <summary>
/// Writes each explained frame as a Secondary Capture image (RGB: the windowed slice with the heat map blended) in a
/// new series of the source's study, through DCMTK's img2dcm: the patient and study modules are copied by img2dcm
/// from the source file itself (--study-from), so patient data never passes through this process. New 2.25 UIDs, a
/// Source Image Sequence naming the source instance (and frame, for a cine), the source's position, orientation and
/// pixel spacing, and Burned In Annotation as it is: the source's flag (the blend keeps its pixels; no text is drawn).
/// </summary>
public sealed class SecondaryCaptureWriter
{
    private readonly DicomToolkit _tools;
    private readonly DicomDerivation _derivation;
    private readonly int _seriesNumber;

    public SecondaryCaptureWriter(string folder, DicomDerivation derivation, int? sourceSeriesNumber, DicomToolkit tools)
    {
        Folder = Directory.CreateDirectory(folder).FullName;
        _derivation = derivation;
        _tools = tools;
        // Beside the source in the viewer's list, and clearly derived from it.
        _seriesNumber = (sourceSeriesNumber ?? 0) + 9000;
        tools.Require("img2dcm", DicomToolkit.DcmtkPackage, "--dicom-out");
    }

    public string Folder { get; }
    public string SeriesUid { get; } = DicomUid.New();
    /// <summary>Writes frame <paramref name="index"/> (0-based in the run) derived from <paramref name="source"/>
    /// (frame <paramref name="sourceFrame"/> of it for a cine). The picture is saved before this returns (the frame
    /// may be gone after); img2dcm then runs on the returned task, so that its start-up (a process, DCMTK's data
    /// dictionary) overlaps the next frame's explanation instead of holding up the pipeline.</summary>
    public Task<string> Write(long index, DicomHeader source, int? sourceFrame, Mat rgbAsBgr)
    {
        string name = string.Create(CultureInfo.InvariantCulture, $"{index:D6}.dcm");
        string output = Path.Combine(Folder, name), bmp = Path.Combine(Folder, $".{name}.bmp"), partial = Path.Combine(Folder, $".{name}.partial");
        if (!Cv2.ImWrite(bmp, rgbAsBgr))
        {
            File.Delete(bmp);
            throw new IOException($"--dicom-out: frame {index} could not be written.");
        }
        var args = new List<string> { "-ll", "error", "-i", "BMP", "--study-from", source.File };
        void Key(string key, string value) { args.Add("-k"); args.Add($"{key}={value}"); }
        Key("SeriesInstanceUID", SeriesUid);
        Key("SOPInstanceUID", DicomUid.New());
        Key("SeriesNumber", _seriesNumber.ToString(CultureInfo.InvariantCulture));
        Key("InstanceNumber", (index + 1).ToString(CultureInfo.InvariantCulture));
        Key("Modality", source.Modality.Length > 0 ? source.Modality : "OT");
        Key("Laterality", "");
        Key("ImageType", "DERIVED\\SECONDARY");
        Key("SeriesDescription", _derivation.SeriesDescription);
        Key("DerivationDescription", _derivation.DerivationDescription);
        Key("BurnedInAnnotation", source.BurnedInAnnotation ? "YES" : "NO");
        if (source.SopClassUid.Length > 0) Key("SourceImageSequence[0].ReferencedSOPClassUID", source.SopClassUid);
        Key("SourceImageSequence[0].ReferencedSOPInstanceUID", source.InstanceUid);
        if (sourceFrame is int f && ReferencesFrames(source)) Key("SourceImageSequence[0].ReferencedFrameNumber", (f + 1).ToString(CultureInfo.InvariantCulture));
        if (source.Position is { } p) Key("ImagePositionPatient", Values(p));
        if (source.Orientation is { } o) Key("ImageOrientationPatient", Values(o));
        if (source.PixelSpacing is { } ps) Key("PixelSpacing", Values(ps));
        args.AddRange([bmp, partial]);
        return Task.Run(() =>
        {
            try
            {
                _tools.Run("img2dcm", DicomToolkit.DcmtkPackage, args, $"--dicom-out: writing frame {index}");
                File.Move(partial, output, overwrite: true);
                return output;
            }
            finally
            {
                File.Delete(bmp);
                File.Delete(partial);
            }
        });
    }

    /// <summary>Image Storage classes whose instances are single frames by definition (PS3.3): a reference to one of
    /// them takes no Referenced Frame Number, even when a file of that class holds several frames.</summary>
    private static readonly HashSet<string> SingleFrameClasses =
    [
        "1.2.840.10008.5.1.4.1.1.1", "1.2.840.10008.5.1.4.1.1.1.1", "1.2.840.10008.5.1.4.1.1.1.1.1", "1.2.840.10008.5.1.4.1.1.1.2",
        "1.2.840.10008.5.1.4.1.1.1.2.1", "1.2.840.10008.5.1.4.1.1.1.3", "1.2.840.10008.5.1.4.1.1.1.3.1", "1.2.840.10008.5.1.4.1.1.2",
        "1.2.840.10008.5.1.4.1.1.4", "1.2.840.10008.5.1.4.1.1.6.1", "1.2.840.10008.5.1.4.1.1.7", "1.2.840.10008.5.1.4.1.1.128",
    ];

    /// <summary>Whether a frame of this source is referenced by number: a multi-frame file of a multi-frame class.</summary>
    public static bool ReferencesFrames(DicomHeader source) => source.Frames > 1 && !SingleFrameClasses.Contains(source.SopClassUid);

    private static string Values(double[] values) => string.Join('\\', values.Select(v => v.ToString("G10", CultureInfo.InvariantCulture)));
}
