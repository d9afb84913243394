using System.Diagnostics;

namespace SaCam.Tests;

/// <summary>The built `sacam` as a child process, its output collected as it comes (a full pipe would block it).</summary>
public sealed class CliProcess : IDisposable
{
    private readonly Process _process;
    private readonly System.Text.StringBuilder _out = new(), _err = new();

    private CliProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => { lock (_out) _out.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (_err) _err.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public static CliProcess Start(params string[] args)
    {
        var cli = Path.Combine(SharedData.RepoRoot, "src", "SaCam.Cli", "bin", SharedData.BuildConfiguration, "net10.0", "linux-x64", "sacam.dll");
        if (!File.Exists(cli)) Assert.Fail($"{cli} is missing: build the solution.");
        // env resets SIGINT to its default: a test host started in the background ignores it, and a child inherits that.
        var start = new ProcessStartInfo("env") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "--default-signal=INT", "dotnet", cli }.Concat(args)) start.ArgumentList.Add(a);
        return new CliProcess(Process.Start(start)!);
    }

    public int Id => _process.Id;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;
    public string Output { get { lock (_out) return _out.ToString(); } }
    public string Error { get { lock (_err) return _err.ToString(); } }

    public bool WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout)) return false;
        _process.WaitForExit(); // drains the output readers
        return true;
    }

    public void Kill() => _process.Kill(entireProcessTree: true);

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }
}
