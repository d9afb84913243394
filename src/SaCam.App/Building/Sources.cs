using OpenCvSharp;
using SaCam.App.Specs;
using SaCam.Medical;
using SaCam.Plugins;
using SaCam.Video.Sources;

namespace SaCam.App.Building;

/// <summary>
/// The one place that decides what a source is: DICOM (by content, "DICM" at byte 128: a file, cine or series
/// folder; or a series on a PACS, dicomweb:http://... or dimse:AET@HOST:PORT/...) or anything the catalog opens (files, cameras, folders, URLs, plugin schemes). DICOM options on a source
/// that is not DICOM are refused, naming them.
/// </summary>
public static class Sources
{
    public static IFrameSource Open(string spec, MedicalSpec? medical, PluginCatalog catalog, IRunFeedback feedback) =>
        TryOpenDicom(spec, medical, feedback) ?? catalog.OpenSource(spec);

    /// <summary>An image for `explain`: a DICOM file's first frame (windowed and masked) with what the model sees
    /// instead when an input range asks for raw values, or an image file.</summary>
    public static (Mat Picture, Mat? ModelImage) ReadImage(string path, MedicalSpec? medical, IRunFeedback feedback)
    {
        using var source = TryOpenDicom(path, medical, feedback);
        if (source is null) return (Imaging.ImageFile.ReadBgr(path), null);
        using var frame = System.Reactive.Linq.Observable.Wait(System.Reactive.Linq.Observable.FirstAsync(source.Frames()));
        return (frame.Image.Clone(), frame.ModelImage?.Clone());
    }

    private static DicomSource? TryOpenDicom(string spec, MedicalSpec? medical, IRunFeedback feedback)
    {
        if (DicomWebAddress.Is(spec))
            return DicomSource.OpenDicomWeb(spec, medical?.ToOptions() ?? new MedicalOptions(), feedback.Warning, progress: feedback.Download, note: feedback.Note);
        if (DimseFetcher.Is(spec)) return DicomSource.OpenDimse(spec, medical?.ToOptions() ?? new MedicalOptions(), feedback.Warning, note: feedback.Note);
        if (DicomFile.IsDicomSource(spec)) return DicomSource.Open(spec, medical?.ToOptions() ?? new MedicalOptions(), feedback.Warning);
        if (medical is { Any: true })
            throw new ArgumentException("--window, --windows, --series, --mask and --input-range apply to DICOM sources; this source is not DICOM (no 'DICM' at byte 128).");
        return null;
    }
}
