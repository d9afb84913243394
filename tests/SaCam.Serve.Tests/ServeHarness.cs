using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using SaCam.Client;

namespace SaCam.Tests;

/// <summary>
/// What the hardening tests of `sacam serve` share: a server started by hand on a tiny ONNX model (quick on two busy
/// cores), raw sessions that send whatever bytes a test likes and collect what the server answers, and the server's
/// resident memory.
/// </summary>
internal static class ServeHarness
{
    public const int TinySide = 32;

    /// <summary>A server on the test's tiny CNN (32x32 input, 3 classes); its ready line says port and token.</summary>
    public static (CliProcess Server, int Port, string Token) StartTinyServer(string dir, params string[] extra)
    {
        string model = Path.Combine(dir, "tiny.onnx");
        if (!File.Exists(model)) File.Copy(TinyCnn.Save(fileName: $"serve-tiny-{Guid.NewGuid():N}.onnx"), model);
        var server = CliProcess.Start(["serve", "--model", model, "--class", "0", "--idle-exit", "120", .. extra]);
        var (port, token) = ReadyLine(server);
        return (server, port, token);
    }

    public static (int Port, string Token) ReadyLine(CliProcess server)
    {
        WaitFor(() => server.Output.Contains("SACAM-SERVE") || server.HasExited, TimeSpan.FromSeconds(120), () => "the ready line");
        if (!server.Output.Contains("SACAM-SERVE")) Assert.Fail($"the server exited before it was ready: {server.Error}");
        var line = server.Output.Split('\n').First(l => l.StartsWith("SACAM-SERVE", StringComparison.Ordinal)).Trim();
        string Part(string name) => line.Split(' ').First(p => p.StartsWith(name + "=", StringComparison.Ordinal))[(name.Length + 1)..];
        return (int.Parse(Part("port")), Part("token"));
    }

