using System.Net;
using System.Net.Sockets;
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

/// <summary>What the server explains with: the model (loaded once, shared by every session), a fresh method per
/// session (sacam-rt keeps per-stream state), the target and layer, and how overlays are drawn.</summary>
public sealed class ServeModel : IDisposable
{
    public required IExplainableModel Model { get; init; }
    public required Func<ICamMethod?> CreateMethod { get; init; }
    public IExplanationTarget? Target { get; init; }
    public string? Layer { get; init; }
    public RenderOptions Render { get; init; } = new() { Hud = false };
    public IReadOnlyList<IDisposable> Owned { get; init; } = [];

    public void Dispose()
    {
        foreach (var d in Owned) d.Dispose();
        Model.Dispose();
    }
}

/// <summary>Loads the model, reporting progress in [0, 1].</summary>
public delegate ServeModel ModelLoader(IProgress<float> progress, CancellationToken cancellation);

/// <summary>
/// `sacam serve`: listens on 127.0.0.1 only, prints one ready line as soon as it listens (the model then loads in the
/// background, and sessions see its progress), and serves sessions until its parent process is gone or it has been
/// idle too long. One model for all sessions, explained one frame at a time (they share the CPU anyway).
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
    internal volatile ServeModel? Model;
    internal volatile string? LoadError;
    internal volatile float LoadProgress;

    /// <summary>Why the server stopped (for its last stderr line).</summary>
    public string? ExitReason { get; private set; }

    /// <summary>Listens, starts loading the model, and returns the ready line to print.</summary>
    public string Start()
    {
        SharedFile.SweepDeadServers(_options.SharedMemoryDirectory);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        new Thread(LoadModel) { IsBackground = true, Name = "sacam serve load" }.Start();
        _acceptThread = new Thread(AcceptLoop) { IsBackground = true, Name = "sacam serve accept" };
        _acceptThread.Start();
        _heartbeatThread = new Thread(Heartbeat) { IsBackground = true, Name = "sacam serve heartbeat" };
        _heartbeatThread.Start();
        return $"{Protocol.ReadyLinePrefix} {Protocol.Version} ready port={Port} pid={Environment.ProcessId}";
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
            LoadError = e.Message;
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

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        List<ServerSession> sessions;
        lock (_sessions) sessions = [.. _sessions];
        foreach (var s in sessions) s.Dispose();
        _acceptThread?.Join(500);
        Model?.Dispose();
        _stop.Dispose();
    }
}
