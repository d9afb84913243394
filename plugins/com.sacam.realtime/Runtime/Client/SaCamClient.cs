#nullable enable
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Threading;

namespace SaCam.Client
{
    /// <summary>What the client is doing; a host shows it (a loading bar, a reconnecting badge, the failure).</summary>
    public enum ClientState
    {
        Idle,
        /// <summary>Starting the server, or connecting to it.</summary>
        Starting,
        /// <summary>Connected; the server loads the model (see <see cref="SaCamClient.LoadingProgress"/>).</summary>
        Loading,
        /// <summary>Frames go through.</summary>
        Ready,
        /// <summary>The server went away or stopped answering; the client restarts or reconnects it.</summary>
        Reconnecting,
        /// <summary>It cannot work (see <see cref="SaCamClient.LastError"/>): a missing server, a protocol from another version, a refused token.</summary>
        Failed,
        Stopped,
    }

    /// <summary>How a client finds its server and what it asks of it.</summary>
    public sealed class SaCamClientOptions
    {
        /// <summary>The `sacam` executable (or sacam.dll, run with `dotnet`) to start as `sacam serve`.</summary>
        public string? ServerPath;
        /// <summary>Arguments after `sacam serve`: --model, --method, --budget-ms, --class, --device, --plugins...</summary>
        public string[] ServerArguments = new string[0];
        /// <summary>Attach to a running server on this port instead of starting one (with <see cref="Token"/>).</summary>
        public int? AttachPort;
        public string? Token;
        /// <summary>The largest frame the host will send; larger ones make the client ask for a new shared region.</summary>
        public int MaxWidth = 1920, MaxHeight = 1080;
        /// <summary>Also return the composited overlay (RGBA, frame size); by default only the map, which the host blends.</summary>
        public bool WantOverlay;
        public Transport Transport = Transport.SharedMemory;
        /// <summary>Where the server makes its shared files (default: /dev/shm on Linux, the temp folder elsewhere).</summary>
        public string? SharedMemoryDirectory;
        /// <summary>How long the server's heartbeat may stay still before the server counts as hung.</summary>
        public TimeSpan HeartbeatTimeout = TimeSpan.FromSeconds(3);
        /// <summary>How long to wait for a started server's ready line.</summary>
        public TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
        /// <summary>The server exits this long after its last session ends (and at once when this process ends).</summary>
        public int IdleExitSeconds = 300;
        /// <summary>Leave a server this client started running when the client is disposed (an editor keeps the model
        /// loaded across play sessions); the next client finds it through <see cref="ServerStateFile"/>.</summary>
        public bool KeepServerAlive;
        /// <summary>A file that records a started server's port, pid and token, so that another client attaches to it.</summary>
        public string? ServerStateFile;
    }

    /// <summary>Counters a host can show.</summary>
    public sealed class ClientStats
    {
        /// <summary>Frames handed over by <see cref="SaCamClient.TrySubmit(ReadOnlySpan{byte}, int, int, FrameFlags, int)"/>.</summary>
        public long Submitted;
        /// <summary>Submitted frames replaced by a newer one before the server took them (newest frame wins).</summary>
        public long DroppedBeforeServer;
        /// <summary>Frames refused because no session was ready, or larger than the shared region.</summary>
        public long Refused;
        /// <summary>What the server reported (once a second).</summary>
        public long ServerReceived, ServerExplained, ServerDropped;
        public float ServerExplainMs;
        public int Reconnects;
    }

