using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using OpenCvSharp;
using SaCam.Client;
using SaCam.TestSupport;

namespace SaCam.Tests;

/// <summary>
/// `sacam serve` and SaCam.Client, each case against a real server child process (the `sacam` the solution builds):
/// frames round-trip the right way up over both transports, a missing server, a slow load, a killed server, a hung
/// one, a killed client, another protocol version, a resolution change, a tiny shared-memory folder and a wrong token.
/// The model is the embedded default with the exemplar target of the project's own clip, so every case runs on a
/// fresh clone and the map has a known place to land: the car the generator drew. Clients that break the protocol,
/// methods that throw and the shared files' lifetimes are in ServeFuzzTests and ServeRobustnessTests.
/// </summary>
[TestFixture]
[NonParallelizable]
public class ServeTests : TempFolderTest
{

    internal static string[] CarServerArguments(string method = "gradcam") =>
        ["--model", "default", "--method", method, "--target", "exemplar:" + Path.Combine(SharedData.RepoRoot, "media", "street_car.png")];

    private static readonly Lazy<List<byte[]>> ClipFrames = new(() => DecodeClip(12));

    /// <summary>The first frames of media/street_clip.mp4 as RGBA rows, top row first.</summary>
    private static List<byte[]> DecodeClip(int count)
    {
        using var capture = new VideoCapture(Path.Combine(SharedData.RepoRoot, "media", "street_clip.mp4"));
        var frames = new List<byte[]>();
        using var bgr = new Mat();
        using var rgba = new Mat();
        while (frames.Count < count && capture.Read(bgr) && !bgr.Empty())
        {
            Cv2.CvtColor(bgr, rgba, ColorConversionCodes.BGR2RGBA);
            var bytes = new byte[rgba.Total() * 4];
            System.Runtime.InteropServices.Marshal.Copy(rgba.Data, bytes, 0, bytes.Length);
            frames.Add(bytes);
        }
        return frames;
    }

    private const int ClipWidth = 640, ClipHeight = 360;

    private static byte[] RowsReversed(byte[] rgba, int width, int height)
    {
        var flipped = new byte[rgba.Length];
        int row = width * 4;
        for (int y = 0; y < height; y++) Buffer.BlockCopy(rgba, y * row, flipped, (height - 1 - y) * row, row);
        return flipped;
    }

    private SaCamClient NewClient(Action<SaCamClientOptions>? configure = null, params string[] serverArguments)
    {
        var options = new SaCamClientOptions
        {
            ServerPath = SacamBuild.Executable,
            ServerArguments = serverArguments.Length > 0 ? serverArguments : CarServerArguments(),
            MaxWidth = ClipWidth, MaxHeight = ClipHeight, IdleExitSeconds = 20,
            HeartbeatTimeout = TimeSpan.FromSeconds(2), StartTimeout = TimeSpan.FromSeconds(90),
        };
        configure?.Invoke(options);
        if (!File.Exists(SacamBuild.Executable)) Assert.Fail($"{SacamBuild.Executable} is missing: build the solution.");
        return new SaCamClient(options);
    }

