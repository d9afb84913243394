using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace SaCam.Core.Models;

/// <summary>Bytes received so far and the total when the server said it.</summary>
public readonly record struct DownloadProgress(long Received, long? Total);

/// <summary>
/// Fetches model weights into a cache folder: resumes a partial download (HTTP Range on a .part file), reports
/// progress, and checks the SHA-256 before the file takes its final name. torchvision names its files
/// NAME-HASH.pth with HASH the first hex digits of the SHA-256 (as torch.hub checks them); a full digest can be given.
/// When the network is not there, the error names the URL and the path where the file may be placed by hand.
/// </summary>
public sealed partial class WeightsDownloader
{
    private readonly HttpClient _http;

    public WeightsDownloader(string cacheDirectory, HttpClient? http = null)
    {
        CacheDirectory = cacheDirectory;
        _http = http ?? new HttpClient { Timeout = TimeSpan.FromMinutes(30) };
    }

    public string CacheDirectory { get; }

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
        if (File.Exists(path))
        {
            if (expected is null || Sha256Hex(path).StartsWith(expected, StringComparison.Ordinal)) return path;
            File.Delete(path); // a corrupt or replaced file: fetch it again
        }
        Directory.CreateDirectory(CacheDirectory);
        var part = path + ".part";
        try
        {
            await DownloadAsync(url, part, progress, cancellation);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException && !cancellation.IsCancellationRequested)
        {
            throw new ModelLoadException(url.ToString(),
                $"the download failed ({e.Message}). If this machine is offline, download {url} by hand and place it at {path}", e);
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
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellation);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && existing > 0)
            return; // the part file is already complete
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
        bool resumed = response.StatusCode == HttpStatusCode.PartialContent;
        if (!resumed) existing = 0; // the server ignored the range: start over
        long? total = response.Content.Headers.ContentLength is long length ? length + existing : null;
        await using var source = await response.Content.ReadAsStreamAsync(cancellation);
        await using var target = new FileStream(part, resumed ? FileMode.Append : FileMode.Create, FileAccess.Write);
        var buffer = new byte[1 << 16];
        long received = existing;
        progress?.Report(new DownloadProgress(received, total));
        int read;
        while ((read = await source.ReadAsync(buffer, cancellation)) > 0)
        {
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
