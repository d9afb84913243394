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
    private IFrameExplainer? _explainer;
    private ExplainStep? _step; // the step live video and the in-process host take too
    private FrameRenderer? _renderer;
    private HelloMessage _hello = new();
    private long _generation;
    private long _received, _explained, _dropped, _lastFrameId, _failed;
    private double _explainMs;
    private volatile bool _ended;
    private bool _toldError; // an Error went out: let it reach the client before the socket closes

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

    /// <summary>The session's thread. Nothing a client sends, and nothing an explanation throws, leaves it: an exception
    /// on a thread of its own would end the whole process, every other client with it.</summary>
    private void Run()
    {
        try
        {
            if (!Handshake()) return;
            if (!WaitForModel()) return;
            var model = _server.Model!;
            _explainer = model.CreateExplainer();
            _step = new ExplainStep(_explainer, _statistics);
            _renderer = _hello.WantOverlay ? new FrameRenderer(model.Render) : null;
            Attach(_hello.MaxWidth, _hello.MaxHeight);
            SendStatus(ServerStatus.Ready, 1, "");
            Serve();
        }
        catch (BadMessageException e)
        {
            Log($"a bad message from the client: {e.Message}; the session ends");
            TrySendError(fatal: true, $"bad message: {e.Message}");
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            // The client went away (killed, closed): the session ends, its shared file with it.
        }
        catch (OperationCanceledException) when (_server.Stopping.IsCancellationRequested)
        {
            // The server stops.
        }
        catch (Exception e)
        {
            Log($"ended by an internal error ({e.GetType().Name}): {e.Message}");
            TrySendError(fatal: false, $"the server ended the session: {e.GetType().Name}: {e.Message}");
        }
        finally
        {
            End();
        }
    }

    private void Log(string text)
    {
        try { Console.Error.WriteLine($"sacam serve: session {_generation}: {text}"); }
        catch (IOException) { } // stderr closed: nothing left to tell
    }

    private void TrySendError(bool fatal, string text)
    {
        try
        {
            SendError(fatal, text);
            _toldError = true;
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException) { }
    }

    /// <summary>The largest Hello (a token of 65535 bytes): before the token is checked, nobody makes the server
    /// allocate more.</summary>
    private const int MaxHelloBytes = 4 + ushort.MaxValue + 16;

    private bool Handshake()
    {
        var type = ReadMessage(out int length, MaxHelloBytes);
        var payload = new ReadOnlySpan<byte>(_receive, 0, length);
        if (type != MessageType.Hello) throw new BadMessageException($"the first message was {ClientMessages.Describe(type)[2..]}, not Hello");
        _hello = ClientMessages.ReadHello(payload);
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
        if (!ClientMessages.SizeServed(_hello.MaxWidth, _hello.MaxHeight))
        {
            SendError(fatal: true, $"frames of {_hello.MaxWidth}x{_hello.MaxHeight} are not served (1 to {ClientMessages.MaxSide} a side)");
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

    private bool RegionFits(int width, int height)
    {
        lock (_regionLock)
            return _region is { } region && SharedLayout.InputCapacityFor(width, height) <= region.InputCapacity
                && SharedLayout.OutputCapacityFor(width, height, _hello.WantOverlay) <= region.OutputCapacity;
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
                        ClientMessages.CheckDoorbell(payload);
                        ExplainNewest();
                        break;
                    case MessageType.Frame:
                        if (_region!.Shared) throw new BadMessageException("a Frame message in a shared-memory session (its frames go into the shared file, rung with Doorbell)");
                        StoreFrame(payload, ClientMessages.ReadFrame(payload));
                        ExplainNewest();
                        break;
                    case MessageType.Resize:
                        var (w, h) = ClientMessages.ReadResize(payload);
                        // A client asks again on every refused frame until the new region's Attach reaches it; a
                        // region made for each of those would delete the file the Attach on its way names.
                        if (!RegionFits(w, h)) Attach(w, h);
                        break;
                    case MessageType.Bye:
                        return;
                    default:
                        throw new BadMessageException(ClientMessages.Describe(type));
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

    /// <summary>TCP transport: the frame the client sent, into the local input slot (a newer one replaces it). A frame
    /// larger than the session's region gets an error result at once: dropped silently, a client waiting for it
    /// would wait forever.</summary>
    private void StoreFrame(ReadOnlySpan<byte> payload, FrameShape shape)
    {
        var region = _region!;
        if (shape.PixelBytes > region.InputCapacity)
        {
            _received++;
            PublishError(region, shape.FrameId, TooLarge(shape, region));
            return;
        }
        byte* slot = region.Base + SharedLayout.InputSlotOffset(CheckedSlot(_localInputWriter.Own, "input"), region.InputCapacity);
        payload.CopyTo(new Span<byte>(slot, payload.Length));
        _localInputWriter.Publish();
    }

    /// <summary>Explains the newest frame; frames overwritten while the previous one was being explained are drops.</summary>
    private void ExplainNewest()
    {
        var region = _region!;
        while (_inputReader.TryTake())
        {
            byte* slot = region.Base + SharedLayout.InputSlotOffset(CheckedSlot(_inputReader.Own, "input"), region.InputCapacity);
            long frameId = Fields.I64(slot, SharedLayout.InFrameId);
            _received++;
            if (_lastFrameId > 0 && frameId > _lastFrameId + 1) _dropped += frameId - _lastFrameId - 1;
            _lastFrameId = Math.Max(_lastFrameId, frameId);
            Explain(region, slot, frameId);
        }
    }

    /// <summary>The client writes the triple buffers' state words in the shared file too: a word naming slot 3 (there
    /// are three, 0..2) would send the server's next read or write past the region.</summary>
    private static int CheckedSlot(int slot, string buffer) =>
        slot is >= 0 and < SharedLayout.Slots ? slot : throw new BadMessageException($"the {buffer} state word in the shared file names slot {slot} (0 to {SharedLayout.Slots - 1})");

    private static string TooLarge(FrameShape shape, Region region) =>
        $"frame {shape.FrameId} of {shape.Width}x{shape.Height} does not fit the session (send Resize first): {shape.PixelBytes} bytes, room for {region.InputCapacity}";

    /// <summary>Explains one frame into the next output slot. Every frame gets a result or an error result, whatever
    /// throws (a slot with absurd sizes, the model, the method, a cancelled run, a native error in TorchSharp or
    /// OpenCV): the session and the server go on with the next frame.</summary>
    private void Explain(Region region, byte* input, long frameId)
    {
        var clock = Stopwatch.StartNew();
        byte* output = region.Base + SharedLayout.OutputSlotOffset(CheckedSlot(_outputWriter.Own, "output"), region.InputCapacity, region.OutputCapacity);
        new Span<byte>(output, SharedLayout.OutputHeaderBytes).Clear();
        Fields.I64(output, SharedLayout.OutFrameId, frameId);
        var flags = (FrameFlags)Fields.I32(input, SharedLayout.InFlags);
        try
        {
            // The client wrote this header into shared memory: its sizes are checked like a Frame message's.
            var shape = ClientMessages.ReadShape(new ReadOnlySpan<byte>(input, SharedLayout.InputHeaderBytes));
            if (shape.PixelBytes > region.InputCapacity) throw new ArgumentException(TooLarge(shape, region));
            using var rgba = Mat.FromPixelData(shape.Height, shape.Width, MatType.CV_8UC4, (IntPtr)(input + SharedLayout.InputHeaderBytes), shape.Stride);
            var bgr = new Mat();
            Cv2.CvtColor(rgba, bgr, ColorConversionCodes.RGBA2BGR);
            if (flags.HasFlag(FrameFlags.BottomUp)) Cv2.Flip(bgr, bgr, FlipMode.X);
            AnnotatedFrame explained;
            lock (_server.ExplainLock) explained = _step!.Explain(new VideoFrame(frameId, TimeSpan.Zero, bgr), _server.Stopping);
            using var annotated = explained;
            var explanation = annotated.Explanation;
            int overlayBytes = WriteResult(output, annotated, region.OutputCapacity);
            Fields.I32(output, SharedLayout.OutOverlayBytes, overlayBytes);
            _explained++;
            _explainMs = explanation.ExplainMs;
        }
        catch (Exception e)
        {
            if (_server.Stopping.IsCancellationRequested && e is OperationCanceledException) throw; // the server stops: no result owed
            WriteError(output, Describe(e));
            if (_failed++ == 0) Log($"frame {frameId} failed ({e.GetType().Name}): {e.Message} (further failures of this session are only counted)");
        }
        Fields.F32(output, SharedLayout.OutLatency, (float)clock.Elapsed.TotalMilliseconds);
        _outputWriter.Publish();
        if (!region.Shared) SendResult(output, region);
    }

    /// <summary>The text a failed frame's result carries: the message of the errors a user can act on, the type too
    /// for the others (a bug in a method, a native error).</summary>
    private static string Describe(Exception e) =>
        e is ArgumentException or InvalidOperationException or OpenCVException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException or BadMessageException
            ? e.Message
            : $"{e.GetType().Name}: {e.Message}";

    /// <summary>Marks an output slot as an error: no map, no overlay (a half-written result is not sent).</summary>
    private static void WriteError(byte* output, string text)
    {
        Fields.I32(output, SharedLayout.OutStatus, 1);
        Fields.I32(output, SharedLayout.OutMapWidth, 0);
        Fields.I32(output, SharedLayout.OutMapHeight, 0);
        Fields.I32(output, SharedLayout.OutOverlayBytes, 0);
        var field = new Span<byte>(output + SharedLayout.OutError, SharedLayout.ErrorCapacity);
        Fields.I32(output, SharedLayout.OutErrorLength, Utf8Prefix(text, field));
    }

    /// <summary>As much of <paramref name="text"/> as fits <paramref name="into"/>, cut between characters (Fields.Text
    /// keeps a third of the room for any text, and cut error texts short).</summary>
    private static int Utf8Prefix(string text, Span<byte> into)
    {
        int chars = Math.Min(text.Length, into.Length); // a character takes at least a byte
        if (chars > 0 && char.IsHighSurrogate(text[chars - 1])) chars--;
        while (Encoding.UTF8.GetByteCount(text.AsSpan(0, chars)) > into.Length)
            chars = char.IsLowSurrogate(text[chars - 1]) && chars > 1 ? chars - 2 : chars - 1;
        return Encoding.UTF8.GetBytes(text.AsSpan(0, chars), into);
    }

    /// <summary>An error result for a frame that is not explained at all.</summary>
    private void PublishError(Region region, long frameId, string text)
    {
        byte* output = region.Base + SharedLayout.OutputSlotOffset(CheckedSlot(_outputWriter.Own, "output"), region.InputCapacity, region.OutputCapacity);
        new Span<byte>(output, SharedLayout.OutputHeaderBytes).Clear();
        Fields.I64(output, SharedLayout.OutFrameId, frameId);
        WriteError(output, text);
        _failed++;
        _outputWriter.Publish();
        if (!region.Shared) SendResult(output, region);
    }

    /// <summary>The explained objects of an object target (det:, seg:), as many as the slot holds, highest score
    /// first; the number found is written too, so a client knows when some were left out.</summary>
    private static void WriteObjects(byte* output, IReadOnlyList<ObjectExplanation>? objects)
    {
        if (objects is null) return;
        var sent = objects.OrderByDescending(o => o.Score).Take(SharedLayout.ObjectCapacity).ToList();
        Fields.I32(output, SharedLayout.OutObjectCount, sent.Count);
        Fields.I32(output, SharedLayout.OutObjectsFound, objects.Count);
        for (int i = 0; i < sent.Count; i++)
        {
            var o = sent[i];
            byte* entry = output + SharedLayout.OutObjects + SharedLayout.ObjectBytes * i;
            Fields.I32(entry, SharedLayout.ObjTrack, o.Track);
            Fields.I32(entry, SharedLayout.ObjClass, o.Class ?? -1);
            Fields.F32(entry, SharedLayout.ObjScore, o.Score);
            Fields.F32(entry, SharedLayout.ObjBox, o.Box.X);
            Fields.F32(entry, SharedLayout.ObjBox + 4, o.Box.Y);
            Fields.F32(entry, SharedLayout.ObjBox + 8, o.Box.Width);
            Fields.F32(entry, SharedLayout.ObjBox + 12, o.Box.Height);
            Fields.F32(entry, SharedLayout.ObjPeak, o.Peak.X);
            Fields.F32(entry, SharedLayout.ObjPeak + 4, o.Peak.Y);
            Fields.F32(entry, SharedLayout.ObjEnergyInBox, (float)o.EnergyInBox);
            Fields.F32(entry, SharedLayout.ObjExplainMs, (float)o.ExplainMs);
            var label = new Span<byte>(entry + SharedLayout.ObjLabel, SharedLayout.ObjectLabelCapacity);
            Fields.I32(entry, SharedLayout.ObjLabelLength, Utf8Prefix(o.Label ?? "", label));
        }
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
        WriteObjects(output, e.Objects);

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
    private MessageType ReadMessage(out int length, int maxBytes = Protocol.MaxMessageBytes)
    {
        ReceiveExactly(_header, Protocol.HeaderBytes);
        var (type, size) = Protocol.ReadHeader(_header);
        length = size;
        if (length < 0 || length > maxBytes)
            throw new BadMessageException($"a header announcing {(uint)length} bytes (at most {maxBytes} here)");
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

    /// <summary>Removes the shared file, frees the method, leaves the server's session count, and only then closes the
    /// socket: a client that sees the close may connect again at once and must find the session gone. Never throws:
    /// it runs on the way out of <see cref="Run"/>, whatever ended the session.</summary>
    private void End()
    {
        _ended = true;
        try { ReplaceRegion(null); }
        catch (Exception e) { Log($"its shared file could not be removed ({e.GetType().Name}): {e.Message}"); }
        try { _explainer?.Dispose(); }
        catch (Exception e) { Log($"its method could not be freed ({e.GetType().Name}): {e.Message}"); }
        _explainer = null;
        if (_failed > 0) Log($"{_failed} frame(s) ended in an error result");
        _server.Ended(this);
        if (_toldError) DrainBeforeClose();
        try { _socket.Dispose(); } catch (ObjectDisposedException) { }
    }

    /// <summary>After an Error, closing a socket with unread bytes in it makes the kernel send a reset, and the client
    /// may lose the Error before it reads it: say we are done sending, then read (and drop) what the client still
    /// sends, for a moment, until it closes.</summary>
    private void DrainBeforeClose()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Send);
            _socket.ReceiveTimeout = 500;
            var clock = Stopwatch.StartNew();
            long drained = 0;
            while (clock.ElapsedMilliseconds < 1000 && drained < Protocol.MaxMessageBytes)
            {
                int read = _socket.Receive(_receive, 0, _receive.Length, SocketFlags.None);
                if (read <= 0) break;
                drained += read;
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
    }

    public void Dispose() => Stop(TimeSpan.FromMilliseconds(500));

    /// <summary>Asks the session to end and waits up to <paramref name="wait"/>; false when its thread still runs (in the
    /// middle of an explanation that does not watch the stop token).</summary>
    public bool Stop(TimeSpan wait)
    {
        _ended = true;
        try { _socket.Shutdown(SocketShutdown.Both); } catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        return _thread?.Join(wait) ?? true;
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