    public static void WaitFor(Func<bool> condition, TimeSpan timeout, Func<string> what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout) Assert.Fail($"waited {timeout.TotalSeconds:F0} s for {what()}");
            Thread.Sleep(10);
        }
    }

    /// <summary>The resident set of a process, in bytes (Linux).</summary>
    public static long ResidentBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0]) * 1024;
        throw new InvalidOperationException($"no VmRSS for process {pid}");
    }

    /// <summary>A frame of the tiny size: a bright square on a dark ground, RGBA.</summary>
    public static byte[] TinyFrame(int seed)
    {
        var rgba = new byte[TinySide * TinySide * 4];
        int x0 = seed % 16, y0 = seed * 7 % 16;
        for (int y = 0; y < TinySide; y++)
        for (int x = 0; x < TinySide; x++)
        {
            int i = 4 * (y * TinySide + x);
            byte v = (byte)(x >= x0 && x < x0 + 12 && y >= y0 && y < y0 + 12 ? 230 : 20);
            rgba[i] = v; rgba[i + 1] = (byte)(v / 2); rgba[i + 2] = (byte)(255 - v); rgba[i + 3] = 255;
        }
        return rgba;
    }

    /// <summary>Submits one frame (retrying while the client refuses) and waits for its own result.</summary>
    public static SaCamResult Explain(SaCamClient client, byte[] rgba, int width, int height)
    {
        var result = new SaCamResult();
        WaitFor(() => client.TrySubmit(rgba, width, height), TimeSpan.FromSeconds(60), () => $"the client to take a frame (state {client.State}: {client.LastError})");
        long id = client.Stats.Submitted;
        WaitFor(() => client.TryGetLatest(result) && result.FrameId >= id, TimeSpan.FromSeconds(60), () => $"the result of frame {id} (state {client.State}: {client.LastError})");
        return result;
    }

    public static SaCamClient Attach(int port, string token, Transport transport = Transport.SharedMemory, int side = TinySide)
    {
        var client = new SaCamClient(new SaCamClientOptions
        {
            AttachPort = port, Token = token, MaxWidth = side, MaxHeight = side, Transport = transport, HeartbeatTimeout = TimeSpan.FromSeconds(10),
        });
        client.Start();
        return client;
    }

    // ---- Raw bytes ----

    public static byte[] Message(MessageType type, ReadOnlySpan<byte> payload) => Message((ushort)type, payload.Length, payload);

    /// <summary>A header announcing <paramref name="announced"/> bytes, then <paramref name="payload"/> (which may say otherwise).</summary>
    public static byte[] Message(ushort type, int announced, ReadOnlySpan<byte> payload)
    {
        var bytes = new byte[Protocol.HeaderBytes + payload.Length];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, announced);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(4), type);
        payload.CopyTo(bytes.AsSpan(Protocol.HeaderBytes));
        return bytes;
    }

    /// <summary>The payload of a Hello as the client writes it.</summary>
    public static byte[] HelloPayload(string token, int width = TinySide, int height = TinySide, Transport transport = Transport.SharedMemory)
    {
        var buffer = new byte[4096];
        int length = new HelloMessage { Token = token, MaxWidth = width, MaxHeight = height, Transport = transport }.Write(buffer);
        return buffer[Protocol.HeaderBytes..length];
    }

    /// <summary>A Frame's payload: the 64-byte slot header, then <paramref name="pixelBytes"/> bytes.</summary>
    public static byte[] FramePayload(long frameId, int width, int height, int stride, long pixelBytes, int format = 0)
    {
        var payload = new byte[SharedLayout.InputHeaderBytes + pixelBytes];
        BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(SharedLayout.InFrameId), frameId);
        BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(SharedLayout.InWidth), width);
        BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(SharedLayout.InHeight), height);
        BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(SharedLayout.InStride), stride);
        BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(SharedLayout.InFormat), format);
        return payload;
    }

    /// <summary>What the server sent a raw session: every message until it closed.</summary>
    public sealed record Answer(List<(MessageType Type, byte[] Payload)> Messages)
    {
        public string? ErrorText => Messages.Where(m => m.Type == MessageType.Error).Select(m => ServeHarness.ErrorText(m.Payload)).FirstOrDefault();

        public IEnumerable<(int Status, string Error)> Results => Messages.Where(m => m.Type == MessageType.Result).Select(m => (
            BinaryPrimitives.ReadInt32LittleEndian(m.Payload.AsSpan(SharedLayout.OutStatus)),
            Encoding.UTF8.GetString(m.Payload, SharedLayout.OutError, BinaryPrimitives.ReadInt32LittleEndian(m.Payload.AsSpan(SharedLayout.OutErrorLength)))));

        public override string ToString() => string.Join(", ", Messages.Select(m => m.Type == MessageType.Error ? $"Error({ServeHarness.ErrorText(m.Payload)})" : m.Type.ToString()));
    }

    public static string ErrorText(byte[] payload)
    {
        var reader = new FieldReader(payload);
        reader.I32();
        return reader.String();
    }

    /// <summary>Connects, sends <paramref name="bytes"/>, says it will send no more, and collects the answer until the
    /// server closes (or <paramref name="timeout"/>: a server that neither answers nor closes fails the test).</summary>
    public static Answer Send(int port, byte[] bytes, TimeSpan timeout)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = (int)timeout.TotalMilliseconds };
        socket.Connect(IPAddress.Loopback, port);
        try
        {
            for (int sent = 0; sent < bytes.Length;) sent += socket.Send(bytes, sent, bytes.Length - sent, SocketFlags.None);
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
            // The server closed first (it read a bad message before the rest arrived): its answer is still there.
        }
        var messages = new List<(MessageType, byte[])>();
        var header = new byte[Protocol.HeaderBytes];
        try
        {
            while (ReceiveAll(socket, header))
            {
                var (type, length) = Protocol.ReadHeader(header);
                var payload = new byte[length];
                if (!ReceiveAll(socket, payload)) break;
                messages.Add((type, payload));
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            // A reset after the server's last message: what came before it counts.
        }
        return new Answer(messages);
    }

    /// <summary>The next message on a raw session; null when the server closed it.</summary>
    public static (MessageType Type, byte[] Payload)? ReadOne(Socket socket)
    {
        var header = new byte[Protocol.HeaderBytes];
        if (!ReceiveAll(socket, header)) return null;
        var (type, length) = Protocol.ReadHeader(header);
        var payload = new byte[length];
        return ReceiveAll(socket, payload) ? (type, payload) : null;
    }

    private static bool ReceiveAll(Socket socket, byte[] into)
    {
        int done = 0;
        while (done < into.Length)
        {
            int read = socket.Receive(into, done, into.Length - done, SocketFlags.None);
            if (read <= 0) return false;
            done += read;
        }
        return true;
    }
}