    /// <summary>
    /// A client of `sacam serve` for hosts that cannot load the explainer (Unity's Mono or IL2CPP, other engines'
    /// .NET Standard runtimes). <see cref="TrySubmit(ReadOnlySpan{byte}, int, int, FrameFlags, int)"/> and
    /// <see cref="TryGetLatest"/> never block and never allocate once running: they touch only the shared region and
    /// atomic words, so a frame loop can call them every frame. Everything that can block (starting the server,
    /// connecting, socket reads, mapping files, restarting or killing the server) happens on the client's own thread.
    /// Call TrySubmit from one thread at a time, and TryGetLatest from one thread at a time.
    /// </summary>
    public sealed class SaCamClient : IDisposable
    {
        private readonly SaCamClientOptions _options;
        private readonly AutoResetEvent _wake = new AutoResetEvent(false);
        private readonly ClientStats _stats = new ClientStats();
        private readonly StatusMessage _status = new StatusMessage();
        private readonly StatsMessage _serverStats = new StatsMessage();
        private readonly byte[] _header = new byte[Protocol.HeaderBytes];
        private readonly byte[] _small = new byte[4096];
        private byte[] _receive = new byte[1 << 16];
        private readonly Queue<string> _serverErrorLines = new Queue<string>();
        private Thread? _thread;
        private volatile bool _stopping;
        private volatile ClientState _state = ClientState.Idle;
        private volatile string _lastError = "";
        private volatile float _progress;
        private Session? _session;
        private int _inUse;
        private int _doorbell;
        private int _resizeWidth, _resizeHeight;
        private long _lostGeneration = -1;
        private Process? _server;
        private Socket? _socket;
        private bool _serverReady;

        public SaCamClient(SaCamClientOptions options)
        {
            _options = options;
        }

        public ClientState State => _state;
        public string LastError => _lastError;
        /// <summary>The server's model load, 0 to 1, while <see cref="State"/> is Loading.</summary>
        public float LoadingProgress => _progress;
        public ClientStats Stats => _stats;
        /// <summary>The process id of the server this client started (0 when attached or not started).</summary>
        public int ServerProcessId { get; private set; }

        /// <summary>Starts the client thread; returns at once.</summary>
        public void Start()
        {
            if (_thread is not null) return;
            _state = ClientState.Starting;
            _thread = new Thread(Run) { IsBackground = true, Name = "sacam-client" };
            _thread.Start();
        }

        /// <summary>
        /// Hands a frame (RGBA, 4 bytes a pixel) to the server: copies it into the shared region and rings the server.
        /// Returns false, dropping the frame, while no session is ready, or when the frame is larger than the region
        /// (the client thread then asks the server for a larger one). Never blocks, never allocates.
        /// </summary>
        /// <param name="stride">Bytes from one row to the next in <paramref name="rgba"/> (0: width * 4).</param>
        public unsafe bool TrySubmit(ReadOnlySpan<byte> rgba, int width, int height, FrameFlags flags = FrameFlags.None, int stride = 0)
        {
            int rowBytes = width * 4;
            if (stride == 0) stride = rowBytes;
            if (width <= 0 || height <= 0 || stride < rowBytes || rgba.Length < (long)stride * (height - 1) + rowBytes)
                throw new ArgumentException($"A {width}x{height} RGBA frame with stride {stride} needs at least {(long)stride * (height - 1) + rowBytes} bytes; got {rgba.Length}.");
            var session = EnterSession();
            if (session is null)
            {
                Interlocked.Increment(ref _stats.Refused);
                return false;
            }
            try
            {
                if ((long)rowBytes * height > session.InputCapacity)
                {
                    Volatile.Write(ref _resizeWidth, width);
                    Volatile.Write(ref _resizeHeight, height);
                    Interlocked.Increment(ref _stats.Refused);
                    _wake.Set();
                    return false;
                }
                byte* slot = session.Region.Base + SharedLayout.InputSlotOffset(session.Input.Own, session.InputCapacity);
                long id = Interlocked.Increment(ref _stats.Submitted);
                Fields.I64(slot, SharedLayout.InFrameId, id);
                Fields.I32(slot, SharedLayout.InWidth, width);
                Fields.I32(slot, SharedLayout.InHeight, height);
                Fields.I32(slot, SharedLayout.InStride, rowBytes);
                Fields.I32(slot, SharedLayout.InFormat, 0);
                Fields.I32(slot, SharedLayout.InFlags, (int)flags);
                Fields.I64(slot, SharedLayout.InCaptureTicks, Stopwatch.GetTimestamp());
                var pixels = new Span<byte>(slot + SharedLayout.InputHeaderBytes, rowBytes * height);
                if (stride == rowBytes) rgba.Slice(0, rowBytes * height).CopyTo(pixels);
                else
                    for (int y = 0; y < height; y++) rgba.Slice(y * stride, rowBytes).CopyTo(pixels.Slice(y * rowBytes, rowBytes));
                if (session.Input.Publish()) Interlocked.Increment(ref _stats.DroppedBeforeServer);
                Interlocked.Exchange(ref _doorbell, 1);
                _wake.Set();
                return true;
            }
            finally
            {
                Interlocked.Decrement(ref _inUse);
            }
        }

