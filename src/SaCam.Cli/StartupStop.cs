namespace SaCam.Cli;

/// <summary>
/// The start-up of a run: downloading and loading the model (and what the run builds after it). That work has no point at which
/// it could look at a stop token (a native import, an HTTP read waiting on a silent server), so a Ctrl+C or SIGTERM
/// during it would be ignored until the run had started, or until the download's idle timeout. Nothing is written
/// during start-up (outputs are only claimed, and the operating system drops those claims with the process), so a
/// stop then ends the process at once with 130. Start-up begins when a command asks for a model
/// (<see cref="ConsoleDownloadProgress"/>) and ends when its work begins (a frame or perturbation progress line):
/// from then on the work itself watches the stop token and closes its outputs.
/// </summary>
internal static class StartupStop
{
    private const int Idle = 0, StartingUp = 1, Running = 2;
    private static int _phase;

    /// <summary>Set by the program for the commands whose work ends the start-up with a progress line (explain,
    /// video). Off elsewhere: a fleet worker or a server never shows one, so a stop would always end them abruptly
    /// instead of letting them close their outputs.</summary>
    public static bool Enabled { get; set; }

    public static void Begin()
    {
        if (Enabled) Interlocked.CompareExchange(ref _phase, StartingUp, Idle);
    }

    public static void End() => Volatile.Write(ref _phase, Running);

    /// <summary>Back to idle: each command (in-process tests run several) starts with no phase.</summary>
    public static void Reset() => Volatile.Write(ref _phase, Idle);

    /// <summary>Called on a stop signal: during start-up, says so and ends the process with 130.</summary>
    public static void OnSignal()
    {
        if (Volatile.Read(ref _phase) != StartingUp) return;
        Console.Error.WriteLine();
        Console.Error.WriteLine("sacam: stopped during start-up (before any frame or image was explained); nothing was written.");
        Console.Error.Flush();
        // _exit, not Environment.Exit: the latter runs shutdown handlers and waits on the runtime (seconds with a
        // native library mid-load); there is nothing to flush or close, and the OS drops the output claims.
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) _exit(CliRunner.Stopped);
        Environment.Exit(CliRunner.Stopped);
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "_exit")]
    private static extern void _exit(int status);
}
