using System.Diagnostics;

namespace SaCam.TestSupport;

/// <summary>
/// samples/EngineClient and the client's sources compiled as Unity compiles scripts (the SDK's Roslyn, C# 9, against
/// Mono's own mscorlib, System and System.Core; only Debian's mono-runtime needed), by build/engine-client-mono.sh:
/// the one command the README gives users, so the tests that run the result also test that script. Used by the Mono
/// tests and the serve benchmark.
/// </summary>
public static class MonoHarness
{
    public static bool MonoInstalled => File.Exists("/usr/bin/mono") && File.Exists("/usr/lib/mono/4.5/System.Core.dll");

    /// <summary>Longest the script may take: one Roslyn compile of a few files, slow on a busy machine.</summary>
    private static readonly TimeSpan CompileLimit = TimeSpan.FromMinutes(5);

    /// <summary>Compiles into <paramref name="output"/>; returns the script's messages (empty when it succeeded).</summary>
    public static string Compile(string repoRoot, string output)
    {
        var (exit, said) = RunScript(repoRoot, output);
        return exit == 0 ? "" : said.Length > 0 ? said : $"build/engine-client-mono.sh exited {exit}";
    }

    /// <summary>Runs build/engine-client-mono.sh with the given arguments under bash; its exit code and all it said.</summary>
    public static (int Exit, string Said) RunScript(string repoRoot, params string[] arguments)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(repoRoot, "build", "engine-client-mono.sh"));
        foreach (var a in arguments) start.ArgumentList.Add(a);
        // The dotnet these tests run under (the script otherwise takes the one on PATH).
        if (Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet") start.Environment["DOTNET"] = p;
        using var script = Process.Start(start)!;
        var stdout = script.StandardOutput.ReadToEndAsync();
        var stderr = script.StandardError.ReadToEndAsync();
        if (!script.WaitForExit(CompileLimit))
        {
            script.Kill(entireProcessTree: true);
            return (-1, $"build/engine-client-mono.sh ran past {CompileLimit.TotalMinutes:F0} minutes");
        }
        script.WaitForExit();
        return (script.ExitCode, stdout.Result + stderr.Result);
    }
}
