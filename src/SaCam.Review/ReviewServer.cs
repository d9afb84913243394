using System.Net;
using System.Net.Sockets;

namespace SaCam.Review;

/// <summary>
/// Serves a review folder on 127.0.0.1 only (never on other interfaces: footage under review may be confidential).
/// Read-only, GET of files under the folder; anything that resolves outside it is a 404.
/// </summary>
public sealed class ReviewServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly string _root;
    private readonly Task _loop;

    public ReviewServer(string folder, int port = 0)
    {
        _root = Path.GetFullPath(folder);
        if (!File.Exists(Path.Combine(_root, "index.html"))) throw new FileNotFoundException($"'{_root}' holds no review page (index.html); build one with: sacam review RUN.");
        if (port < 0 || port > 65535) throw new ArgumentOutOfRangeException(nameof(port), $"port {port} is not a TCP port");
        Port = port == 0 ? FreePort() : port;
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        try
        {
            _listener.Start();
        }
        catch (HttpListenerException e)
        {
            throw new IOException($"Cannot serve on 127.0.0.1:{Port}: {e.Message} (choose another --port).", e);
        }
        _loop = Task.Run(ServeAsync);
    }

    public int Port { get; }
    public Uri Address => new($"http://127.0.0.1:{Port}/");

    private static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return; // stopped
            }
            _ = Task.Run(() => Respond(context));
        }
    }

    private void Respond(HttpListenerContext context)
    {
        var response = context.Response;
        try
        {
            string relative = Uri.UnescapeDataString(context.Request.Url?.AbsolutePath ?? "/").TrimStart('/');
            if (relative.Length == 0) relative = "index.html";
            string path = Path.GetFullPath(Path.Combine(_root, relative));
            if (context.Request.HttpMethod != "GET" || !path.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal) || !File.Exists(path))
            {
                response.StatusCode = 404;
                return;
            }
            response.ContentType = Path.GetExtension(path) switch
            {
                ".html" => "text/html; charset=utf-8",
                ".js" => "text/javascript; charset=utf-8",
                ".png" => "image/png",
                ".jpg" => "image/jpeg",
                _ => "application/octet-stream",
            };
            using var file = File.OpenRead(path);
            response.ContentLength64 = file.Length;
            file.CopyTo(response.OutputStream);
        }
        catch (Exception e) when (e is IOException or HttpListenerException)
        {
            // the browser went away mid-response
        }
        finally
        {
            try { response.Close(); } catch (ObjectDisposedException) { }
        }
    }

    public void Dispose()
    {
        if (_listener.IsListening) _listener.Stop();
        _listener.Close();
        try { _loop.Wait(TimeSpan.FromSeconds(2)); } catch (AggregateException) { }
    }
}
