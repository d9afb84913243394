using System.Globalization;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;

namespace SaCam.Medical;

/// <summary>--store-to: AET@HOST:PORT (DIMSE C-STORE through DCMTK's storescu) or dicomweb:http://HOST:PORT/ROOT (STOW-RS).</summary>
public static partial class DicomStores
{
    public const string Help = "AET@HOST:PORT (C-STORE) or dicomweb:http://HOST:PORT/ROOT (STOW-RS)";

    public static IDicomStore Parse(string text, DicomToolkit? tools = null)
    {
        if (DicomWebAddress.Is(text)) return new StowRsStore(DicomWebAddress.Parse(text, seriesRequired: false));
        var m = AeAddress().Match(text);
        if (!m.Success || !int.TryParse(m.Groups[3].Value, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
            throw new ArgumentException($"--store-to '{text}': use {Help}; an AE title is 1-16 characters without spaces or backslashes.");
        return new StoreScuStore(m.Groups[1].Value, m.Groups[2].Value, port, tools ?? new DicomToolkit());
    }

    [GeneratedRegex(@"^([^\s\\@]{1,16})@([A-Za-z0-9.\-]+|\[[0-9A-Fa-f:]+\]):(\d{1,5})$")]
    private static partial Regex AeAddress();
}

/// <summary>DIMSE C-STORE through storescu: the association and every store response checked, a refusal named by the
/// server's own words (association rejected, or the status of a store response).</summary>
public sealed partial class StoreScuStore(string calledAet, string host, int port, DicomToolkit tools) : IDicomStore
{
    public const string CallingAet = "SACAM";

    public string Target => $"{calledAet}@{host}:{port}";

    public void Store(IReadOnlyList<string> files)
    {
        var args = new List<string> { "-v", "-aet", CallingAet, "-aec", calledAet, "-to", "30", "-ta", "30", "-td", "60", host, port.ToString(CultureInfo.InvariantCulture) };
        args.AddRange(files);
        var (exit, output) = tools.RunCapturing("storescu", DicomToolkit.DcmtkPackage, args);
        var statuses = StoreResponse().Matches(output).Select(m => m.Groups[1].Value).ToList();
        var refused = statuses.FirstOrDefault(s => !s.StartsWith("Success", StringComparison.Ordinal) && !s.StartsWith("Warning", StringComparison.Ordinal));
        if (refused is not null)
            throw new PacsException($"--store-to {Target}: the PACS refused the store (C-STORE status: {refused}); the local --dicom-out copy, if any, stays.");
        if (exit != 0)
            throw new PacsException($"--store-to {Target}: {Reason(output)}; the local --dicom-out copy, if any, stays.");
        if (statuses.Count != files.Count)
            throw new PacsException($"--store-to {Target}: the PACS confirmed {statuses.Count} of {files.Count} instances.");
    }

    /// <summary>storescu's own error line, without paths: "Association Rejected: ..., Reason: Called AE Title Not Recognized".</summary>
    private static string Reason(string output)
    {
        var lines = output.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        string? rejected = lines.Where(l => l.Contains("Reason:", StringComparison.Ordinal) || l.Contains("Rejected", StringComparison.Ordinal)).Select(l => l.TrimStart('F', 'E', 'I', ':', ' ')).LastOrDefault();
        if (rejected is not null) return $"the PACS rejected the association ({rejected})";
        string? error = lines.FirstOrDefault(l => l.StartsWith("F:", StringComparison.Ordinal) || l.StartsWith("E:", StringComparison.Ordinal));
        if (error is not null && error.Contains("Connection refused", StringComparison.OrdinalIgnoreCase)) return "no PACS answers there (connection refused)";
        return "storescu failed: " + DicomToolkit.Translate(error ?? lines.LastOrDefault() ?? "no output");
    }

    [GeneratedRegex(@"Received Store Response \(([^)]*)\)")]
    private static partial Regex StoreResponse();
}

/// <summary>STOW-RS: one multipart/related POST of all instances to ROOT/studies; a failure names the HTTP status and,
/// when the server lists them, the Failure Reason of the refused instances.</summary>
public sealed class StowRsStore(DicomWebAddress address) : IDicomStore
{
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(5);

    public void Store(IReadOnlyList<string> files)
    {
        using var client = address.Client();
        using var timeout = new CancellationTokenSource(Timeout);
        using var content = new MultipartContent("related", "sacam-" + Guid.NewGuid().ToString("N"));
        content.Headers.ContentType!.Parameters.Add(new NameValueHeaderValue("type", "\"application/dicom\""));
        var streams = new List<Stream>();
        try
        {
            foreach (var file in files)
            {
                var stream = File.OpenRead(file);
                streams.Add(stream);
                var part = new StreamContent(stream);
                part.Headers.ContentType = new MediaTypeHeaderValue("application/dicom");
                content.Add(part);
            }
            using var request = new HttpRequestMessage(HttpMethod.Post, address.StudiesUri) { Content = content };
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/dicom+json"));
            using var response = client.Send(request, timeout.Token);
            string body = response.Content.ReadAsStringAsync(timeout.Token).GetAwaiter().GetResult();
            if (!response.IsSuccessStatusCode)
                throw new PacsException($"--store-to: {address.Explain(response.StatusCode, "storing the series (STOW-RS)")}{FailureReasons(body)} The local --dicom-out copy, if any, stays.");
            if (FailureReasons(body) is { Length: > 0 } reasons)
                throw new PacsException($"--store-to: DICOMweb server {address.Server} refused some instances (STOW-RS).{reasons} The local --dicom-out copy, if any, stays.");
        }
        catch (OperationCanceledException)
        {
            throw new PacsException($"--store-to: DICOMweb server {address.Server} did not answer the store within {Timeout.TotalSeconds:0} s.");
        }
        catch (HttpRequestException e)
        {
            throw new PacsException($"--store-to: {address.Explain(e, "storing the series (STOW-RS)")}");
        }
        finally
        {
            foreach (var s in streams) s.Dispose();
        }
    }

    /// <summary>The Failure Reason (0008,1197) values of a STOW-RS answer's Failed SOP Sequence (0008,1198), as text.</summary>
    internal static string FailureReasons(string json)
    {
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(json);
            if (!doc.RootElement.TryGetProperty("00081198", out var failed) || !failed.TryGetProperty("Value", out var items)) return "";
            var reasons = items.EnumerateArray()
                .Select(i => i.TryGetProperty("00081197", out var r) && r.TryGetProperty("Value", out var v) ? v[0].ToString() : "unknown")
                .Select(r => int.TryParse(r, out int code) ? $"0x{code:X4}" : r).ToList();
            return reasons.Count == 0 ? "" : $" Failure Reason {string.Join(", ", reasons.Distinct())} for {reasons.Count} instance(s).";
        }
        catch (System.Text.Json.JsonException)
        {
            return "";
        }
    }
}
