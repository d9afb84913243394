using System.Globalization;
using System.Text.RegularExpressions;

namespace SaCam.Medical;

/// <summary>
/// The tags this project reads, and only these: geometry, size, encoding, frames, window, rescale, modality and the
/// burned-in-annotation flag. No patient, study, date or institution tag is ever read, so none can leak, and no free
/// text either (a series description is typed by a person and often names the patient). The UIDs read (series,
/// instance, SOP class) group and de-duplicate slices in memory and are never written anywhere, except into the
/// DICOM a run writes back with --dicom-out, which must reference its source instances.
/// </summary>
public sealed record DicomHeader
{
    public static readonly IReadOnlyList<string> AllowedTags =
    [
        "0002,0010", // TransferSyntaxUID
        "0008,0016", // SOPClassUID (memory only)
        "0008,0018", // SOPInstanceUID (memory only)
        "0008,0060", // Modality
        "0018,0040", // CineRate
        "0018,1063", // FrameTime
        "0020,000e", // SeriesInstanceUID (memory only)
        "0020,0011", // SeriesNumber
        "0020,0013", // InstanceNumber
        "0020,0032", // ImagePositionPatient
        "0020,0037", // ImageOrientationPatient
        "0028,0002", // SamplesPerPixel
        "0028,0004", // PhotometricInterpretation
        "0028,0008", // NumberOfFrames
        "0028,0010", // Rows
        "0028,0011", // Columns
        "0028,0030", // PixelSpacing
        "0028,0301", // BurnedInAnnotation
        "0028,1050", // WindowCenter
        "0028,1051", // WindowWidth
        "0028,1052", // RescaleIntercept
        "0028,1053", // RescaleSlope
        "7fe0,0010", // PixelData (only whether it is there)
    ];

    public required string File { get; init; }
    public string TransferSyntax { get; init; } = "";
    public string InstanceUid { get; init; } = "";
    public string SopClassUid { get; init; } = "";
    public string Modality { get; init; } = "";
    public string SeriesUid { get; init; } = "";
    public int? SeriesNumber { get; init; }
    public int? InstanceNumber { get; init; }
    public double[]? Position { get; init; }
    public double[]? Orientation { get; init; }
    public int SamplesPerPixel { get; init; } = 1;
    public string Photometric { get; init; } = "MONOCHROME2";
    public int Frames { get; init; } = 1;
    public int Rows { get; init; }
    public int Columns { get; init; }
    public double[]? PixelSpacing { get; init; }
    public bool BurnedInAnnotation { get; init; }
    public double? WindowCenter { get; init; }
    public double? WindowWidth { get; init; }
    public double RescaleIntercept { get; init; }
    public double RescaleSlope { get; init; } = 1;
    public double? FrameTimeMs { get; init; }
    public double? CineRate { get; init; }
    public bool HasPixels { get; init; }

    public bool IsColor => SamplesPerPixel == 3;
    public bool IsMonochrome1 => Photometric == "MONOCHROME1";