        /// <summary>The same from native memory (a NativeArray, a GPU read-back buffer).</summary>
        public unsafe bool TrySubmit(IntPtr rgba, int byteCount, int width, int height, FrameFlags flags = FrameFlags.None, int stride = 0) =>
            TrySubmit(new ReadOnlySpan<byte>((void*)rgba, byteCount), width, height, flags, stride);

        /// <summary>
        /// Fills <paramref name="result"/> with the newest result if one arrived since the last call, and returns true.
        /// Returns false otherwise; once the session is lost, the last result stays as it was with Stale set. Never
        /// blocks; allocates only when a map or overlay is larger than any before, or the label changes.
        /// </summary>
        public unsafe bool TryGetLatest(SaCamResult result)
        {
            var session = EnterSession();
            if (session is null)
            {
                if (result.Generation == Volatile.Read(ref _lostGeneration)) result.Stale = true;
                return false;
            }
            try
            {
                if (!session.Output.TryTake()) return false;
                result.ReadFrom(session.Region.Base + SharedLayout.OutputSlotOffset(session.Output.Own, session.InputCapacity, session.OutputCapacity), session.Generation);
                return true;
            }
            finally
            {
                Interlocked.Decrement(ref _inUse);
            }
        }

        private Session? EnterSession()
        {
            Interlocked.Increment(ref _inUse);
            var session = Volatile.Read(ref _session);
            if (session is null) Interlocked.Decrement(ref _inUse);
            return session;
        }

        // ---- The client thread: every blocking act lives below. ----

        private void Run()
        {
            var backoff = TimeSpan.FromMilliseconds(100);
            bool first = true;
            while (!_stopping)
            {
                try
                {
                    _state = first ? ClientState.Starting : ClientState.Reconnecting;
                    var (port, token) = FindOrStartServer();
                    Connect(port, token);
                    backoff = TimeSpan.FromMilliseconds(100);
                    first = false;
                    SessionLoop();
                }
                catch (FatalClientException e)
                {
                    _lastError = e.Message;
                    _state = ClientState.Failed;
                    LoseSession();
                    StopOwnedServer();
                    return;
                }
                catch (Exception e) when (!_stopping)
                {
                    _lastError = e.Message;
                    LoseSession();
                    if (e is ServerHungException) StopOwnedServer();
                    _stats.Reconnects++;
                    first = false;
                    _state = ClientState.Reconnecting;
                    _wake.WaitOne(backoff);
                    // An attached server may come back at any time: try twice a second. One this client started is
                    // restarted at once; repeated failures back off to 5 s.
                    backoff = TimeSpan.FromMilliseconds(Math.Min(_options.AttachPort is null ? 5000 : 500, backoff.TotalMilliseconds * 2));
                }
                catch (Exception) when (_stopping)
                {
                    break;
                }
            }
            LoseSession();
            if (!_options.KeepServerAlive) StopOwnedServer(wait: false);
            _state = ClientState.Stopped;
        }

        private (int Port, string Token) FindOrStartServer()
        {
            if (_options.AttachPort is int port) return (port, _options.Token ?? "");
            if (_server is not null && !_server.HasExited && ServerProcessId != 0 && _serverPort != 0) return (_serverPort, _token);
            if (_options.ServerStateFile is string stateFile && TryReadServerState(stateFile, out var state)) return state;
            return StartServer();
        }

        private int _serverPort;
        private string _token = "";

