using SaCam.App.Building;
using System.Net;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using System.Text;
using SaCam.Client;
using SaCam.Core.Methods;
using SaCam.Core.Models;
using SaCam.Core.Targets;
using SaCam.Video.Overlays;

namespace SaCam.Serve;

/// <summary>How `sacam serve` runs.</summary>
public sealed record ServeOptions
{
    /// <summary>0: any free port (the ready line says which).</summary>
    public int Port { get; init; }
    /// <summary>Exit when this process (the engine that started the server) is gone.</summary>
    public int? ParentPid { get; init; }
    /// <summary>Exit after this long without a session (0: never).</summary>
    public TimeSpan IdleExit { get; init; } = TimeSpan.FromMinutes(5);
    public string? SharedMemoryDirectory { get; init; }
    /// <summary>Every session must present this token (constant-time compare).</summary>
    public required string Token { get; init; }
    public int MaxSessions { get; init; } = 4;
    /// <summary>For tests: wait this long before loading the model (a slow load, seen from the client).</summary>
    public TimeSpan DebugLoadDelay { get; init; }
}

/// <summary>Loads the model, reporting progress in [0, 1].</summary>
/// <summary>Loads what every session explains with (the model, shared; a fresh explainer per session: a per-stream
/// method's caches belong to one stream), reporting progress in [0, 1].</summary>
public delegate LoadedStream ModelLoader(IProgress<float> progress, CancellationToken cancellation);

/// <summary>
/// `sacam serve`: listens on 127.0.0.1 only, loads the model (sessions that connect meanwhile see its progress), and
/// only then gives the ready line, so that a model that cannot be loaded is an error on stderr and a non-zero exit,
/// not a "ready" server that tells only its clients. Serves sessions until its parent process is gone or it has been
/// idle too long. One model for all sessions, explained one frame at a time (they share the CPU anyway). Nothing a
/// client sends and nothing a session throws ends the process: each session ends on its own.
/// </summary>
public sealed class ExplainerServer : IDisposable
{
    private readonly ServeOptions _options;
    private readonly ModelLoader _loader;
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<ServerSession> _sessions = [];
    private readonly object _explainLock = new();
    private Thread? _acceptThread, _heartbeatThread;
    private long _generation = RandomNumberGenerator.GetInt32(int.MaxValue);
    private DateTime _idleSince = DateTime.UtcNow;
    private readonly ManualResetEventSlim _loadDone = new();
    private ExceptionDispatchInfo? _loadFailure;

    public ExplainerServer(ServeOptions options, ModelLoader loader)
    {
        _options = options;
        _loader = loader;
        _listener = new TcpListener(IPAddress.Loopback, options.Port);
    }

    public int Port { get; private set; }
    internal ServeOptions Options => _options;
    internal object ExplainLock => _explainLock;
    internal CancellationToken Stopping => _stop.Token;

    /// <summary>The model once loaded; null while loading; <see cref="LoadError"/> when it failed.</summary>
    internal volatile LoadedStream? Model;
    internal volatile string? LoadError;
    internal volatile float LoadProgress;

    /// <summary>Why the server stopped (for its last stderr line).</summary>
    public string? ExitReason { get; private set; }

    /// <summary>
    /// Listens, loads the model, and returns the ready line to print. A model that cannot be loaded throws the
    /// loader's own exception (its one-line message is what the user reads; CliRunner.Guard gives it its exit code)
    /// before any ready line exists; a port that cannot be opened throws an <see cref="IOException"/> naming it.
    /// Sessions that connect while the model loads (a fixed --port) see its progress. <paramref name="stop"/> cancels
    /// the wait for the load (OperationCanceledException).
    /// </summary>
    public string Start(CancellationToken stop = default)
    {
        SharedFile.SweepDeadServers(_options.SharedMemoryDirectory);
        Listen();
        new Thread(LoadModel) { IsBackground = true, Name = "sacam serve load" }.Start();
        _acceptThread = new Thread(AcceptLoop) { IsBackground = true, Name = "sacam serve accept" };
        _acceptThread.Start();
        _heartbeatThread = new Thread(Heartbeat) { IsBackground = true, Name = "sacam serve heartbeat" };
        _heartbeatThread.Start();
        try { _loadDone.Wait(stop); }
        catch (OperationCanceledException)
        {
            _stop.Cancel();
            throw;
        }
        _loadFailure?.Throw();
        return $"{Protocol.ReadyLinePrefix} {Protocol.Version} ready port={Port} pid={Environment.ProcessId}";
    }