    /// <summary>The slice normal (row direction x column direction), when the orientation is known.</summary>
    public double[]? Normal => Orientation is { Length: 6 } o
        ? [o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3]]
        : null;

    /// <summary>Frames per second of a cine: 1000 / FrameTime, else CineRate.</summary>
    public double? FramesPerSecond => FrameTimeMs is > 0 ? 1000 / FrameTimeMs : CineRate is > 0 ? CineRate : null;

    private static readonly Regex Line = new(@"^\s*\(([0-9a-fA-F]{4}),([0-9a-fA-F]{4})\)\s+(\w\w)\s+(.*?)\s+#", RegexOptions.Compiled);

    /// <summary>Reads the allowlisted tags of dcmdump's output for one file (its first occurrence of each).</summary>
    public static DicomHeader Parse(string file, IEnumerable<string> dumpLines)
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in dumpLines)
        {
            var m = Line.Match(line);
            if (!m.Success) continue;
            string tag = $"{m.Groups[1].Value},{m.Groups[2].Value}".ToLowerInvariant();
            string raw = m.Groups[4].Value.Trim();
            if (raw.StartsWith('[') && raw.EndsWith(']')) raw = raw[1..^1];
            if (raw.StartsWith('=')) raw = raw[1..];
            values.TryAdd(tag, raw);
        }
        string S(string tag) => values.TryGetValue(tag, out var v) && v != "(no value available)" ? v.Trim() : "";
        double? D(string tag) => Numbers(S(tag)) is { Length: > 0 } n ? n[0] : null;
        int? I(string tag) => D(tag) is double d ? (int)d : null;
        return new DicomHeader
        {
            File = file,
            TransferSyntax = S("0002,0010"),
            InstanceUid = S("0008,0018"),
            SopClassUid = S("0008,0016"),
            Modality = S("0008,0060").ToUpperInvariant(),
            SeriesUid = S("0020,000e"),
            SeriesNumber = I("0020,0011"),
            InstanceNumber = I("0020,0013"),
            Position = Numbers(S("0020,0032")) is { Length: 3 } p ? p : null,
            Orientation = Numbers(S("0020,0037")) is { Length: 6 } o ? o : null,
            SamplesPerPixel = I("0028,0002") ?? 1,
            Photometric = S("0028,0004") is { Length: > 0 } ph ? ph.ToUpperInvariant() : "MONOCHROME2",
            Frames = Math.Max(1, I("0028,0008") ?? 1),
            Rows = I("0028,0010") ?? 0,
            Columns = I("0028,0011") ?? 0,
            PixelSpacing = Numbers(S("0028,0030")) is { Length: 2 } ps ? ps : null,
            BurnedInAnnotation = S("0028,0301").Equals("YES", StringComparison.OrdinalIgnoreCase),
            WindowCenter = D("0028,1050"),
            WindowWidth = D("0028,1051"),
            RescaleIntercept = D("0028,1052") ?? 0,
            RescaleSlope = D("0028,1053") is double s && s != 0 ? s : 1,
            FrameTimeMs = D("0018,1063"),
            CineRate = D("0018,0040"),
            HasPixels = values.ContainsKey("7fe0,0010"),
        };
    }

    private static double[] Numbers(string text) =>
        text.Split('\\', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(t => double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : double.NaN)
            .Where(v => !double.IsNaN(v)).ToArray();
}

/// <summary>Reads the allowlisted tags of many files in one dcmdump process (a process per file costs ~20 ms).</summary>
public sealed class DicomHeaderReader(DicomToolkit tools)
{
    private const int FilesPerCall = 200;

    /// <param name="nameOf">How a file is named in an error: its name inside the series folder, never the folder
    /// (folder names often carry the patient's).</param>
    public IReadOnlyList<DicomHeader> Read(IReadOnlyList<string> files, Func<string, string>? nameOf = null)
    {
        var headers = new List<DicomHeader>(files.Count);
        for (int start = 0; start < files.Count; start += FilesPerCall)
        {
            var chunk = files.Skip(start).Take(FilesPerCall).ToList();
            string output;
            try
            {
                output = Dump(chunk, "reading the DICOM headers");
            }
            catch (DicomException) when (chunk.Count > 1)
            {
                // One bad file fails the whole call: find it, so that the message names the file to remove or fix.
                for (int i = 0; i < chunk.Count; i++)
                    Dump([chunk[i]], $"reading the DICOM header of file '{(nameOf ?? Path.GetFileName)(chunk[i])}' ({start + i + 1} of {files.Count})");
                throw;
            }
            headers.AddRange(Split(output, chunk));
        }
        return headers;
    }

    private string Dump(IReadOnlyList<string> files, string what)
    {
        var args = new List<string> { "-ll", "error", "-Un", "+F" };
        foreach (var tag in DicomHeader.AllowedTags) { args.Add("+P"); args.Add(tag); }
        args.AddRange(files);
        return tools.Run("dcmdump", DicomToolkit.DcmtkPackage, args, what);
    }

    /// <summary>dcmdump prints "# dcmdump (k/n): FILE" before each file's lines; a file it could not read has none.</summary>
    private static IEnumerable<DicomHeader> Split(string output, IReadOnlyList<string> files)
    {
        var lines = output.Split('\n');
        var blocks = new List<List<string>>();
        foreach (var line in lines)
        {
            if (line.StartsWith("# dcmdump (", StringComparison.Ordinal)) blocks.Add([]);
            else if (blocks.Count > 0) blocks[^1].Add(line);
        }
        if (files.Count == 1 && blocks.Count == 0) blocks.Add([.. lines]);
        for (int i = 0; i < files.Count; i++)
            yield return DicomHeader.Parse(files[i], i < blocks.Count ? blocks[i] : []);
    }
}
