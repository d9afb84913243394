using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using SaCam.Core;
using SaCam.Core.Models;

namespace SaCam.Tests;

/// <summary>The real download code against a real HTTP server on 127.0.0.1 (supports Range, counts requests).</summary>
[TestFixture]
public class WeightsDownloaderTests
{
    private static readonly byte[] Payload = RandomNumberGenerator.GetBytes(300_000);
    private static readonly string PayloadSha = Convert.ToHexStringLower(SHA256.HashData(Payload));

    private string _cache = "";

    [SetUp]
    public void NewCache() => _cache = Directory.CreateTempSubdirectory("sacam-cache-").FullName;

    [TearDown]
    public void RemoveCache() => Directory.Delete(_cache, recursive: true);

    [Test]
    public async Task Downloads_checks_the_hash_prefix_in_the_name_and_reports_progress()
    {
        using var server = new LocalFileServer(Payload);
        var url = new Uri($"{server.Prefix}weights-{PayloadSha[..8]}.pth");
        var reports = new List<DownloadProgress>();
        var path = await new WeightsDownloader(_cache).EnsureAsync(url, progress: new Progress(reports.Add));
        Assert.Multiple(() =>
        {
            Assert.That(File.ReadAllBytes(path), Is.EqualTo(Payload));
            Assert.That(Path.GetFileName(path), Is.EqualTo($"weights-{PayloadSha[..8]}.pth"));
            Assert.That(reports[^1].Received, Is.EqualTo(Payload.Length));
            Assert.That(reports[^1].Total, Is.EqualTo(Payload.Length));
            Assert.That(File.Exists(path + ".part"), Is.False);
        });
        // A second call uses the cache: no new request.
        int before = server.Requests.Count;
        await new WeightsDownloader(_cache).EnsureAsync(url);
        Assert.That(server.Requests.Count, Is.EqualTo(before));
    }

    [Test]
    public async Task Resumes_a_partial_download_with_a_range_request()
    {
        using var server = new LocalFileServer(Payload);
        var url = new Uri($"{server.Prefix}resume-{PayloadSha[..8]}.pth");
        var downloader = new WeightsDownloader(_cache);
        File.WriteAllBytes(downloader.PathFor(url) + ".part", Payload[..123_456]);
        var path = await downloader.EnsureAsync(url);
        Assert.Multiple(() =>
        {
            Assert.That(File.ReadAllBytes(path), Is.EqualTo(Payload));
            Assert.That(server.Requests.Single(), Is.EqualTo("bytes=123456-"), "the client asked only for the missing bytes");
            Assert.That(server.BytesSent, Is.EqualTo(Payload.Length - 123_456));
        });
    }

    [Test]
    public void A_wrong_checksum_is_refused_and_nothing_is_kept()
    {
        using var server = new LocalFileServer(Payload);
        var url = new Uri($"{server.Prefix}bad-00000000.pth");
        var e = Assert.ThrowsAsync<ModelLoadException>(() => new WeightsDownloader(_cache).EnsureAsync(url));
        Assert.Multiple(() =>
        {
            Assert.That(e!.Message, Does.Contain("SHA-256 mismatch").And.Contain(PayloadSha));
            Assert.That(Directory.GetFiles(_cache), Is.Empty);
        });
    }

    [Test]
    public void Offline_error_names_the_url_and_where_to_put_the_file()
    {
        int closedPort = LocalFileServer.FreePort();
        var url = new Uri($"http://127.0.0.1:{closedPort}/resnet18-f37072fd.pth");
        var downloader = new WeightsDownloader(_cache);
        var e = Assert.ThrowsAsync<ModelLoadException>(() => downloader.EnsureAsync(url));
        Assert.That(e!.Message, Does.Contain(url.ToString()).And.Contain(downloader.PathFor(url)).And.Contain("by hand"));
    }

