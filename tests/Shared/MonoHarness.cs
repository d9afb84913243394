using System.Diagnostics;

namespace SaCam.TestSupport;

/// <summary>
/// samples/EngineClient and the client's sources compiled as Unity compiles scripts: the SDK's Roslyn, C# 9, against
/// Mono's own mscorlib, System and System.Core (only Debian's mono-runtime needed). Used by the Mono tests and the
/// serve benchmark.
/// </summary>
public static class MonoHarness
{
    public static bool MonoInstalled => File.Exists("/usr/bin/mono") && File.Exists("/usr/lib/mono/4.5/System.Core.dll");

    /// <summary>Compiles into <paramref name="output"/>; returns the compiler's messages (empty when it succeeded).</summary>
    public static string Compile(string repoRoot, string output)
    {
        string dotnet = Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "/usr/share/dotnet/dotnet";
        var sdk = Directory.GetDirectories(Path.Combine(Path.GetDirectoryName(dotnet)!, "sdk"))
            .Where(d => File.Exists(Path.Combine(d, "Roslyn", "bincore", "csc.dll"))).Order().LastOrDefault()
            ?? throw new InvalidOperationException($"no SDK with Roslyn/bincore/csc.dll beside {dotnet}");
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        const string mono = "/usr/lib/mono/4.5";
        var start = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { Path.Combine(sdk, "Roslyn", "bincore", "csc.dll"), "-nologo", "-nostdlib", "-noconfig", "-langversion:9", "-nullable:enable",
                     "-unsafe", "-warnaserror", "-optimize", "-target:exe", "-out:" + output,
                     "-r:" + Path.Combine(mono, "mscorlib.dll"), "-r:" + Path.Combine(mono, "System.dll"), "-r:" + Path.Combine(mono, "System.Core.dll") }
                     .Concat(Directory.GetFiles(Path.Combine(repoRoot, "plugins", "com.sacam.realtime", "Runtime", "Client"), "*.cs"))
                     .Append(Path.Combine(repoRoot, "samples", "EngineClient", "Program.cs")))
            start.ArgumentList.Add(a);
        using var csc = Process.Start(start)!;
        string said = csc.StandardOutput.ReadToEnd() + csc.StandardError.ReadToEnd();
        csc.WaitForExit();
        return csc.ExitCode == 0 ? "" : said.Length > 0 ? said : $"csc exited {csc.ExitCode}";
    }
}
