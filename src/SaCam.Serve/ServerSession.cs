using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using OpenCvSharp;
using SaCam.Client;
using SaCam.Core;
using SaCam.Video;
using SaCam.Video.Overlays;
using SaCam.Video.Pipeline;
using static TorchSharp.torch;

namespace SaCam.Serve;

/// <summary>
/// One client: the handshake (protocol version, token), the model's loading progress, the shared region (or the TCP
/// transport), then a loop that explains the newest frame each time the client rings, writes the result into the
/// output triple buffer, and reports counters once a second. Runs on a thread of its own; every session has its own
/// method instance (sacam-rt's caches belong to one stream).
/// </summary>
internal sealed unsafe class ServerSession : IDisposable
{
    private readonly ExplainerServer _server;
    private readonly Socket _socket;
    private readonly byte[] _header = new byte[Protocol.HeaderBytes];
    private readonly byte[] _small = new byte[4096];
    private byte[] _receive = new byte[1 << 16];
    private readonly PipelineStatistics _statistics = new();
    private Thread? _thread;
    private Region? _region;
    private readonly object _regionLock = new(); // the heartbeat thread writes into the region the session may replace
    private TripleBuffer _inputReader, _outputWriter, _localInputWriter;
    private FrameExplainer? _explainer;
    private FrameRenderer? _renderer;
    private HelloMessage _hello = new();
    private long _generation;
    private long _received, _explained, _dropped, _lastFrameId;
    private double _explainMs;
    private volatile bool _ended;

    public ServerSession(ExplainerServer server, Socket socket, long generation)
    {
        _server = server;
        _socket = socket;
        _generation = generation;
        socket.NoDelay = true;
        socket.ReceiveTimeout = 5000;
        socket.SendTimeout = 5000;
    }