        private (int Port, string Token) StartServer()
        {
            StopOwnedServer();
            var path = _options.ServerPath;
            if (string.IsNullOrEmpty(path)) throw new FatalClientException("No server: set ServerPath to the `sacam` executable (installed by build/install.sh), or AttachPort to a running `sacam serve`.");
            if (!File.Exists(path)) throw new FatalClientException($"The server '{path}' does not exist: install it (build/install.sh in the SaCam.Realtime repository, or a `dotnet publish` of src/SaCam.Cli) or correct ServerPath.");
            _token = NewToken();
            bool viaDotnet = path!.EndsWith(".dll", StringComparison.OrdinalIgnoreCase);
            var args = new StringBuilder();
            if (viaDotnet) args.Append(Quote(path)).Append(' ');
            args.Append("serve --parent-pid ").Append(Process.GetCurrentProcess().Id).Append(" --idle-exit ").Append(_options.IdleExitSeconds);
            if (_options.SharedMemoryDirectory is string dir) args.Append(" --shm-dir ").Append(Quote(dir));
            foreach (var a in _options.ServerArguments) args.Append(' ').Append(Quote(a));
            var start = new ProcessStartInfo(viaDotnet ? "dotnet" : path, args.ToString())
            {
                UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = false, CreateNoWindow = true,
            };
            start.Environment[Protocol.TokenVariable] = _token;
            Process process;
            try
            {
                process = Process.Start(start) ?? throw new FatalClientException($"The server '{path}' did not start.");
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                throw new FatalClientException($"The server '{path}' cannot be started ({e.Message}): is it an executable for this machine?");
            }
            _server = process;
            ServerProcessId = process.Id;
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                lock (_serverErrorLines)
                {
                    _serverErrorLines.Enqueue(e.Data);
                    while (_serverErrorLines.Count > 8) _serverErrorLines.Dequeue();
                }
            };
            process.BeginErrorReadLine();
            _serverPort = ReadReadyLine(process, path);
            if (_options.ServerStateFile is string stateFile) WriteServerState(stateFile, _serverPort, process.Id, _token);
            return (_serverPort, _token);
        }

        /// <summary>Waits (on this thread) for "SACAM-SERVE 1 ready port=P pid=Q"; a server that exits first, or
        /// prints another protocol version, is reported with what it said.</summary>
        private int ReadReadyLine(Process process, string path)
        {
            var clock = Stopwatch.StartNew();
            var reading = process.StandardOutput.ReadLineAsync();
            while (!_stopping)
            {
                if (reading.Wait(100))
                {
                    var line = reading.Result;
                    if (line is null)
                        throw new FatalClientException($"The server '{path}' exited before it was ready: {ServerErrors()}");
                    if (line.StartsWith(Protocol.ReadyLinePrefix + " ", StringComparison.Ordinal))
                    {
                        var parts = line.Split(' ');
                        if (parts.Length < 2 || parts[1] != Protocol.Version.ToString())
                            throw new FatalClientException($"The server '{path}' speaks protocol {(parts.Length > 1 ? parts[1] : "?")}; this client speaks {Protocol.Version}. Use a server and a client of the same release.");
                        foreach (var part in parts)
                            if (part.StartsWith("port=", StringComparison.Ordinal) && int.TryParse(part.Substring(5), out int port)) return port;
                    }
                    reading = process.StandardOutput.ReadLineAsync();
                }
                if (clock.Elapsed > _options.StartTimeout)
                    throw new FatalClientException($"The server '{path}' printed no ready line within {_options.StartTimeout.TotalSeconds:F0} s: {ServerErrors()}");
            }
            throw new OperationCanceledException();
        }

        private string ServerErrors()
        {
            lock (_serverErrorLines) return _serverErrorLines.Count == 0 ? "(nothing on stderr)" : string.Join(" | ", _serverErrorLines);
        }

