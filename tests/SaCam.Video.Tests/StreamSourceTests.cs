using System.Net;
using System.Net.Sockets;
using System.Reactive.Linq;
using SaCam.TestSupport;
using SaCam.Video.Sources;

namespace SaCam.Tests;

/// <summary>
/// Network streams, against a real HTTP server on 127.0.0.1 that serves the project's own clip. OpenCvSharp4's
/// official Linux runtime cannot open any URL (its FFmpeg has no network protocols), so on Linux these run through
/// the ffmpeg program, which .ci/run installs.
/// </summary>
[TestFixture]
public class StreamSourceTests : TempFolderTest
{
    private static readonly string Clip = Path.Combine(SharedData.RepoRoot, "media", "street_clip.mp4");

    private static FfmpegTools Tools()
    {
        var tools = FfmpegTools.FromPath();
        if (tools is null) Requirement.Missing("ffmpeg and ffprobe", "install them with: apt-get install ffmpeg");
        return tools!;
    }

    private static int ClipFrames() => VideoFiles.CountDecodedFrames(Clip);

    private static (int Width, int Height) ClipSize()
    {
        using var capture = new OpenCvSharp.VideoCapture(Clip);
        return (capture.FrameWidth, capture.FrameHeight);
    }

    [Test]
    public void A_stream_is_read_whole_reopened_when_it_ends_and_fails_by_name_once_the_server_is_gone()
    {
        using var server = new ClipServer(Clip, sessions: 3); // the probe, the first play, the play after a reconnect
        var source = FfmpegStreamSource.Open(server.Url, Tools(), reconnectAttempts: 2);
        var frames = new List<(long Index, TimeSpan Time, int Width, int Height)>();
        Exception? error = null;
        try
        {
            foreach (var frame in source.Frames().ToEnumerable())
                using (frame) frames.Add((frame.Index, frame.Timestamp, frame.Image.Width, frame.Image.Height));
        }
        catch (FrameSourceException e) { error = e; }

        int n = ClipFrames();
        var (width, height) = ClipSize();
        Assert.Multiple(() =>
        {
            Assert.That(frames, Has.Count.EqualTo(2 * n), "the whole clip, then all of it again after the reconnect");
            Assert.That(frames.Select(f => f.Index), Is.EqualTo(Enumerable.Range(0, 2 * n).Select(i => (long)i)), "indices run on across the reconnect");
            Assert.That(frames.Zip(frames.Skip(1)).All(p => p.Second.Time >= p.First.Time), "timestamps never go back");
            Assert.That(frames.All(f => f.Width == width && f.Height == height), "frames have the clip's size");
            Assert.That(error, Is.Not.Null, "a stream that stays gone ends with an error");
            Assert.That(error!.Message, Does.Contain(server.Url).And.Contain("2 reconnects").And.Contain("404"));
            Assert.That(server.Refused, Is.EqualTo(2), "each of the two reconnects after the second play asked the server once");
        });
    }

    [Test]
    public void A_stream_url_opens_through_whatever_can_read_it_here()
    {
        Tools(); // on Linux the URL needs the ffmpeg program
        using var server = new ClipServer(Clip, sessions: 10);
        var source = FrameSources.Open(server.Url);
        var first = source.Frames().Take(3).ToEnumerable().ToList();
        try
        {
            Assert.Multiple(() =>
            {
                Assert.That(source.IsLive, Is.True);
                Assert.That(source.Description, Does.Contain(server.Url));
                Assert.That(first.Select(f => f.Index), Is.EqualTo(new long[] { 0, 1, 2 }));
                Assert.That(first[0].Image.Width, Is.EqualTo(ClipSize().Width));
                Assert.That(first[0].Image.Mean().Val0, Is.GreaterThan(5), "real pixels, not an empty frame");
            });
        }
        finally { first.ForEach(f => f.Dispose()); }
    }

