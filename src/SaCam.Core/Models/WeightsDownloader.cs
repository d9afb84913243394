using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace SaCam.Core.Models;

/// <summary>Bytes received so far and the total when the server said it; or, with <see cref="Notice"/>, something
/// the user should know (a corrupt cached file that was removed).</summary>
public readonly record struct DownloadProgress(long Received, long? Total)
{
    public string? Notice { get; init; }
}

/// <summary>
/// Fetches model weights into a cache folder: resumes a partial download (HTTP Range on a .part file), reports
/// progress, and checks the SHA-256 before the file takes its final name. torchvision names its files
/// NAME-HASH.pth with HASH the first hex digits of the SHA-256 (as torch.hub checks them); a full digest can be given.
/// When the network is not there, the error names the URL and the path where the file may be placed by hand.
/// A server that accepts and then says nothing is given up after <see cref="IdleTimeout"/> without a byte (not
/// after a fixed total: a large file on a slow line may take long, but it keeps moving).
/// </summary>
public sealed partial class WeightsDownloader
{
    private readonly HttpClient _http;

    public WeightsDownloader(string cacheDirectory, HttpClient? http = null, TimeSpan? connectTimeout = null, TimeSpan? idleTimeout = null)
    {
        CacheDirectory = cacheDirectory;
        ConnectTimeout = connectTimeout ?? TimeSpan.FromSeconds(20);
        IdleTimeout = idleTimeout ?? TimeSpan.FromSeconds(30);
        _http = http ?? new HttpClient(new SocketsHttpHandler { ConnectTimeout = ConnectTimeout }) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public string CacheDirectory { get; }

    /// <summary>How long to wait for a TCP connection.</summary>
    public TimeSpan ConnectTimeout { get; }

    /// <summary>How long to wait for the response headers, or for the next bytes of the body, before giving up.</summary>
    public TimeSpan IdleTimeout { get; }


    /// <summary>$SACAM_CACHE, else $XDG_CACHE_HOME/sacam, else ~/.cache/sacam.</summary>
    public static string DefaultCacheDirectory()
    {
        var explicitDir = Environment.GetEnvironmentVariable("SACAM_CACHE");
        if (!string.IsNullOrEmpty(explicitDir)) return explicitDir;
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var root = !string.IsNullOrEmpty(xdg) ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "sacam");
    }

    public string PathFor(Uri url) => Path.Combine(CacheDirectory, Path.GetFileName(url.LocalPath));

    /// <summary>Returns the cached file for <paramref name="url"/>, downloading (or resuming) it first when needed.</summary>
    public async Task<string> EnsureAsync(Uri url, string? expectedSha256 = null, IProgress<DownloadProgress>? progress = null,
        CancellationToken cancellation = default)
    {
        var path = PathFor(url);
        var expected = (expectedSha256 ?? HashPrefixFromName(path))?.ToLowerInvariant();
        string? replaced = null;
        if (File.Exists(path))
        {
            if (expected is null) return path;
            var actual = Sha256Hex(path);
            if (actual.StartsWith(expected, StringComparison.Ordinal)) return path;
            // A corrupt or replaced file: say so, then fetch it again.
            replaced = $"the cached file {path} had SHA-256 {actual[..16]}..., not the expected {expected}..., so it was removed";
            File.Delete(path);
            progress?.Report(new DownloadProgress(0, null) { Notice = $"{replaced}; downloading {url} again." });
        }
        Directory.CreateDirectory(CacheDirectory);
        var part = path + ".part";
        try
        {
            await DownloadAsync(url, part, progress, cancellation);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException && !cancellation.IsCancellationRequested)
        {
            string why = e is OperationCanceledException ? $"the server sent nothing for {IdleTimeout.TotalSeconds:F0} s" : e.Message;
            throw new ModelLoadException(url.ToString(),
                $"the download into {path} failed ({why}){(replaced is not null ? $"; before it, {replaced}" : "")}. " +
                $"If this machine is offline, download {url} by hand and place it at {path}", e);
        }
        if (expected is not null)
        {
            var actual = Sha256Hex(part);
            if (!actual.StartsWith(expected, StringComparison.Ordinal))
            {
                File.Delete(part);
                throw new ModelLoadException(url.ToString(), $"SHA-256 mismatch: expected {expected}..., got {actual}; the partial file was removed");
            }
        }
        File.Move(part, path, overwrite: true);
        return path;
    }

    private async Task DownloadAsync(Uri url, string part, IProgress<DownloadProgress>? progress, CancellationToken cancellation)
    {
        long existing = File.Exists(part) ? new FileInfo(part).Length : 0;
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (existing > 0) request.Headers.Range = new RangeHeaderValue(existing, null);
        // Every wait (for the headers, for each block of the body) gets IdleTimeout: the watchdog is pushed back
        // whenever bytes arrive, so only a stalled server is given up on.
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        idle.CancelAfter(IdleTimeout);
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, idle.Token);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && existing > 0)
            return; // the part file is already complete
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
        bool resumed = response.StatusCode == HttpStatusCode.PartialContent;
        if (!resumed) existing = 0; // the server ignored the range: start over
        long? total = response.Content.Headers.ContentLength is long length ? length + existing : null;
        idle.CancelAfter(IdleTimeout);
        await using var source = await response.Content.ReadAsStreamAsync(idle.Token);
        await using var target = new FileStream(part, resumed ? FileMode.Append : FileMode.Create, FileAccess.Write);
        var buffer = new byte[1 << 16];
        long received = existing;
        progress?.Report(new DownloadProgress(received, total));
        int read;
        while ((read = await source.ReadAsync(buffer, idle.Token)) > 0)
        {
            idle.CancelAfter(IdleTimeout);
            await target.WriteAsync(buffer.AsMemory(0, read), cancellation);
            received += read;
            progress?.Report(new DownloadProgress(received, total));
        }
        if (total is long t && received != t)
            throw new IOException($"the connection closed after {received} of {t} bytes");
    }

    public static string Sha256Hex(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>torchvision's NAME-HASH.ext convention: HASH is a prefix of the SHA-256.</summary>
    public static string? HashPrefixFromName(string path)
    {
        var m = HashInName().Match(Path.GetFileName(path));
        return m.Success ? m.Groups[1].Value : null;
    }

    [GeneratedRegex(@"-([0-9a-f]{8,64})\.[A-Za-z]+$")]
    private static partial Regex HashInName();
}