    /// <summary>Opens the port, or says in one line which port could not be opened and why (the bare SocketException
    /// read "internal error (SocketException)" without the port).</summary>
    private void Listen()
    {
        try
        {
            _listener.Start();
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new IOException($"port {_options.Port} on 127.0.0.1 is in use (another sacam serve?): stop what listens there, or give another --port (0: any free port)");
        }
        catch (SocketException e)
        {
            throw new IOException($"port {_options.Port} on 127.0.0.1 cannot be opened: {e.Message} (give another --port, or 0 for any free port)");
        }
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
    }

    private void LoadModel()
    {
        try
        {
            if (_options.DebugLoadDelay > TimeSpan.Zero)
                for (var waited = TimeSpan.Zero; waited < _options.DebugLoadDelay && !_stop.IsCancellationRequested; waited += TimeSpan.FromMilliseconds(100))
                {
                    LoadProgress = (float)(0.5 * waited / _options.DebugLoadDelay);
                    Thread.Sleep(100);
                }
            Model = _loader(new Progress(p => LoadProgress = p), _stop.Token);
            LoadProgress = 1;
        }
        catch (Exception e)
        {
            _loadFailure = ExceptionDispatchInfo.Capture(e);
            LoadError = e.Message;
        }
        finally
        {
            _loadDone.Set();
        }
    }

    private sealed class Progress(Action<float> report) : IProgress<float>
    {
        public void Report(float value) => report(value);
    }

    private void AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try { socket = _listener.AcceptSocket(); }
            catch (Exception) when (_stop.IsCancellationRequested) { return; }
            catch (SocketException) { continue; }
            try
            {
                lock (_sessions)
                {
                    if (_sessions.Count >= _options.MaxSessions)
                    {
                        ServerSession.Refuse(socket, $"this server takes {_options.MaxSessions} sessions at once");
                        continue;
                    }
                    var session = new ServerSession(this, socket, Interlocked.Increment(ref _generation));
                    _sessions.Add(session);
                    session.Start();
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or OutOfMemoryException or ThreadStartException)
            {
                // A connection that was gone before its session began, or no thread for it: that client only.
                Console.Error.WriteLine($"sacam serve: a connection was dropped ({e.GetType().Name}): {e.Message}");
                socket.Dispose();
            }
        }
    }

    internal void Ended(ServerSession session)
    {
        lock (_sessions)
        {
            _sessions.Remove(session);
            if (_sessions.Count == 0) _idleSince = DateTime.UtcNow;
        }
    }

    internal long NextGeneration() => Interlocked.Increment(ref _generation);

    /// <summary>Every session's heartbeat word moves ten times a second on this thread, whatever the explainer is doing:
    /// a client that sees it stand still knows the whole server is stuck (or stopped), not just busy.</summary>
    private void Heartbeat()
    {
        while (!_stop.IsCancellationRequested)
        {
            lock (_sessions)
                foreach (var s in _sessions) s.Beat();
            _stop.Token.WaitHandle.WaitOne(100);
        }
    }

    /// <summary>Blocks until the parent process is gone, the server has been idle for the idle timeout, or
    /// <paramref name="stop"/> fires; the reason is in <see cref="ExitReason"/>.</summary>
    public void WaitForExit(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            if (_options.ParentPid is int parent && !SharedFile.ProcessAlive(parent))
            {
                ExitReason = $"its parent process {parent} is gone";
                return;
            }
            int sessions;
            lock (_sessions) sessions = _sessions.Count;
            if (sessions == 0 && _options.IdleExit > TimeSpan.Zero && DateTime.UtcNow - _idleSince > _options.IdleExit)
            {
                ExitReason = $"no session for {_options.IdleExit.TotalSeconds:F0} s";
                return;
            }
            stop.WaitHandle.WaitOne(250);
        }
        ExitReason = "stopped";
    }

    /// <summary>The token check, in constant time.</summary>
    internal bool Accepts(string token) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(token), Encoding.UTF8.GetBytes(_options.Token));

    /// <summary>Ends every session (each removes its shared file), then removes the files of any session still in the
    /// middle of an explanation: the process is about to exit, and a file left behind would stay until the next server
    /// swept it. The model is freed only when no session can still be using it.</summary>
    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        List<ServerSession> sessions;
        lock (_sessions) sessions = [.. _sessions];
        bool allEnded = true;
        foreach (var s in sessions) allEnded &= s.Stop(TimeSpan.FromSeconds(5));
        SharedFile.RemoveAll();
        _acceptThread?.Join(500);
        if (allEnded) Model?.Dispose();
        _stop.Dispose();
        _loadDone.Dispose();
    }
}