    [Test]
    public void Without_a_way_to_read_a_url_the_error_names_it_and_the_fix()
    {
        using var server = new ClipServer(Clip, sessions: 10);
        using (var probe = new OpenCvSharp.VideoCapture(server.Url, OpenCvSharp.VideoCaptureAPIs.FFMPEG))
        {
            if (probe.IsOpened())
            {
                // A runtime with network protocols (Windows, a later Linux runtime) reads it itself.
                Assert.That(FrameSources.OpenStream(server.Url, tools: null), Is.InstanceOf<VideoCaptureSource>());
                return;
            }
        }
        var e = Assert.Throws<FrameSourceException>(() => FrameSources.OpenStream(server.Url, tools: null))!;
        Assert.That(e.Message, Does.Contain(server.Url).And.Contain("without network protocols").And.Contain("apt-get install ffmpeg"));
    }

    [Test]
    public void An_unreachable_stream_fails_when_opened_naming_the_url()
    {
        var tools = Tools();
        var url = $"http://127.0.0.1:{ClipServer.FreePort()}/nothing.mp4";
        var e = Assert.Throws<FrameSourceException>(() => FfmpegStreamSource.Open(url, tools))!;
        Assert.That(e.Message, Does.Contain(url).And.Contain("ffprobe found no video"));
    }

    [Test]
    public void The_video_command_annotates_a_stream()
    {
        Tools();
        using var server = new ClipServer(Clip, sessions: 10);
        string video = Path.Combine(Dir, "out.mp4");
        var (exit, stdout, stderr) = SacamInProcess.Run("video", server.Url, "--method", "gradcam", "--mode", "exact", "--max-frames", "6", "--out", video);
        Assert.That(exit, Is.EqualTo(0), stderr);
        Assert.Multiple(() =>
        {
            Assert.That(stdout, Does.Contain("6 frames written"));
            Assert.That(VideoFiles.CountDecodedFrames(video), Is.EqualTo(6));
        });
    }

    /// <summary>
    /// Serves one file over HTTP with byte ranges (an MP4 whose index sits at the end needs them). A session is a
    /// request from the start of the file (each ffprobe or ffmpeg run makes one); after <c>sessions</c> of them
    /// every request gets 404, as from a server that went away.
    /// </summary>
    private sealed class ClipServer : IDisposable
    {
        private readonly byte[] _content;
        private readonly HttpListener _listener = new();
        private readonly int _sessions;
        private int _started;
        private int _refused;

        public ClipServer(string path, int sessions)
        {
            _content = File.ReadAllBytes(path);
            _sessions = sessions;
            int port = FreePort();
            Url = $"http://127.0.0.1:{port}/clip.mp4";
            _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            _listener.Start();
            _ = Task.Run(Serve);
        }

        public string Url { get; }
        public int Refused => Volatile.Read(ref _refused);

        public static int FreePort()
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            int port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            return port;
        }

        private async Task Serve()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try { context = await _listener.GetContextAsync(); }
                catch (Exception) { return; }
                try { Answer(context); }
                catch (HttpListenerException) { } // the client hung up mid-answer (ffmpeg seeks by dropping connections)
                catch (ObjectDisposedException) { }
                catch (InvalidOperationException) { }
            }
        }

        private void Answer(HttpListenerContext context)
        {
            var response = context.Response;
            var (start, end) = Range(context.Request.Headers["Range"]);
            if (start == 0 && Interlocked.Increment(ref _started) > _sessions)
            {
                Interlocked.Increment(ref _refused);
                response.StatusCode = 404;
                response.Close();
                return;
            }
            if (start == 0 && end == _content.Length - 1 && context.Request.Headers["Range"] is null)
                response.StatusCode = 200;
            else
            {
                response.StatusCode = 206;
                response.AddHeader("Content-Range", $"bytes {start}-{end}/{_content.Length}");
            }
            response.AddHeader("Accept-Ranges", "bytes");
            response.ContentType = "video/mp4";
            response.ContentLength64 = end - start + 1;
            response.OutputStream.Write(_content, (int)start, (int)(end - start + 1));
            response.Close();
        }

        private (long Start, long End) Range(string? header)
        {
            long last = _content.Length - 1;
            if (header is null || !header.StartsWith("bytes=", StringComparison.Ordinal)) return (0, last);
            var parts = header["bytes=".Length..].Split('-');
            long start = long.TryParse(parts[0], out var s) ? s : 0;
            long end = parts.Length > 1 && long.TryParse(parts[1], out var e) ? Math.Min(e, last) : last;
            return (Math.Min(start, last), end);
        }

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();
        }
    }
}
