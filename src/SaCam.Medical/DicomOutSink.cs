using OpenCvSharp;
using SaCam.Imaging;
using SaCam.Video.Pipeline;
using SaCam.Video.Sinks;

namespace SaCam.Medical;

/// <summary>
/// --dicom-out and --store-to: each explained frame as a Secondary Capture in a new series of the source's study
/// (<see cref="SecondaryCaptureWriter"/>); when the run ends, the series goes to the PACS named by --store-to. Without
/// --dicom-out the files live in a private temporary folder that is removed afterwards, stored or not; with it they
/// stay, also when the store is refused.
/// </summary>
internal sealed class DicomOutSink : IFrameSink
{
    private readonly DicomSeries _series;
    private readonly SecondaryCaptureWriter _writer;
    private readonly OverlayOptions _overlay;
    private readonly IDicomStore? _store;
    private readonly bool _temporary;
    // Conversions running beside the pipeline, in frame order; two at a time keep the cores for the explanation.
    private readonly Queue<Task<string>> _pending = new();
    private readonly List<string> _written = [];
    private const int InFlight = 2;

    public DicomOutSink(DicomSeries series, string? folder, DicomDerivation derivation, ColorMap colors, IDicomStore? store, DicomToolkit tools)
    {
        _series = series;
        _store = store;
        _temporary = folder is null;
        folder ??= PrivateFolder.Create("sacam-dicom-out-");
        _writer = new SecondaryCaptureWriter(folder, derivation, series.First.SeriesNumber, tools);
        _overlay = new OverlayOptions { ColorMap = colors };
    }

    public void Write(AnnotatedFrame frame)
    {
        if (frame.Explanation.Map is not { } map) return; // nothing explained (--method none): nothing to derive
        long index = frame.Frame.Index;
        var (source, sourceFrame) = _series.IsCine ? (_series.First, (int?)index) : (_series.Slices[(int)index], (int?)null);
        using var blended = HeatmapOverlay.Render(frame.Frame.Image, map, frame.Explanation.Geometry, _overlay);
        _pending.Enqueue(_writer.Write(index, source, sourceFrame, blended));
        while (_pending.Count > InFlight) _written.Add(_pending.Dequeue().GetAwaiter().GetResult());
    }

    public void Dispose()
    {
        try
        {
            // Every conversion ends before anything is stored or removed; the first failure is the one reported.
            Exception? failed = null;
            while (_pending.TryDequeue(out var task))
            {
                try { _written.Add(task.GetAwaiter().GetResult()); }
                catch (Exception e) { failed ??= e; }
            }
            if (failed is not null) throw failed;
            if (_store is not null && _written.Count > 0) _store.Store(_written);
        }
        finally
        {
            if (_temporary) PrivateFolder.Delete(_writer.Folder);
        }
    }
}

/// <summary>Temporary folders that hold patient data (fetched instances, DICOM written for a store): readable by the
/// user only, and removed whole.</summary>
internal static class PrivateFolder
{
    /// <summary>.NET creates temporary subdirectories with mode 0700 on Unix.</summary>
    public static string Create(string prefix) => Directory.CreateTempSubdirectory(prefix).FullName;

    public static void Delete(string folder)
    {
        try { Directory.Delete(folder, recursive: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
