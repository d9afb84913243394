using OpenCvSharp;
using SaCam.Video;
using SaCam.Video.Sinks;
using SaCam.Video.Sources;

namespace SaCam.Medical;

/// <summary>
/// A DICOM file (one image or a multi-frame cine), a folder of one series, or a folder of several (choose with
/// --series): frames in review order, windowed to grey (or three windows as three channels), masked, as BGR frames
/// for the pipeline. Its <see cref="Description"/> is a label and a salted hash, never a path, so that run folders,
/// reports and review pages carry no patient data by construction.
/// </summary>
public sealed class DicomSource : IFrameSource, IRunExtrasSource, IDisposable
{
    // A series fetched from a PACS lies in a private temporary folder that this source removes when disposed.
    private string? _ownedFolder;
    private readonly DicomSeries _series;
    private readonly IReadOnlyList<WindowChoice> _windows;
    private readonly MedicalOptions _options;
    private readonly DicomPixelDecoder _decoder;
    // Frames' values, kept from decoding until the run sink writes them (only while a run folder is written).
    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, Mat> _values = new();
    private volatile bool _keepValues;
    private readonly Func<string, string> _nameOf;

    private DicomSource(DicomSeries series, MedicalOptions options, DicomPixelDecoder decoder, string hash, Func<string, string> nameOf)
    {
        _nameOf = nameOf;
        _series = series;
        _options = options;
        _decoder = decoder;
        _windows = options.WindowChoices();
        Description = $"{series.Label} (source {hash})";
        FramesPerSecond = series.IsCine ? series.First.FramesPerSecond ?? 10 : options.SeriesFramesPerSecond;
    }

    /// <summary>Reads the headers (allowlisted tags only), groups and orders the series; warnings go to <paramref name="warn"/>.</summary>
    public static DicomSource Open(string path, MedicalOptions options, Action<string> warn, DicomToolkit? tools = null, string? hash = null)
    {
        tools ??= new DicomToolkit();
        var files = File.Exists(path) ? [path]
            : Directory.Exists(path) ? Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Where(DicomFile.IsDicom).Order(StringComparer.Ordinal).ToList()
            : throw new DicomException("The DICOM source does not exist.");
        if (files.Count == 0) throw new DicomException("The folder holds no DICOM file (none has 'DICM' at byte 128).");
        if (files.Count == 1 && !DicomFile.IsDicom(files[0])) throw new DicomException("The file is not DICOM (no 'DICM' at byte 128 of a Part 10 file).");
        var nameOf = NamesInside(path);
        var series = DicomSeriesBuilder.Choose(DicomSeriesBuilder.Group(new DicomHeaderReader(tools).Read(files, nameOf)), options.Series);
        var decoder = new DicomPixelDecoder(tools);
        decoder.ToolFor(series.First); // a syntax nothing here decodes fails now, not at the first frame
        RequireOwnWindows(series, options.WindowChoices());
        foreach (var w in series.Warnings) warn(w);
        if (series.First.BurnedInAnnotation || series.Modality == "US")
            warn($"{series.Label}: {(series.First.BurnedInAnnotation ? "BurnedInAnnotation is YES" : "ultrasound often carries identifiers in its pixels")}; " +
                 "names or IDs may be burned into the image. Black them out with --mask x,y,w,h before anything is written.");
        var source = new DicomSource(series, options, decoder, hash ?? SourceLabel.Hash(path), nameOf);
        return source;
    }

    /// <summary>A series from a DICOMweb server (WADO-RS), fetched into a private temporary folder and read exactly as
    /// the same series in a folder would be; the folder goes when the source is disposed, or at once on an error.</summary>
    public static DicomSource OpenDicomWeb(string url, MedicalOptions options, Action<string> warn, DicomToolkit? tools = null,
        IProgress<Core.Models.DownloadProgress>? progress = null, Action<string>? note = null)
    {
        var address = DicomWebAddress.Parse(url, seriesRequired: true);
        var fetched = new DicomWebFetcher(address) { Progress = progress, IdleTimeout = DicomWebFetcher.IdleTimeoutFromEnvironment() }.Fetch();
        return OpenFetched(fetched, address.Server, SourceLabel.HashOf(address.SeriesUri.AbsoluteUri), options, warn, tools, note);
    }

