using SaCam.Cli;

namespace SaCam.Tests;

/// <summary>Runs `sacam ARGS` in process, as Program.cs wires it, and returns the exit code and both streams
/// (linked into the test projects that drive the CLI).</summary>
internal static class SacamInProcess
{
    public static (int Exit, string Out, string Err) Run(params string[] args)
    {
        var root = SacamCommands.Root();
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try { return (CliRunner.Run(root, args), stdout.ToString(), stderr.ToString()); }
        finally { Console.SetOut(oldOut); Console.SetError(oldErr); }
    }
}