        private void Connect(int port, string token)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveTimeout = 5000, SendTimeout = 5000 };
            try
            {
                var connecting = socket.BeginConnect(new IPEndPoint(IPAddress.Loopback, port), null, null);
                if (!connecting.AsyncWaitHandle.WaitOne(2000)) throw new IOException($"No answer on 127.0.0.1:{port}.");
                socket.EndConnect(connecting);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
            _socket = socket;
            var hello = new HelloMessage
            {
                Token = token, MaxWidth = _options.MaxWidth, MaxHeight = _options.MaxHeight, WantOverlay = _options.WantOverlay, Transport = _options.Transport,
            };
            Send(_small, hello.Write(_small));
            _state = ClientState.Loading;
            _serverReady = false;
        }

        private unsafe void SessionLoop()
        {
            var socket = _socket!;
            long lastBeat = -1;
            var beatClock = Stopwatch.StartNew();
            var messageClock = Stopwatch.StartNew();
            while (!_stopping)
            {
                _wake.WaitOne(2);
                var session = Volatile.Read(ref _session);
                if (Interlocked.Exchange(ref _doorbell, 0) == 1 && session is not null) Ring(session);
                int w = Interlocked.Exchange(ref _resizeWidth, 0), h = Interlocked.Exchange(ref _resizeHeight, 0);
                if (w > 0 && h > 0) RequestResize(w, h);
                while (socket.Poll(0, SelectMode.SelectRead))
                {
                    ReadMessage(socket);
                    messageClock.Restart();
                }
                session = Volatile.Read(ref _session);
                if (session is not null && session.Transport == Transport.SharedMemory)
                {
                    long beat = Fields.I64(session.Region.Base, SharedLayout.HeartbeatOffset);
                    if (beat != lastBeat)
                    {
                        lastBeat = beat;
                        beatClock.Restart();
                    }
                    else if (beatClock.Elapsed > _options.HeartbeatTimeout)
                        throw new ServerHungException($"The server's heartbeat stopped for {_options.HeartbeatTimeout.TotalSeconds:F1} s.");
                }
                else if (messageClock.Elapsed > _options.HeartbeatTimeout + TimeSpan.FromSeconds(1) && _serverReady)
                {
                    throw new ServerHungException($"The server sent nothing for {messageClock.Elapsed.TotalSeconds:F1} s.");
                }
                if (_server is not null && _server.HasExited && _options.AttachPort is null)
                    throw new IOException($"The server exited (code {_server.ExitCode}): {ServerErrors()}");
            }
        }

        /// <summary>Tells the server a frame is waiting: a doorbell (shared memory), or the frame itself (TCP).</summary>
        private unsafe void Ring(Session session)
        {
            if (session.Transport == Transport.SharedMemory)
            {
                Protocol.WriteHeader(_small, MessageType.Doorbell, 1);
                _small[Protocol.HeaderBytes] = 1;
                Send(_small, Protocol.HeaderBytes + 1);
                return;
            }
            if (!session.LocalInput.TryTake()) return;
            byte* slot = session.Region.Base + SharedLayout.InputSlotOffset(session.LocalInput.Own, session.InputCapacity);
            int bytes = SharedLayout.InputHeaderBytes + Fields.I32(slot, SharedLayout.InStride) * Fields.I32(slot, SharedLayout.InHeight);
            Protocol.WriteHeader(_header, MessageType.Frame, bytes);
            Send(_header, Protocol.HeaderBytes);
            SendAll(new ReadOnlySpan<byte>(slot, bytes));
        }

        private void RequestResize(int width, int height)
        {
            var w = new FieldWriter(_small, Protocol.HeaderBytes);
            w.I32(Math.Max(width, _options.MaxWidth));
            w.I32(Math.Max(height, _options.MaxHeight));
            Protocol.WriteHeader(_small, MessageType.Resize, w.Position - Protocol.HeaderBytes);
            Send(_small, w.Position);
        }

        private unsafe void ReadMessage(Socket socket)
        {
            ReceiveExactly(socket, _header, Protocol.HeaderBytes);
            var (type, length) = Protocol.ReadHeader(_header);
            if (length < 0 || length > Protocol.MaxMessageBytes) throw new IOException($"The server sent a message of {length} bytes: not this protocol.");
            if (_receive.Length < length) _receive = new byte[Math.Max(length, _receive.Length * 2)];
            ReceiveExactly(socket, _receive, length);
            var payload = new ReadOnlySpan<byte>(_receive, 0, length);
            switch (type)
            {
                case MessageType.Status:
                    StatusMessage.Read(payload, _status);
                    _progress = _status.Progress;
                    if (_status.Status == ServerStatus.Failed) throw new FatalClientException($"The server cannot explain: {_status.Text}");
                    _serverReady = _status.Status == ServerStatus.Ready;
                    if (_serverReady && Volatile.Read(ref _session) is not null) _state = ClientState.Ready;
                    else if (!_serverReady) _state = ClientState.Loading;
                    break;
                case MessageType.Attach:
                    Attach(AttachMessage.Read(payload));
                    break;
                case MessageType.Result:
                    StoreResult(payload);
                    break;
                case MessageType.Stats:
                    StatsMessage.Read(payload, _serverStats);
                    _stats.ServerReceived = _serverStats.FramesReceived;
                    _stats.ServerExplained = _serverStats.FramesExplained;
                    _stats.ServerDropped = _serverStats.FramesDropped;
                    _stats.ServerExplainMs = _serverStats.ExplainMs;
                    break;
                case MessageType.Error:
                    var reader = new FieldReader(payload);
                    bool fatal = reader.I32() != 0;
                    string text = reader.String();
                    if (fatal) throw new FatalClientException(text);
                    throw new IOException(text);
                case MessageType.Bye:
                    throw new IOException("The server ended the session.");
            }
        }

        private void Attach(AttachMessage attach)
        {
            var previous = Interlocked.Exchange(ref _session, null);
            WaitUntilUnused();
            previous?.Dispose();
            SharedRegion region = attach.Transport == Transport.SharedMemory
                ? SharedRegion.Map(attach.Path, attach.TotalBytes)
                : SharedRegion.Local(attach.InputCapacity, attach.OutputCapacity);
            Volatile.Write(ref _session, new Session(region, attach, attach.Transport));
            if (_serverReady) _state = ClientState.Ready;
        }

        private unsafe void StoreResult(ReadOnlySpan<byte> payload)
        {
            var session = Volatile.Read(ref _session);
            if (session is null || payload.Length > SharedLayout.OutputHeaderBytes + session.OutputCapacity) return;
            byte* slot = session.Region.Base + SharedLayout.OutputSlotOffset(session.LocalOutput.Own, session.InputCapacity, session.OutputCapacity);
            payload.CopyTo(new Span<byte>(slot, payload.Length));
            session.LocalOutput.Publish();
        }

        private void LoseSession()
        {
            var previous = Interlocked.Exchange(ref _session, null);
            if (previous is not null) Volatile.Write(ref _lostGeneration, previous.Generation);
            WaitUntilUnused();
            previous?.Dispose();
            _socket?.Dispose();
            _socket = null;
            _serverReady = false;
        }

        /// <summary>The frame loop holds a session for a copy at most; wait for it to let go before unmapping.</summary>
        private void WaitUntilUnused()
        {
            var spin = new SpinWait();
            while (Volatile.Read(ref _inUse) != 0) spin.SpinOnce();
        }

        /// <param name="wait">Wait (up to 1 s) for it to be gone: on the client thread before a restart, so that the
        /// next server does not meet the old one's files; never in Dispose, which must return within 200 ms.</param>
        private void StopOwnedServer(bool wait = true)
        {
            var server = _server;
            _server = null;
            ServerProcessId = 0;
            _serverPort = 0;
            if (server is null) return;
            try
            {
                if (!server.HasExited)
                {
                    server.Kill();
                    if (wait) server.WaitForExit(1000);
                }
            }
            catch (InvalidOperationException) { }
            catch (System.ComponentModel.Win32Exception) { }
            server.Dispose();
            if (_options.ServerStateFile is string stateFile) TryDelete(stateFile);
        }

        private void Send(byte[] buffer, int count) => SendAll(new ReadOnlySpan<byte>(buffer, 0, count));

        private void SendAll(ReadOnlySpan<byte> bytes)
        {
            var socket = _socket ?? throw new IOException("Not connected.");
            while (bytes.Length > 0)
            {
                int sent = socket.Send(bytes);
                if (sent <= 0) throw new IOException("The server closed the connection.");
                bytes = bytes.Slice(sent);
            }
        }

        private static void ReceiveExactly(Socket socket, byte[] buffer, int count)
        {
            int done = 0;
            while (done < count)
            {
                int read = socket.Receive(buffer, done, count - done, SocketFlags.None);
                if (read <= 0) throw new IOException("The server closed the connection.");
                done += read;
            }
        }

        private static string NewToken()
        {
            var bytes = new byte[24];
            using (var random = RandomNumberGenerator.Create()) random.GetBytes(bytes);
            return Convert.ToBase64String(bytes).Replace('+', '-').Replace('/', '_').TrimEnd('=');
        }

        private static string Quote(string argument) =>
            argument.Length > 0 && argument.IndexOfAny(new[] { ' ', '"', '\t' }) < 0 ? argument : "\"" + argument.Replace("\"", "\\\"") + "\"";

        private static bool TryReadServerState(string file, out (int Port, string Token) state)
        {
            state = default;
            try
            {
                if (!File.Exists(file)) return false;
                var parts = File.ReadAllText(file).Split(' ');
                if (parts.Length != 3 || !int.TryParse(parts[0], out int port) || !int.TryParse(parts[1], out int pid)) return false;
                using var process = Process.GetProcessById(pid);
                if (process.HasExited) return false;
                state = (port, parts[2]);
                return true;
            }
            catch (Exception e) when (e is IOException or ArgumentException or InvalidOperationException or UnauthorizedAccessException)
            {
                return false;
            }
        }

        private static void WriteServerState(string file, int port, int pid, string token)
        {
            var dir = Path.GetDirectoryName(Path.GetFullPath(file));
            if (dir is not null) Directory.CreateDirectory(dir);
            File.WriteAllText(file, $"{port} {pid} {token}");
        }

        private static void TryDelete(string file)
        {
            try { File.Delete(file); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }

        /// <summary>
        /// Stops within about 200 ms: the client thread is woken, its socket closed (a blocked read returns), and it
        /// is waited for no longer than that; a server this client started is killed unless KeepServerAlive.
        /// </summary>
        public void Dispose()
        {
            if (_stopping) return;
            _stopping = true;
            _wake.Set();
            try { _socket?.Close(); } catch (ObjectDisposedException) { }
            _thread?.Join(200);
            if (!_options.KeepServerAlive && (_thread is null || !_thread.IsAlive)) StopOwnedServer(wait: false);
            else if (!_options.KeepServerAlive) try { _server?.Kill(); } catch (InvalidOperationException) { }
            _state = ClientState.Stopped;
        }

        /// <summary>A mapped (or local) region and the triple buffers the two threads use on it.</summary>
        private sealed unsafe class Session : IDisposable
        {
            public readonly SharedRegion Region;
            public readonly long Generation;
            public readonly int InputCapacity, OutputCapacity;
            public readonly Transport Transport;
            // The frame loop writes inputs and reads outputs...
            public TripleBuffer Input, Output;
            // ...and with the TCP transport the client thread reads inputs and writes outputs on the local copy.
            public TripleBuffer LocalInput, LocalOutput;

            public Session(SharedRegion region, AttachMessage attach, Transport transport)
            {
                Region = region;
                Generation = attach.Generation;
                InputCapacity = attach.InputCapacity;
                OutputCapacity = attach.OutputCapacity;
                Transport = transport;
                Input = new TripleBuffer((int*)(region.Base + SharedLayout.InputStateOffset), writer: true);
                Output = new TripleBuffer((int*)(region.Base + SharedLayout.OutputStateOffset), writer: false);
                LocalInput = new TripleBuffer((int*)(region.Base + SharedLayout.InputStateOffset), writer: false);
                LocalOutput = new TripleBuffer((int*)(region.Base + SharedLayout.OutputStateOffset), writer: true);
            }

            public void Dispose() => Region.Dispose();
        }

        private sealed class FatalClientException : Exception
        {
            public FatalClientException(string message) : base(message) { }
        }

        private sealed class ServerHungException : IOException
        {
            public ServerHungException(string message) : base(message) { }
        }
    }
}