    /// <summary>A series from a PACS by DIMSE C-GET (getscu), dimse:AET@HOST:PORT/studies/S/series/SE; as <see cref="OpenDicomWeb"/>.</summary>
    public static DicomSource OpenDimse(string address, MedicalOptions options, Action<string> warn, DicomToolkit? tools = null, Action<string>? note = null)
    {
        var fetcher = new DimseFetcher(address, tools);
        return OpenFetched(fetcher.Fetch(), fetcher.Server, SourceLabel.HashOf(fetcher.Key), options, warn, tools, note);
    }

    private static DicomSource OpenFetched(DicomWebFetcher.Fetched fetched, string server, string hash, MedicalOptions options, Action<string> warn, DicomToolkit? tools, Action<string>? note)
    {
        try
        {
            note?.Invoke(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"fetched {fetched.Instances} instances ({fetched.Bytes / 1e6:F1} MB) from {server} in {fetched.Elapsed.TotalSeconds:F1} s"));
            var source = Open(fetched.Folder, options, warn, tools, hash);
            source._ownedFolder = fetched.Folder;
            return source;
        }
        catch
        {
            PrivateFolder.Delete(fetched.Folder);
            throw;
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _ownedFolder, null) is { } folder) PrivateFolder.Delete(folder);
    }

    /// <summary>--window dicom on slices without a window of their own is a wrong command line: said now, before a
    /// model loads, not at the first frame.</summary>
    private static void RequireOwnWindows(DicomSeries series, IReadOnlyList<WindowChoice> windows)
    {
        if (!windows.Any(w => w.Kind == WindowChoice.File.Kind)) return;
        int without = series.Slices.Count(s => s.WindowCenter is null || s.WindowWidth is not > 0);
        if (without == 0) return;
        throw new DicomException(series.Slices.Count == 1
            ? "--window dicom: the file has no window of its own (WindowCenter/WindowWidth); use a preset, C,W or minmax."
            : $"--window dicom: {without} of the {series.Slices.Count} slices have no window of their own (WindowCenter/WindowWidth); use a preset, C,W or minmax.");
    }

    /// <summary>A file of the source as errors name it: its path inside the series folder (or its file name),
    /// never the folder's, which often carries the patient's name.</summary>
    private static Func<string, string> NamesInside(string path) =>
        Directory.Exists(path) ? file => Path.GetRelativePath(path, file) : Path.GetFileName;

    public DicomSeries Series => _series;
    public string Description { get; }
    public bool IsLive => false;
    public double? FramesPerSecond { get; }
    public long? FrameCount => _series.FrameCount;

    /// <summary>A run folder's source/ extras: values at full depth, maps at frame size, medical.json.</summary>
    public IFrameSink CreateRunSink(string folder)
    {
        _keepValues = true;
        return new DicomRunSink(folder, _series, _values, Description);
    }

    /// <summary>--dicom-out (a folder, or null for a temporary one) and --store-to: each explained frame as a
    /// Secondary Capture in a new series of the source's study, stored when the run ends.</summary>
    public IFrameSink CreateDicomOutSink(string? folder, DicomDerivation derivation, Imaging.ColorMap colors, IDicomStore? store) =>
        new DicomOutSink(_series, folder, derivation, colors, store, _decoder.Tools);

    private void Keep(long index, Mat values)
    {
        if (_keepValues && !values.Empty() && values.Type() == MatType.CV_32FC1) _values[index] = values.Clone();
    }

    /// <summary>The windows in use, in channel order (one, or three for --windows).</summary>
    public string WindowNames => string.Join(",", _windows.Select(w => w.Name));

    public IObservable<VideoFrame> Frames() => CaptureLoop.Run(Description, (observer, cancellation) =>
    {
        double fps = FramesPerSecond ?? 5;
        if (_series.IsCine)
        {
            var frames = _decoder.Decode(_series.First, null, $"{_series.Label}: decoding");
            try
            {
                for (int i = 0; i < frames.Count && !cancellation.IsCancellationRequested; i++)
                {
                    Keep(i, frames[i]);
                    observer.OnNext(Frame(i, fps, frames[i], _series.First));
                }
            }
            finally
            {
                foreach (var f in frames) f.Dispose();
            }
            return;
        }
        for (int i = 0; i < _series.Slices.Count && !cancellation.IsCancellationRequested; i++)
        {
            var slice = _series.Slices[i];
            var values = _decoder.Decode(slice, 0, $"{_series.Label}: slice {i + 1} of {_series.Slices.Count} (file '{_nameOf(slice.File)}')");
            try
            {
                Keep(i, values[0]);
                observer.OnNext(Frame(i, fps, values[0], slice));
            }
            finally
            {
                values[0].Dispose();
            }
        }
    });

    private VideoFrame Frame(long index, double fps, Mat values, DicomHeader header) =>
        new(index, TimeSpan.FromSeconds(index / fps), Render(values, header)) { ModelImage = ModelValues(values, header) };

    /// <summary>With --input-range LO,HI: the values scaled so that LO is 0 and HI is 255 (the preprocessor's 1.0),
    /// as float, unclamped and unrounded, masked like the picture. Null otherwise (the model sees the picture).</summary>
    internal Mat? ModelValues(Mat values, DicomHeader header)
    {
        if (_options.InputRange is not (double low, double high) || header.IsColor) return null;
        using var scaled = new Mat();
        values.ConvertTo(scaled, MatType.CV_32FC1, 255 / (high - low), -255 * low / (high - low));
        var bgr = new Mat();
        Cv2.Merge([scaled, scaled, scaled], bgr);
        BlackOut(bgr);
        return bgr;
    }

    /// <summary>Values to a BGR frame: each window to grey (MONOCHROME1 inverted to display), stacked, masked.</summary>
    internal Mat Render(Mat values, DicomHeader header)
    {
        Mat bgr;
        if (header.IsColor) bgr = values.Clone();
        else
        {
            var greys = _windows.Select(w => Grey(values, w.For(header), header.IsMonochrome1)).ToList();
            bgr = new Mat();
            // Channel order: the model sees RGB = (window 1, window 2, window 3); frames are BGR.
            if (greys.Count == 1) Cv2.CvtColor(greys[0], bgr, ColorConversionCodes.GRAY2BGR);
            else Cv2.Merge([greys[2], greys[1], greys[0]], bgr);
            foreach (var g in greys) g.Dispose();
        }
        BlackOut(bgr);
        return bgr;
    }

    /// <summary>The --mask regions set to zero (the picture and the model's values alike).</summary>
    private void BlackOut(Mat image)
    {
        foreach (var mask in _options.Masks)
        {
            var clipped = mask & new Rect(0, 0, image.Width, image.Height);
            if (clipped.Width <= 0 || clipped.Height <= 0)
                throw new DicomException($"--mask {mask.X},{mask.Y},{mask.Width},{mask.Height} lies outside the {image.Width}x{image.Height} frame.");
            image[clipped].SetTo(Scalar.All(0));
        }
    }

    /// <summary>The DICOM linear VOI function (PS3.3 C.11.2.1.2) to 8 bits; min-max of the frame without a window.</summary>
    internal static Mat Grey(Mat values, DicomWindow? window, bool invert)
    {
        double center, width;
        if (window is null)
        {
            Cv2.MinMaxLoc(values, out double min, out double max);
            center = (min + max) / 2 + 0.5;
            width = Math.Max(2, max - min + 1);
        }
        else (center, width) = (window.Center, Math.Max(2, window.Width));
        double alpha = 255 / (width - 1), beta = 255 * (0.5 - (center - 0.5) / (width - 1));
        var grey = new Mat();
        values.ConvertTo(grey, MatType.CV_8UC1, alpha, beta); // saturates: below the window black, above white
        if (invert) Cv2.BitwiseNot(grey, grey);
        return grey;
    }
}