    /// <summary>A server that accepts the connection and never answers: given up after the idle timeout (not after
    /// the 30 minutes a fixed total timeout allowed), naming the URL and where the file would go.</summary>
    [Test]
    public void A_silent_server_is_given_up_naming_the_url_and_the_cache()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var accepted = new List<TcpClient>();
        var acceptLoop = Task.Run(async () => { try { while (true) accepted.Add(await silent.AcceptTcpClientAsync()); } catch (Exception) { } });
        var url = new Uri($"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}/resnet18-f37072fd.pth");
        var downloader = new WeightsDownloader(_cache, idleTimeout: TimeSpan.FromSeconds(1));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var e = Assert.ThrowsAsync<ModelLoadException>(() => downloader.EnsureAsync(url));
        clock.Stop();
        silent.Stop();
        accepted.ForEach(c => c.Dispose());
        Assert.Multiple(() =>
        {
            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(60)), "given up after the idle timeout, not waiting for ever");
            Assert.That(e!.Message, Does.Contain(url.ToString()).And.Contain(downloader.PathFor(url)).And.Contain("the server sent nothing for 1 s"));
        });
    }

    /// <summary>A cached file that fails its checksum is not deleted in silence: a notice says what happened, and
    /// the download that replaces it succeeds.</summary>
    [Test]
    public async Task A_corrupt_cached_file_is_reported_and_fetched_again()
    {
        using var server = new LocalFileServer(Payload);
        var url = new Uri($"{server.Prefix}weights-{PayloadSha[..8]}.pth");
        var downloader = new WeightsDownloader(_cache);
        File.WriteAllText(downloader.PathFor(url), "a truncated or replaced file");
        var reports = new List<DownloadProgress>();
        var path = await downloader.EnsureAsync(url, progress: new Progress(reports.Add));
        var notice = reports.Select(r => r.Notice).Single(n => n is not null);
        Assert.Multiple(() =>
        {
            Assert.That(notice, Does.Contain(downloader.PathFor(url)).And.Contain("had SHA-256").And.Contain("was removed").And.Contain("downloading"));
            Assert.That(File.ReadAllBytes(path), Is.EqualTo(Payload));
        });
    }

    private sealed class Progress(Action<DownloadProgress> report) : IProgress<DownloadProgress>
    {
        public void Report(DownloadProgress value) => report(value);
    }

    /// <summary>Serves one payload at any path on 127.0.0.1, honouring "Range: bytes=N-".</summary>
    private sealed class LocalFileServer : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly byte[] _payload;
        private readonly Task _loop;

        public LocalFileServer(byte[] payload)
        {
            _payload = payload;
            Prefix = $"http://127.0.0.1:{FreePort()}/";
            _listener.Prefixes.Add(Prefix);
            _listener.Start();
            _loop = Task.Run(Serve);
        }

        public string Prefix { get; }
        public List<string> Requests { get; } = [];
        public long BytesSent { get; private set; }

        public static int FreePort()
        {
            using var socket = new TcpListener(IPAddress.Loopback, 0);
            socket.Start();
            return ((IPEndPoint)socket.LocalEndpoint).Port;
        }

        private async Task Serve()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try { context = await _listener.GetContextAsync(); }
                catch (Exception) { return; }
                var range = context.Request.Headers["Range"];
                lock (Requests) Requests.Add(range ?? "");
                int start = 0;
                if (range is not null && range.StartsWith("bytes=") && range.EndsWith('-')) start = int.Parse(range[6..^1]);
                context.Response.StatusCode = start > 0 ? 206 : 200;
                context.Response.ContentLength64 = _payload.Length - start;
                await context.Response.OutputStream.WriteAsync(_payload.AsMemory(start));
                BytesSent += _payload.Length - start;
                context.Response.Close();
            }
        }

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();
            try { _loop.Wait(TimeSpan.FromSeconds(2)); } catch (AggregateException) { }
        }
    }
}
