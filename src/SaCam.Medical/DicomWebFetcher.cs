using System.Diagnostics;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using SaCam.Core.Models;

namespace SaCam.Medical;

/// <summary>
/// WADO-RS: one series fetched as multipart/related DICOM into a private temporary folder (mode 0700), one file per
/// instance, then read exactly as a series folder is (the same allowlist, the same order, the same decoding). A server
/// that sends nothing for <see cref="IdleTimeout"/> is given up. On any failure the folder is removed before the
/// error is thrown; on success the <see cref="DicomSource"/> that owns it removes it when it is disposed.
/// </summary>
public sealed class DicomWebFetcher(DicomWebAddress address)
{
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>SACAM_DICOMWEB_TIMEOUT_S (seconds without a byte before giving up), else 30 s.</summary>
    public static TimeSpan IdleTimeoutFromEnvironment() =>
        double.TryParse(Environment.GetEnvironmentVariable("SACAM_DICOMWEB_TIMEOUT_S"), System.Globalization.NumberStyles.Float,
            System.Globalization.CultureInfo.InvariantCulture, out double s) && s > 0 && s < 86400 ? TimeSpan.FromSeconds(s) : TimeSpan.FromSeconds(30);

    /// <summary>Instances and bytes received so far.</summary>
    public IProgress<DownloadProgress>? Progress { get; init; }

    public sealed record Fetched(string Folder, int Instances, long Bytes, TimeSpan Elapsed);

    public Fetched Fetch(CancellationToken cancellation = default)
    {
        string folder = PrivateFolder.Create("sacam-dicomweb-");
        try
        {
            return FetchAsync(folder, cancellation).GetAwaiter().GetResult();
        }
        catch
        {
            PrivateFolder.Delete(folder);
            throw;
        }
    }

    private async Task<Fetched> FetchAsync(string folder, CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        using var client = address.Client();
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        idle.CancelAfter(IdleTimeout);
        using var request = new HttpRequestMessage(HttpMethod.Get, address.SeriesUri);
        // transfer-syntax=* asks for the instances as stored: no transcoding on the server, the same bytes as files.
        request.Headers.TryAddWithoutValidation("Accept", "multipart/related; type=\"application/dicom\"; transfer-syntax=*");
        const string doing = "fetching the series";
        int count = 0;
        long bytes = 0;
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, idle.Token);
            if (response.StatusCode == System.Net.HttpStatusCode.NoContent)
                throw new PacsException($"DICOMweb server {address.Server}: the series is empty (HTTP 204, no instances).");
            if (!response.IsSuccessStatusCode) throw new PacsException(address.Explain(response.StatusCode, doing));
            var type = response.Content.Headers.ContentType;
            if (type is null || !type.MediaType!.Equals("multipart/related", StringComparison.OrdinalIgnoreCase))
                throw new PacsException($"DICOMweb server {address.Server} answered with {type?.MediaType ?? "no content type"}, not multipart/related DICOM, while {doing}.");
            string boundary = HeaderUtilities.RemoveQuotes(type.Parameters.FirstOrDefault(p => p.Name.Equals("boundary", StringComparison.OrdinalIgnoreCase))?.Value).ToString();
            if (boundary.Length == 0) throw new PacsException($"DICOMweb server {address.Server} sent multipart/related without a boundary while {doing}.");
            await using var body = await response.Content.ReadAsStreamAsync(idle.Token);
            var reader = new MultipartReader(boundary, body) { BodyLengthLimit = null };
            var buffer = new byte[1 << 16];
            while (await reader.ReadNextSectionAsync(idle.Token) is { } section)
            {
                idle.CancelAfter(IdleTimeout);
                if (section.ContentType is { } partType && !partType.StartsWith("application/dicom", StringComparison.OrdinalIgnoreCase))
                    throw new PacsException($"DICOMweb server {address.Server} sent a part of type {partType}, not application/dicom, while {doing}.");
                string file = Path.Combine(folder, $"{count:D6}.dcm");
                await using (var output = new FileStream(file, FileMode.CreateNew, FileAccess.Write))
                {
                    int read;
                    while ((read = await section.Body.ReadAsync(buffer, idle.Token)) > 0)
                    {
                        idle.CancelAfter(IdleTimeout); // a server that keeps sending is not stalled, however long the series
                        await output.WriteAsync(buffer.AsMemory(0, read), idle.Token);
                        bytes += read;
                    }
                }
                count++;
                Progress?.Report(new DownloadProgress(bytes, null));
            }
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            throw new PacsException($"DICOMweb server {address.Server} sent nothing for {IdleTimeout.TotalSeconds:0} s while {doing} ({count} instances received): given up.");
        }
        catch (HttpRequestException e)
        {
            throw new PacsException(address.Explain(e, doing));
        }
        catch (IOException e) when (e is not PacsException)
        {
            throw new PacsException($"DICOMweb server {address.Server}: the answer broke off while {doing} ({count} instances received; {e.Message}).");
        }
        if (count == 0) throw new PacsException($"DICOMweb server {address.Server}: the series is empty (no instances).");
        Progress?.Report(new DownloadProgress(bytes, bytes)); // complete: a progress line ends here
        return new Fetched(folder, count, bytes, clock.Elapsed);
    }
}