    private static void WaitFor(Func<bool> condition, TimeSpan timeout, Func<string> what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout) Assert.Fail($"waited {timeout.TotalSeconds:F0} s for {what()}");
            Thread.Sleep(10);
        }
    }

    /// <summary>Submits one frame at a time (retrying while the client refuses) and waits for its own result.</summary>
    private static SaCamResult Explain(SaCamClient client, byte[] rgba, int width, int height, FrameFlags flags = FrameFlags.None)
    {
        var result = new SaCamResult();
        WaitFor(() => client.TrySubmit(rgba, width, height, flags), TimeSpan.FromSeconds(90), () => $"the client to take a frame (state {client.State}: {client.LastError})");
        long id = client.Stats.Submitted;
        WaitFor(() => client.TryGetLatest(result) && result.FrameId >= id, TimeSpan.FromSeconds(30), () => $"the result of frame {id} (state {client.State}: {client.LastError})");
        return result;
    }

    /// <summary>Frames of the clip, as the engine sends them, whose map peaks on the car.</summary>
    private static int OnTheCar(SaCamClient client, bool rowsBottomUp, bool sayBottomUp)
    {
        var boxes = ProjectMedia.CarBoxes();
        int hits = 0;
        var frames = ClipFrames.Value;
        for (int i = 0; i < frames.Count; i += 2)
        {
            var rgba = rowsBottomUp ? RowsReversed(frames[i], ClipWidth, ClipHeight) : frames[i];
            var result = Explain(client, rgba, ClipWidth, ClipHeight, sayBottomUp ? FrameFlags.BottomUp : FrameFlags.None);
            Assert.That(result.Status, Is.EqualTo(0), result.Error);
            Assert.That((result.FrameWidth, result.FrameHeight), Is.EqualTo((ClipWidth, ClipHeight)));
            Assert.That(result.TryGetPeak(out float px, out float py), Is.True, "the result carries a map");
            var (x, y, w, h) = boxes[i];
            float fx = px * ClipWidth, fy = py * ClipHeight;
            if (fx >= x && fx <= x + w && fy >= y && fy <= y + h) hits++;
        }
        return hits;
    }

    [TestCase(Transport.SharedMemory)]
    [TestCase(Transport.Tcp)]
    public void Frames_round_trip_the_right_way_up(Transport transport)
    {
        using var client = NewClient(o => o.Transport = transport);
        client.Start();
        int sent = (ClipFrames.Value.Count + 1) / 2;
        Assert.Multiple(() =>
        {
            Assert.That(OnTheCar(client, rowsBottomUp: false, sayBottomUp: false), Is.GreaterThanOrEqualTo(sent * 4 / 5), "top row first: the peak on the car");
            Assert.That(OnTheCar(client, rowsBottomUp: true, sayBottomUp: true), Is.GreaterThanOrEqualTo(sent * 4 / 5), "rows bottom first, said so (a Unity texture): the server flips");
            // The control: the same rows without the flag put the car upside down, and the peak leaves the box.
            Assert.That(OnTheCar(client, rowsBottomUp: true, sayBottomUp: false), Is.LessThan(sent / 2), "rows bottom first, not said: the check can fail");
        });
        Assert.That(client.State, Is.EqualTo(ClientState.Ready));
    }

    [Test]
    public void A_missing_server_fails_at_once_naming_the_path_and_the_frame_loop_goes_on()
    {
        string missing = Path.Combine(Dir, "no-such-sacam");
        using var client = NewClient(o => o.ServerPath = missing);
        client.Start();
        WaitFor(() => client.State == ClientState.Failed, TimeSpan.FromSeconds(5), () => $"Failed (state {client.State})");
        Assert.That(client.LastError, Does.Contain(missing).And.Contain("does not exist"));
        var frame = ClipFrames.Value[0];
        var clock = Stopwatch.StartNew();
        Assert.That(client.TrySubmit(frame, ClipWidth, ClipHeight), Is.False);
        Assert.That(client.TryGetLatest(new SaCamResult()), Is.False);
        // Generous on purpose (a busy machine can stall any thread): a call that waited would wait for a server that
        // never comes, far longer than this.
        Assert.That(clock.Elapsed.TotalSeconds, Is.LessThan(2), "no call of the frame loop waits");
    }

    /// <summary>The server gives its ready line once the model is loaded (ServeRobustnessTests shows Loading to a
    /// client on a fixed port meanwhile): a client that started it waits in Starting, taking no frames.</summary>
    [Test]
    public void A_slow_load_takes_no_frames_until_ready()
    {
        using var client = NewClient(null, [.. CarServerArguments(), "--debug-load-delay-ms", "2500"]);
        client.Start();
        Assert.That(client.State, Is.AnyOf(ClientState.Starting, ClientState.Loading));
        Assert.That(client.TrySubmit(ClipFrames.Value[0], ClipWidth, ClipHeight), Is.False, "no frame is sent while the model loads");
        Assert.That(client.Stats.Submitted, Is.Zero);
        WaitFor(() => client.State == ClientState.Ready, TimeSpan.FromSeconds(60), () => $"Ready (state {client.State}: {client.LastError})");
        Assert.That(Explain(client, ClipFrames.Value[0], ClipWidth, ClipHeight).Status, Is.Zero);
    }

    [Test]
    public void A_killed_server_leaves_the_last_result_stale_and_a_new_one_takes_over()
    {
        using var client = NewClient();
        client.Start();
        var frames = ClipFrames.Value;
        var result = Explain(client, frames[0], ClipWidth, ClipHeight);
        long firstGeneration = result.Generation;
        int firstServer = client.ServerProcessId;
        Assert.That(firstServer, Is.GreaterThan(0));

        Process.GetProcessById(firstServer).Kill(); // SIGKILL: no goodbye, the shared file left behind
        var loop = new List<double>();
        var clock = Stopwatch.StartNew();
        bool sawStale = false;
        // The frame loop keeps calling at 120 Hz through the loss and the restart.
        while (clock.Elapsed < TimeSpan.FromSeconds(90))
        {
            var call = Stopwatch.StartNew();
            client.TrySubmit(frames[1], ClipWidth, ClipHeight);
            bool got = client.TryGetLatest(result);
            loop.Add(call.Elapsed.TotalMilliseconds);
            sawStale |= result.Stale;
            if (got && result.Generation != firstGeneration) break;
            Thread.Sleep(8);
        }
        Assert.Multiple(() =>
        {
            Assert.That(sawStale, Is.True, "the last result was marked stale while the server was gone");
            Assert.That(result.Generation, Is.Not.EqualTo(firstGeneration), "results come from a new session");
            Assert.That(client.ServerProcessId, Is.Not.EqualTo(firstServer), "the client started a new server");
            Assert.That(client.Stats.Reconnects, Is.GreaterThanOrEqualTo(1));
            // A call that waited would wait for the new server to load (seconds); a busy machine can stall any call
            // for tens of milliseconds (21.8 ms seen), so the bound is the 1 s the other never-waits tests use.
            Assert.That(loop.Max(), Is.LessThan(1000), "the frame loop never waited for the restart");
        });
    }

    [Test]
    public void A_hung_server_is_noticed_by_its_heartbeat()
    {
        using var client = NewClient(o => o.HeartbeatTimeout = TimeSpan.FromSeconds(1));
        client.Start();
        Explain(client, ClipFrames.Value[0], ClipWidth, ClipHeight);
        int server = client.ServerProcessId;
        Signal(server, "STOP");
        try
        {
            // The server is stopped, not gone: only the missed heartbeat can tell (the socket stays open).
            WaitFor(() => client.State != ClientState.Ready, TimeSpan.FromSeconds(60), () => "the client to notice the stopped server");
            Assert.That(client.LastError, Does.Contain("heartbeat"));
        }
        finally
        {
            Signal(server, "CONT");
        }
    }

    private static void Signal(int pid, string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, pid.ToString()])!;
        kill.WaitForExit();
    }

    [Test]
    public void A_killed_client_takes_its_server_and_shared_file_with_it()
    {
        string harness = Path.Combine(SharedData.RepoRoot, "samples", "EngineClient", "bin", SharedData.BuildConfiguration, "net10.0", "linux-x64", "EngineClient");
        if (!File.Exists(harness)) Assert.Fail($"{harness} is missing: build the solution.");
        string shm = Path.Combine(Dir, "shm");
        Directory.CreateDirectory(shm);
        string jsonl = Path.Combine(Dir, "results.jsonl");
        var start = new ProcessStartInfo(harness) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "--server", SacamBuild.Executable, "--model", "default", "--method", "gradcam", "--source",
                     Path.Combine(SharedData.RepoRoot, "media", "street_clip.mp4"), "--frames", "100000", "--max-seconds", "120", "--jsonl", jsonl,
                     "--shm-dir", shm })
            start.ArgumentList.Add(a);
        using var engine = Process.Start(start)!;
        try
        {
            WaitFor(() => File.Exists(jsonl) && new FileInfo(jsonl).Length > 0, TimeSpan.FromSeconds(90), () => "the harness's first result");
            var files = Directory.GetFiles(shm, "sacam-*.shm");
            Assert.That(files, Has.Length.EqualTo(1), "one shared file for the session");
            int serverPid = int.Parse(Path.GetFileName(files[0]).Split('-')[1]);
            Assert.That(SaCam.Serve.SharedFile.ProcessAlive(serverPid), Is.True);

            engine.Kill(); // SIGKILL: the engine crashed
            WaitFor(() => !SaCam.Serve.SharedFile.ProcessAlive(serverPid), TimeSpan.FromSeconds(5), () => $"server {serverPid} to exit");
            Assert.That(Directory.GetFiles(shm, "sacam-*.shm"), Is.Empty, "the shared file went with the server");
        }
        finally
        {
            if (!engine.HasExited) engine.Kill(entireProcessTree: true);
        }
    }

    /// <summary>Starts `sacam serve` by hand (as a user attaching to it would) and returns it with its port and token.</summary>
    private static (CliProcess Server, int Port, string Token) StartServer(params string[] extra)
    {
        var server = CliProcess.Start(["serve", .. CarServerArguments(), "--idle-exit", "30", .. extra]);
        WaitFor(() => server.Output.Contains("SACAM-SERVE") || server.HasExited, TimeSpan.FromSeconds(60), () => "the ready line");
        var line = server.Output.Split('\n').First(l => l.StartsWith("SACAM-SERVE", StringComparison.Ordinal)).Trim();
        Assert.That(line, Does.Match(@"^SACAM-SERVE 2 ready port=\d+ pid=\d+ token=\S+$"));
        string Part(string name) => line.Split(' ').First(p => p.StartsWith(name + "=", StringComparison.Ordinal))[(name.Length + 1)..];
        return (server, int.Parse(Part("port")), Part("token"));
    }

    /// <summary>Says Hello over a raw socket and returns the server's first answer (type and payload).</summary>
    private static (MessageType Type, byte[] Payload) RawHello(int port, HelloMessage hello)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 10000 };
        socket.Connect(IPAddress.Loopback, port);
        var buffer = new byte[4096];
        socket.Send(buffer, hello.Write(buffer), SocketFlags.None);
        var header = new byte[Protocol.HeaderBytes];
        Receive(socket, header);
        var (type, length) = Protocol.ReadHeader(header);
        var payload = new byte[length];
        Receive(socket, payload);
        return (type, payload);
    }

    private static void Receive(Socket socket, byte[] into)
    {
        int done = 0;
        while (done < into.Length)
        {
            int read = socket.Receive(into, done, into.Length - done, SocketFlags.None);
            if (read <= 0) throw new IOException("closed");
            done += read;
        }
    }

    private static string ErrorText(byte[] payload)
    {
        var reader = new FieldReader(payload);
        reader.I32();
        return reader.String();
    }

    [Test]
    public void Another_protocol_version_and_a_wrong_token_are_refused_with_the_reason()
    {
        var (server, port, token) = StartServer();
        using (server)
        {
            var (type, payload) = RawHello(port, new HelloMessage { ProtocolVersion = 7, Token = token });
            Assert.That(type, Is.EqualTo(MessageType.Error));
            Assert.That(ErrorText(payload), Does.Contain("protocol 7").And.Contain($"speaks {Protocol.Version}"), "both versions named");

            (type, payload) = RawHello(port, new HelloMessage { Token = "not-the-token" });
            Assert.That(type, Is.EqualTo(MessageType.Error));
            Assert.That(ErrorText(payload), Does.Contain("token"));

            // The same through the client: Failed, with the reason, and no retrying.
            using var client = new SaCamClient(new SaCamClientOptions { AttachPort = port, Token = "not-the-token", MaxWidth = ClipWidth, MaxHeight = ClipHeight });
            client.Start();
            WaitFor(() => client.State == ClientState.Failed, TimeSpan.FromSeconds(10), () => $"Failed (state {client.State})");
            Assert.That(client.LastError, Does.Contain("token"));

            // And the right token works.
            using var good = new SaCamClient(new SaCamClientOptions { AttachPort = port, Token = token, MaxWidth = ClipWidth, MaxHeight = ClipHeight });
            good.Start();
            Assert.That(Explain(good, ClipFrames.Value[0], ClipWidth, ClipHeight).Status, Is.Zero);
        }
    }

    [Test]
    public void A_client_of_another_version_is_told_both_versions_by_the_ready_line()
    {
        // A stand-in server that announces the next protocol.
        int other = Protocol.Version + 1;
        string fake = Path.Combine(Dir, "sacam");
        File.WriteAllText(fake, $"#!/bin/sh\necho 'SACAM-SERVE {other} ready port=1 pid=1'\nsleep 5\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(fake, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        using var client = NewClient(o => o.ServerPath = fake);
        client.Start();
        WaitFor(() => client.State == ClientState.Failed, TimeSpan.FromSeconds(10), () => $"Failed (state {client.State})");
        Assert.That(client.LastError, Does.Contain($"protocol {other}").And.Contain($"speaks {Protocol.Version}"));
    }

    [Test]
    public void A_larger_camera_mid_stream_gets_a_larger_region()
    {
        using var client = NewClient(o => { o.MaxWidth = 320; o.MaxHeight = 180; });
        client.Start();
        using var small = new Mat();
        using (var full = Mat.FromPixelData(ClipHeight, ClipWidth, MatType.CV_8UC4, ClipFrames.Value[0]))
            Cv2.Resize(full, small, new Size(320, 180));
        var smallBytes = new byte[320 * 180 * 4];
        System.Runtime.InteropServices.Marshal.Copy(small.Data, smallBytes, 0, smallBytes.Length);
        var first = Explain(client, smallBytes, 320, 180);
        Assert.That((first.FrameWidth, first.FrameHeight), Is.EqualTo((320, 180)));
        long generation = first.Generation;

        var larger = Explain(client, ClipFrames.Value[0], ClipWidth, ClipHeight);
        Assert.That((larger.FrameWidth, larger.FrameHeight), Is.EqualTo((ClipWidth, ClipHeight)));
        Assert.That(larger.Generation, Is.Not.EqualTo(generation), "a new region came with a new Attach");
        Assert.That(client.Stats.Refused, Is.GreaterThanOrEqualTo(1), "the first larger frame was refused, not written past the region");
    }

    [Test]
    public void A_shared_memory_folder_too_small_falls_back_without_a_crash()
    {
        string tiny = Path.Combine(Dir, "tiny");
        Directory.CreateDirectory(tiny);
        using (var mount = Process.Start("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", tiny])!)
        {
            mount.WaitForExit();
            if (mount.ExitCode != 0) Requirement.Missing("a 64 KB tmpfs (mount needs root)", "run the tests as root, as CI does");
        }
        try
        {
            using var client = NewClient(o => o.SharedMemoryDirectory = tiny);
            client.Start();
            var result = Explain(client, ClipFrames.Value[0], ClipWidth, ClipHeight);
            Assert.That(result.Status, Is.Zero);
            Assert.That(Directory.GetFiles(tiny), Is.Empty, "nothing half-written left in the full folder");
        }
        finally
        {
            using var umount = Process.Start("umount", [tiny])!;
            umount.WaitForExit();
        }
    }
}