    public void Start()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = $"sacam serve session {_generation}" };
        _thread.Start();
    }

    /// <summary>Moves the heartbeat word (called ten times a second by the server's heartbeat thread).</summary>
    public void Beat()
    {
        lock (_regionLock)
        {
            var region = _region;
            if (region is { Shared: true }) Interlocked.Increment(ref *(long*)(region.Base + SharedLayout.HeartbeatOffset));
        }
    }

    /// <summary>Refuses a connection with a reason, without a session.</summary>
    public static void Refuse(Socket socket, string reason)
    {
        var buffer = new byte[1024];
        try { socket.Send(buffer, 0, ErrorMessage(buffer, fatal: false, reason), SocketFlags.None); }
        catch (SocketException) { }
        socket.Dispose();
    }

    private void Run()
    {
        try
        {
            if (!Handshake()) return;
            if (!WaitForModel()) return;
            var model = _server.Model!;
            _explainer = new FrameExplainer(model.Model, model.CreateMethod(), model.Target, model.Layer);
            _renderer = _hello.WantOverlay ? new FrameRenderer(model.Render) : null;
            Attach(_hello.MaxWidth, _hello.MaxHeight);
            SendStatus(ServerStatus.Ready, 1, "");
            Serve();
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            // The client went away (killed, closed): the session ends, its shared file with it.
        }
        finally
        {
            End();
        }
    }

    private bool Handshake()
    {
        var type = ReadMessage(out int length);
        var payload = new ReadOnlySpan<byte>(_receive, 0, length);
        if (type != MessageType.Hello) throw new IOException("the first message was not Hello");
        _hello = HelloMessage.Read(payload);
        if (_hello.ProtocolVersion != Protocol.Version)
        {
            SendError(fatal: true, $"the client speaks protocol {_hello.ProtocolVersion} and this server ({Environment.ProcessPath}) speaks " +
                                   $"{Protocol.Version}: use a client and a server of the same SaCam release");
            return false;
        }
        if (!_server.Accepts(_hello.Token))
        {
            SendError(fatal: true, "refused: the session token does not match (a client that starts the server passes its own " +
                                   $"in {Protocol.TokenVariable}; to attach to a running server, give the client that server's token)");
            return false;
        }
        if (_hello.MaxWidth is <= 0 or > 8192 || _hello.MaxHeight is <= 0 or > 8192)
        {
            SendError(fatal: true, $"frames of {_hello.MaxWidth}x{_hello.MaxHeight} are not served (1 to 8192 a side)");
            return false;
        }
        return true;
    }

    /// <summary>Tells the client how far the model's load has come until it is ready (or failed).</summary>
    private bool WaitForModel()
    {
        while (_server.Model is null)
        {
            if (_server.LoadError is string error)
            {
                SendStatus(ServerStatus.Failed, 0, error);
                return false;
            }
            SendStatus(ServerStatus.Loading, _server.LoadProgress, "loading the model");
            if (_server.Stopping.WaitHandle.WaitOne(200)) return false;
        }
        return true;
    }

    /// <summary>Makes the session's region for frames up to <paramref name="width"/> x <paramref name="height"/> and tells
    /// the client: a shared file when it asked for one and one could be made, else the TCP transport.</summary>
    private void Attach(int width, int height)
    {
        ReplaceRegion(null);
        int inputCapacity = SharedLayout.InputCapacityFor(width, height);
        int outputCapacity = SharedLayout.OutputCapacityFor(width, height, _hello.WantOverlay);
        long bytes = SharedLayout.TotalBytes(inputCapacity, outputCapacity);
        var transport = _hello.Transport;
        Region region;
        string reasons = "";
        var file = transport == Transport.SharedMemory ? SharedFile.Create(_server.Options.SharedMemoryDirectory, bytes, out reasons) : null;
        if (file is not null)
        {
            if (reasons.Length > 0) Console.Error.WriteLine($"sacam serve: shared memory fell back past: {reasons}");
            region = new Region(file);
        }
        else
        {
            if (transport == Transport.SharedMemory)
                Console.Error.WriteLine($"sacam serve: no shared file could be made ({reasons}); session {_generation} uses the TCP transport");
            transport = Transport.Tcp;
            region = new Region(bytes);
        }
        _generation = _server.NextGeneration();
        InitialiseHeader(region.Base, inputCapacity, outputCapacity);
        _inputReader = new TripleBuffer((int*)(region.Base + SharedLayout.InputStateOffset), writer: false);
        _outputWriter = new TripleBuffer((int*)(region.Base + SharedLayout.OutputStateOffset), writer: true);
        _localInputWriter = new TripleBuffer((int*)(region.Base + SharedLayout.InputStateOffset), writer: true);
        region.InputCapacity = inputCapacity;
        region.OutputCapacity = outputCapacity;
        ReplaceRegion(region);
        var attach = new AttachMessage
        {
            Transport = transport, Path = region.Path, Generation = _generation, InputCapacity = inputCapacity, OutputCapacity = outputCapacity, TotalBytes = bytes,
        };
        Send(_small, attach.Write(_small));
    }

    private void ReplaceRegion(Region? next)
    {
        Region? previous;
        lock (_regionLock)
        {
            previous = _region;
            _region = next;
        }
        previous?.Dispose();
    }

    private void InitialiseHeader(byte* b, int inputCapacity, int outputCapacity)
    {
        new Span<byte>(b, SharedLayout.HeaderBytes).Clear();
        Fields.I64(b, SharedLayout.MagicOffset, unchecked((long)SharedLayout.Magic));
        Fields.I32(b, SharedLayout.VersionOffset, SharedLayout.LayoutVersion);
        Fields.I64(b, SharedLayout.GenerationOffset, _generation);
        Fields.I32(b, SharedLayout.ServerPidOffset, Environment.ProcessId);
        Fields.I32(b, SharedLayout.InputStateOffset, 1);
        Fields.I32(b, SharedLayout.OutputStateOffset, 1);
        Fields.I32(b, SharedLayout.InputCapacityOffset, inputCapacity);
        Fields.I32(b, SharedLayout.OutputCapacityOffset, outputCapacity);
    }

    private void Serve()
    {
        var statsClock = Stopwatch.StartNew();
        while (!_ended && !_server.Stopping.IsCancellationRequested)
        {
            if (_socket.Poll(100_000, SelectMode.SelectRead))
            {
                var type = ReadMessage(out int length);
        var payload = new ReadOnlySpan<byte>(_receive, 0, length);
                switch (type)
                {
                    case MessageType.Doorbell:
                        ExplainNewest();
                        break;
                    case MessageType.Frame:
                        StoreFrame(payload);
                        ExplainNewest();
                        break;
                    case MessageType.Resize:
                        var r = new FieldReader(payload);
                        int w = Math.Clamp(r.I32(), 1, 8192), h = Math.Clamp(r.I32(), 1, 8192);
                        Attach(w, h);
                        break;
                    case MessageType.Bye:
                        return;
                }
            }
            if (statsClock.Elapsed >= TimeSpan.FromSeconds(1))
            {
                statsClock.Restart();
                var stats = new StatsMessage
                {
                    FramesReceived = _received, FramesExplained = _explained, FramesDropped = _dropped, ExplainMs = (float)_explainMs,
                };
                Send(_small, stats.Write(_small));
            }
        }
    }

    /// <summary>TCP transport: the frame the client sent, into the local input slot (a newer one replaces it).</summary>
    private void StoreFrame(ReadOnlySpan<byte> payload)
    {
        var region = _region!;
        if (payload.Length > SharedLayout.InputHeaderBytes + region.InputCapacity) return;
        byte* slot = region.Base + SharedLayout.InputSlotOffset(_localInputWriter.Own, region.InputCapacity);
        payload.CopyTo(new Span<byte>(slot, payload.Length));
        _localInputWriter.Publish();
    }

    /// <summary>Explains the newest frame; frames overwritten while the previous one was being explained are drops.</summary>
    private void ExplainNewest()
    {
        var region = _region!;
        while (_inputReader.TryTake())
        {
            byte* slot = region.Base + SharedLayout.InputSlotOffset(_inputReader.Own, region.InputCapacity);
            long frameId = Fields.I64(slot, SharedLayout.InFrameId);
            _received++;
            if (_lastFrameId > 0 && frameId > _lastFrameId + 1) _dropped += frameId - _lastFrameId - 1;
            _lastFrameId = Math.Max(_lastFrameId, frameId);
            Explain(region, slot, frameId);
        }
    }

    private void Explain(Region region, byte* input, long frameId)
    {
        var clock = Stopwatch.StartNew();
        byte* output = region.Base + SharedLayout.OutputSlotOffset(_outputWriter.Own, region.InputCapacity, region.OutputCapacity);
        new Span<byte>(output, SharedLayout.OutputHeaderBytes).Clear();
        Fields.I64(output, SharedLayout.OutFrameId, frameId);
        int width = Fields.I32(input, SharedLayout.InWidth), height = Fields.I32(input, SharedLayout.InHeight);
        int stride = Fields.I32(input, SharedLayout.InStride);
        var flags = (FrameFlags)Fields.I32(input, SharedLayout.InFlags);
        try
        {
            if (width <= 0 || height <= 0 || stride < width * 4 || (long)stride * height > region.InputCapacity)
                throw new ArgumentException($"a frame of {width}x{height} (stride {stride}) does not fit the session's {region.InputCapacity} bytes");
            using var rgba = Mat.FromPixelData(height, width, MatType.CV_8UC4, (IntPtr)(input + SharedLayout.InputHeaderBytes), stride);
            var bgr = new Mat();
            Cv2.CvtColor(rgba, bgr, ColorConversionCodes.RGBA2BGR);
            if (flags.HasFlag(FrameFlags.BottomUp)) Cv2.Flip(bgr, bgr, FlipMode.X);
            using var frame = new VideoFrame(frameId, TimeSpan.Zero, bgr);
            FrameExplanation explanation;
            lock (_server.ExplainLock) explanation = _explainer!.Explain(frame, _server.Stopping);
            _statistics.OnExplained(StopwatchTimeSource.Shared.NowMs);
            using var annotated = new AnnotatedFrame(frame, explanation);
            int overlayBytes = WriteResult(output, annotated, region.OutputCapacity);
            Fields.I32(output, SharedLayout.OutOverlayBytes, overlayBytes);
            _explained++;
            _explainMs = explanation.ExplainMs;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or OpenCVException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
        {
            Fields.I32(output, SharedLayout.OutStatus, 1);
            Fields.Text(output, SharedLayout.OutErrorLength, SharedLayout.OutError, SharedLayout.ErrorCapacity, e.Message);
        }
        Fields.F32(output, SharedLayout.OutLatency, (float)clock.Elapsed.TotalMilliseconds);
        _outputWriter.Publish();
        if (!region.Shared) SendResult(output, region);
    }

    /// <summary>Fills an output slot from an explanation; returns the overlay's size in bytes (0 when not asked for).</summary>
    private int WriteResult(byte* output, AnnotatedFrame annotated, int capacity)
    {
        var e = annotated.Explanation;
        Fields.I32(output, SharedLayout.OutClass, e.ClassIndex);
        Fields.F32(output, SharedLayout.OutScore, e.Score);
        Fields.F32(output, SharedLayout.OutExplain, (float)e.ExplainMs);
        Fields.Text(output, SharedLayout.OutLabelLength, SharedLayout.OutLabel, SharedLayout.LabelCapacity, e.Label ?? "");
        for (int i = 0; i < Math.Min(5, e.Top5.Count); i++)
        {
            Fields.I32(output, SharedLayout.OutTop5 + 8 * i, e.Top5[i].Index);
            Fields.F32(output, SharedLayout.OutTop5 + 8 * i + 4, e.Top5[i].Probability);
        }
        var g = e.Geometry;
        WriteRect(output, SharedLayout.OutSourceRect, g.SourceRect.X / (float)g.FrameSize.Width, g.SourceRect.Y / (float)g.FrameSize.Height,
            g.SourceRect.Width / (float)g.FrameSize.Width, g.SourceRect.Height / (float)g.FrameSize.Height);
        WriteRect(output, SharedLayout.OutTargetRect, g.TargetRect.X / (float)g.InputSize.Width, g.TargetRect.Y / (float)g.InputSize.Height,
            g.TargetRect.Width / (float)g.InputSize.Width, g.TargetRect.Height / (float)g.InputSize.Height);
        Fields.I32(output, SharedLayout.OutFrameWidth, g.FrameSize.Width);
        Fields.I32(output, SharedLayout.OutFrameHeight, g.FrameSize.Height);
        int d = 0;
        foreach (var (name, value) in e.Diagnostics)
        {
            if (d == SharedLayout.DiagnosticsCapacity) break;
            byte* entry = output + SharedLayout.OutDiagnostics + 32 * d++;
            var nameBytes = new Span<byte>(entry, SharedLayout.DiagnosticNameBytes);
            nameBytes.Clear();
            Encoding.UTF8.GetBytes(name.AsSpan(0, Math.Min(name.Length, SharedLayout.DiagnosticNameBytes)), nameBytes);
            Fields.F64(entry, SharedLayout.DiagnosticNameBytes, value);
        }
        Fields.I32(output, SharedLayout.OutDiagnosticsCount, d);

        byte* payload = output + SharedLayout.OutputHeaderBytes;
        int mapBytes = 0;
        if (e.Map is { } map)
        {
            using var scope = NewDisposeScope();
            int h = (int)map.shape[0], w = (int)map.shape[1];
            mapBytes = w * h;
            if (mapBytes > SharedLayout.MapCapacity) throw new InvalidOperationException($"a {w}x{h} map does not fit the protocol's {SharedLayout.MapCapacity} bytes");
            var bytes = (map.detach().cpu() * 255).round_().clamp_(0, 255).to_type(ScalarType.Byte).contiguous();
            bytes.bytes.CopyTo(new Span<byte>(payload, mapBytes));
            Fields.I32(output, SharedLayout.OutMapWidth, w);
            Fields.I32(output, SharedLayout.OutMapHeight, h);
        }
        if (_renderer is null) return 0;
        using var overlay = _renderer.Render(annotated, _statistics);
        using var overlayRgba = new Mat();
        Cv2.CvtColor(overlay, overlayRgba, ColorConversionCodes.BGR2RGBA);
        int overlayBytes = (int)(overlayRgba.Total() * 4);
        if (mapBytes + overlayBytes > capacity) return 0;
        Buffer.MemoryCopy((void*)overlayRgba.Data, payload + mapBytes, overlayBytes, overlayBytes);
        return overlayBytes;
    }

    private static void WriteRect(byte* output, int offset, float x, float y, float w, float h)
    {
        Fields.F32(output, offset, x);
        Fields.F32(output, offset + 4, y);
        Fields.F32(output, offset + 8, w);
        Fields.F32(output, offset + 12, h);
    }

    /// <summary>TCP transport: the slot as it stands, header and payload, as one Result message.</summary>
    private void SendResult(byte* output, Region region)
    {
        int bytes = SharedLayout.OutputHeaderBytes + Fields.I32(output, SharedLayout.OutMapWidth) * Fields.I32(output, SharedLayout.OutMapHeight)
                    + Fields.I32(output, SharedLayout.OutOverlayBytes);
        Protocol.WriteHeader(_header, MessageType.Result, bytes);
        SendAll(_header);
        SendAll(new ReadOnlySpan<byte>(output, bytes));
    }

    /// <summary>The next message; its payload lies in <c>_receive[0..length)</c> until the next read.</summary>
    private MessageType ReadMessage(out int length)
    {
        ReceiveExactly(_header, Protocol.HeaderBytes);
        var (type, size) = Protocol.ReadHeader(_header);
        length = size;
        if (length < 0 || length > Protocol.MaxMessageBytes) throw new IOException($"a message of {length} bytes: not this protocol");
        if (_receive.Length < length) _receive = new byte[length];
        ReceiveExactly(_receive, length);
        return type;
    }

    private void ReceiveExactly(byte[] buffer, int count)
    {
        int done = 0;
        while (done < count)
        {
            int read = _socket.Receive(buffer, done, count - done, SocketFlags.None);
            if (read <= 0) throw new IOException("the client closed the connection");
            done += read;
        }
    }

    private void SendStatus(ServerStatus status, float progress, string text) =>
        Send(_small, new StatusMessage { Status = status, Progress = progress, Text = text }.Write(_small));

    private void SendError(bool fatal, string text) => Send(_small, ErrorMessage(_small, fatal, text));

    private static int ErrorMessage(byte[] buffer, bool fatal, string text)
    {
        var w = new FieldWriter(buffer, Protocol.HeaderBytes);
        w.I32(fatal ? 1 : 0);
        w.String(text.Length > 900 ? text[..900] : text);
        Protocol.WriteHeader(buffer, MessageType.Error, w.Position - Protocol.HeaderBytes);
        return w.Position;
    }

    private void Send(byte[] buffer, int count) => SendAll(new ReadOnlySpan<byte>(buffer, 0, count));

    private void SendAll(ReadOnlySpan<byte> bytes)
    {
        while (bytes.Length > 0)
        {
            int sent = _socket.Send(bytes);
            if (sent <= 0) throw new IOException("the client closed the connection");
            bytes = bytes[sent..];
        }
    }

    private void End()
    {
        if (_ended && _region is null) return;
        _ended = true;
        try { _socket.Dispose(); } catch (ObjectDisposedException) { }
        ReplaceRegion(null);
        _explainer?.Dispose();
        _server.Ended(this);
    }

    public void Dispose()
    {
        _ended = true;
        try { _socket.Shutdown(SocketShutdown.Both); } catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        _thread?.Join(500);
    }

    /// <summary>The session's slots: a shared file, or (TCP transport) memory of this process.</summary>
    private sealed class Region : IDisposable
    {
        private readonly SharedFile? _file;
        private readonly IntPtr _owned;

        public Region(SharedFile file)
        {
            _file = file;
            Base = file.Base;
            Path = file.Path;
        }

        public Region(long bytes)
        {
            _owned = Marshal.AllocHGlobal((IntPtr)bytes);
            Base = (byte*)_owned;
            Path = "";
        }

        public byte* Base { get; }
        public string Path { get; }
        public bool Shared => _file is not null;
        public int InputCapacity { get; set; }
        public int OutputCapacity { get; set; }

        public void Dispose()
        {
            _file?.Dispose();
            if (_owned != IntPtr.Zero) Marshal.FreeHGlobal(_owned);
        }
    }
}
