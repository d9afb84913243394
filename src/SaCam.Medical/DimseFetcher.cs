using System.Globalization;
using System.Text.RegularExpressions;

namespace SaCam.Medical;

/// <summary>
/// DIMSE C-GET through DCMTK's getscu, for a PACS without DICOMweb: dimse:AET@HOST:PORT/studies/STUDY_UID/series/SERIES_UID.
/// The series comes into a private temporary folder (files renamed NNNNNN.dcm: getscu names them by SOP Instance UID,
/// an identifier that must not reach a message) and is read exactly as a series folder is. Messages name the PACS by
/// AET@HOST:PORT, never the UIDs.
/// </summary>
public sealed partial class DimseFetcher
{
    public const string Scheme = "dimse:";
    private readonly string _aet, _host, _study, _series;
    private readonly int _port;
    private readonly DicomToolkit _tools;

    public static bool Is(string text) => text.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase);

    public DimseFetcher(string text, DicomToolkit? tools = null)
    {
        var m = Address().Match(Is(text) ? text[Scheme.Length..] : "");
        if (!m.Success || !int.TryParse(m.Groups["port"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out _port) || _port is < 1 or > 65535)
            throw new ArgumentException("a DIMSE source: use dimse:AET@HOST:PORT/studies/STUDY_UID/series/SERIES_UID (UIDs are digits and dots).");
        (_aet, _host, _study, _series) = (m.Groups["aet"].Value, m.Groups["host"].Value, m.Groups["study"].Value, m.Groups["series"].Value);
        _tools = tools ?? new DicomToolkit();
    }

    public string Server => $"{_aet}@{_host}:{_port}";

    /// <summary>A key for the source's salted hash (the address without anything else).</summary>
    public string Key => $"{Scheme}{Server}/studies/{_study}/series/{_series}";

    public DicomWebFetcher.Fetched Fetch()
    {
        string folder = PrivateFolder.Create("sacam-dicomweb-");
        try
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var (exit, output) = _tools.RunCapturing("getscu", DicomToolkit.DcmtkPackage,
                ["-v", "-aet", StoreScuStore.CallingAet, "-aec", _aet, "-to", "30", "-ta", "30", "-td", "60", _host, _port.ToString(CultureInfo.InvariantCulture),
                 "-k", "QueryRetrieveLevel=SERIES", "-k", $"StudyInstanceUID={_study}", "-k", $"SeriesInstanceUID={_series}", "-od", folder]);
            if (FailedStatus().Match(output) is { Success: true } failed)
                throw new PacsException($"PACS {Server} answered the C-GET with status {failed.Groups[1].Value.Trim()}: no such study or series, or it does not serve C-GET to AE title {StoreScuStore.CallingAet}.");
            if (exit != 0)
            {
                string reason = output.Contains("Connection refused", StringComparison.OrdinalIgnoreCase) ? "no PACS answers there (connection refused)"
                    : output.Contains("Rejected", StringComparison.Ordinal) ? "the PACS rejected the association (check its AE title, and that it knows AE title SACAM)"
                    : output.Contains("aborted", StringComparison.OrdinalIgnoreCase) ? $"the PACS aborted the association (does it allow C-GET from AE title {StoreScuStore.CallingAet}?)"
                    : "getscu failed: " + DicomToolkit.Translate(output.Split('\n').FirstOrDefault(l => l.StartsWith("E:", StringComparison.Ordinal) || l.StartsWith("F:", StringComparison.Ordinal)) ?? "no output");
                throw new PacsException($"PACS {Server}: {reason}.");
            }
            var files = Directory.GetFiles(folder).Order(StringComparer.Ordinal).ToList();
            if (files.Count == 0) throw new PacsException($"PACS {Server}: the series is empty or does not exist (C-GET returned no instances).");
            long bytes = 0;
            for (int i = 0; i < files.Count; i++)
            {
                bytes += new FileInfo(files[i]).Length;
                File.Move(files[i], Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $"{i:D6}.dcm")));
            }
            return new DicomWebFetcher.Fetched(folder, files.Count, bytes, clock.Elapsed);
        }
        catch
        {
            PrivateFolder.Delete(folder);
            throw;
        }
    }

    [GeneratedRegex(@"^(?<aet>[^\s\\@/]{1,16})@(?<host>[A-Za-z0-9.\-]+):(?<port>\d{1,5})/studies/(?<study>[0-9.]{1,64})/series/(?<series>[0-9.]{1,64})$")]
    private static partial Regex Address();

    [GeneratedRegex(@"DIMSE status is: (Failed[^\r\n]*)")]
    private static partial Regex FailedStatus();
}
