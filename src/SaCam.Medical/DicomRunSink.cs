using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpenCvSharp;
using SaCam.Imaging;
using SaCam.Video.Pipeline;
using SaCam.Video.Sinks;

namespace SaCam.Medical;

/// <summary>
/// What a medical run keeps for its review page, in the run's source/ folder: each frame's values at full bit depth
/// (values/NNNNNN.png: value + 32768 as 16 bits packed into the red and green bytes of an 8-bit PNG, so a browser
/// reads them back exactly and re-windows in place), each map at frame size (maps/NNNNNN.png, 0..255), and
/// medical.json (label, slice positions in mm, the file's window, the presets). No path and no patient tag.
/// </summary>
internal sealed class DicomRunSink : IFrameSink
{
    private readonly string _folder;
    private readonly DicomSeries _series;
    private readonly ConcurrentDictionary<long, Mat> _values;
    private readonly string _label;
    private readonly List<long> _written = [];

    public DicomRunSink(string folder, DicomSeries series, ConcurrentDictionary<long, Mat> values, string label)
    {
        _folder = folder;
        _series = series;
        _values = values;
        _label = label;
        Directory.CreateDirectory(Path.Combine(folder, "values"));
        Directory.CreateDirectory(Path.Combine(folder, "maps"));
    }

    public void Write(AnnotatedFrame frame)
    {
        long index = frame.Frame.Index;
        // Live mode drops frames before they reach sinks: their values go with the first later frame written.
        foreach (var stale in _values.Keys.Where(k => k < index).ToList())
            if (_values.TryRemove(stale, out var old)) old.Dispose();
        if (!_values.TryRemove(index, out var values)) return;
        using (values)
        {
            using var packed = Pack(values);
            ImageFile.Write(Path.Combine(_folder, "values", $"{index:D6}.png"), packed);
        }
        if (frame.Explanation.Map is { } map)
        {
            using var onFrame = HeatmapOverlay.MapToFrame(map, frame.Explanation.Geometry);
            using var grey = new Mat();
            onFrame.ConvertTo(grey, MatType.CV_8UC1, 255);
            ImageFile.Write(Path.Combine(_folder, "maps", $"{index:D6}.png"), grey);
        }
        _written.Add(index);
    }

    /// <summary>value + 32768 as 16 bits: red = high byte, green = low byte, blue = 0 (a BGR Mat).</summary>
    internal static Mat Pack(Mat values)
    {
        using var u16 = new Mat();
        values.ConvertTo(u16, MatType.CV_16UC1, 1, 32768); // saturates outside the 16-bit range
        // The same bytes seen as two 8-bit channels: little-endian, so channel 0 is the low byte, channel 1 the high.
        using var bytes = Mat.FromPixelData(u16.Rows, u16.Cols, MatType.CV_8UC2, u16.Data);
        var channels = Cv2.Split(bytes);
        using var low = channels[0];
        using var high = channels[1];
        using var zero = new Mat(u16.Size(), MatType.CV_8UC1, Scalar.All(0));
        var packed = new Mat();
        Cv2.Merge([zero, low, high], packed);
        return packed;
    }

    public void Dispose()
    {
        var first = _series.First;
        var positions = _series.PositionsMm;
        var json = new JsonObject
        {
            ["label"] = _label,
            ["modality"] = _series.Modality,
            ["kind"] = _series.IsCine ? "cine" : "series",
            ["frames"] = new JsonArray(_written.Select(i => (JsonNode)new JsonObject
            {
                ["index"] = i,
                ["positionMm"] = positions is not null && i < positions.Count ? Math.Round(positions[(int)i], 3) : null,
            }).ToArray()),
            ["pixelSpacingMm"] = first.PixelSpacing is { } ps ? new JsonArray(ps[0], ps[1]) : null,
            ["fileWindow"] = first.WindowCenter is double c && first.WindowWidth is double w ? new JsonObject { ["center"] = c, ["width"] = w } : null,
            ["presets"] = new JsonObject(DicomWindow.Presets.Values.DistinctBy(p => (p.Center, p.Width))
                .Select(p => KeyValuePair.Create(p.Name, (JsonNode?)new JsonObject { ["center"] = p.Center, ["width"] = p.Width }))),
            ["monochrome1"] = first.IsMonochrome1,
        };
        Core.IO.AtomicFile.WriteAllText(Path.Combine(_folder, "medical.json"), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        foreach (var left in _values.Values) left.Dispose();
        _values.Clear();
    }
}
