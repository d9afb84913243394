using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace SaCam.Tests;

/// <summary>
/// A private Orthanc (Debian's package, with its DICOMweb plugin) on free ports under a temporary folder, with basic
/// authentication and a checked called AE title, started as a plain process and stopped by the pid it started.
/// Also compiled into tests/SaCam.Benchmarks (the PACS suite).
/// </summary>
public sealed class PrivateOrthanc : IDisposable
{
    public const string Aet = "ORTHANC";
    public const string User = "sacam";
    /// <summary>A canary too: a password must never reach an output or the console.</summary>
    public const string Password = "CANARYPASS31";
    public const string Plugin = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so";

    private readonly Process _process;
    private readonly string _folder;

    public int HttpPort { get; }
    public int DicomPort { get; }
    public string DicomWebRoot => $"http://127.0.0.1:{HttpPort}/dicom-web";
    public HttpClient Rest { get; }

    public static bool Installed => OnPath("Orthanc") && File.Exists(Plugin);

    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Any(d => File.Exists(Path.Combine(d, program)));

    public PrivateOrthanc()
    {
        _folder = Directory.CreateTempSubdirectory("sacam-orthanc-").FullName;
        (HttpPort, DicomPort) = (FreePort(), FreePort());
        var config = new JsonObject
        {
            ["Name"] = "sacam-test", ["StorageDirectory"] = Path.Combine(_folder, "db"), ["IndexDirectory"] = Path.Combine(_folder, "db"),
            ["HttpPort"] = HttpPort, ["DicomPort"] = DicomPort, ["DicomAet"] = Aet, ["RemoteAccessAllowed"] = false,
            ["AuthenticationEnabled"] = true, ["RegisteredUsers"] = new JsonObject { [User] = Password },
            ["Plugins"] = new JsonArray(Plugin), ["DicomWeb"] = new JsonObject { ["Enable"] = true, ["Root"] = "/dicom-web/" },
            ["DicomAlwaysAllowStore"] = true, ["DicomAlwaysAllowGet"] = true, ["DicomCheckCalledAet"] = true,
        };
        string configFile = Path.Combine(_folder, "orthanc.json");
        File.WriteAllText(configFile, config.ToJsonString());
        var start = new ProcessStartInfo("Orthanc") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add($"--logdir={_folder}");
        start.ArgumentList.Add(configFile);
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        Rest = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{HttpPort}/"), Timeout = TimeSpan.FromSeconds(30) };
        Rest.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Password}")));
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited) throw new InvalidOperationException($"Orthanc exited at start (code {_process.ExitCode}); its log is in {_folder}.");
            try
            {
                if (Rest.GetAsync("system").Result.StatusCode == HttpStatusCode.OK) break;
            }
            catch (AggregateException) { }
            if (clock.Elapsed > TimeSpan.FromSeconds(30)) { Dispose(); throw new TimeoutException("Orthanc did not answer within 30 s."); }
            Thread.Sleep(200);
        }
    }

    /// <summary>A port nothing listens on now (also what a stopped server looks like).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public JsonNode Get(string path) => JsonNode.Parse(Rest.GetStringAsync(path).Result)!;

    /// <summary>Uploads files by DIMSE C-STORE with DCMTK's storescu.</summary>
    public void StoreScu(IEnumerable<string> files) =>
        DicomTestData.Tool("storescu", ["-aec", Aet, "127.0.0.1", DicomPort.ToString(System.Globalization.CultureInfo.InvariantCulture), .. files]);

    public void Dispose()
    {
        Rest.Dispose();
        try
        {
            if (!_process.HasExited) { _process.Kill(); _process.WaitForExit(10_000); }
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }
}
