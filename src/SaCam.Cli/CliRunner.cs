using System.CommandLine;
using SaCam.Core.IO;
using SaCam.Video.Pipeline;

namespace SaCam.Cli;

/// <summary>
/// Runs a command and turns every failure into one line on stderr and an exit code; no .NET stack trace reaches the
/// user (SACAM_TRACE=1 adds it for a bug report).
///   0 done; 1 the run failed (a file that cannot be read, a model that cannot be loaded, a full disk);
///   2 usage: the command line is wrong in itself (a value out of range, an unknown method, layer or class, an output
///     that would destroy an input); 130 stopped by Ctrl+C or SIGTERM before the result was complete.
/// </summary>
public static class CliRunner
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int UsageError = 2;
    public const int Stopped = 130;

    public static int Run(RootCommand root, string[] args)
    {
        if (Parse(root, args) is not { } parse) return UsageError;
        try
        {
            return parse.Invoke();
        }
        catch (Exception e)
        {
            return Report(e);
        }
    }

    /// <summary>
    /// Parses the command line, or says on one line of stderr what is wrong with it and returns null (exit 2).
    /// Nothing here runs a command, so tests can feed it every option's worst values in process.
    /// </summary>
    public static ParseResult? Parse(RootCommand root, string[] args)
    {
        ParseResult parse;
        try
        {
            parse = root.Parse(args);
        }
        catch (InvalidOperationException e)
        {
            // A validator that read a value which failed to convert throws out of the parse; the message still names
            // the option and the text ("Cannot parse argument 'ten' for option '--port' ..."): a usage error, not a crash.
            Console.Error.WriteLine($"sacam: {OneLine(e.Message)}");
            return null;
        }
        if (parse.Errors.Count == 0) return parse;
        // One line however many problems: scripts read the first line of stderr, and a wrapped list looks like a trace.
        Console.Error.WriteLine($"sacam: {string.Join(" ", parse.Errors.Select(e => NumberErrors.Describe(e) ?? OneLine(e.Message)).Distinct())}");
        return null;
    }

    private static string OneLine(string text) => string.Join(" ", text.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));

    /// <summary>Runs an action with the exit-code contract above.</summary>
    public static int Guard(Func<int> action) => Guard(_ => action());

    /// <summary>Runs an action that takes a stop token: Ctrl+C or SIGTERM cancels it (perturbation methods stop
    /// between two batches, within a second), and the command exits with 130 saying what was not finished.</summary>
    public static int Guard(Func<CancellationToken, int> action)
    {
        using var stop = new CancellationTokenSource();
        StartupStop.Reset();
        using var signals = StopSignals.Register(() =>
        {
            stop.Cancel();
            StartupStop.OnSignal();
        });
        try
        {
            return action(stop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            Console.Error.WriteLine("sacam: stopped before the work was complete; nothing unfinished was written.");
            return Stopped;
        }
        catch (Exception e)
        {
            return Report(e);
        }
        finally
        {
            StartupStop.Reset();
        }
    }

    public static int ExitCodeFor(Exception e) => e switch
    {
        OutputRefusedException or ArgumentException or SaCam.Medical.DicomException => UsageError,
        SaCam.Fleet.FleetException { Permanent: true } => UsageError,
        _ => Failed,
    };

    private static int Report(Exception e)
    {
        var unwrapped = e is AggregateException { InnerExceptions.Count: 1 } a ? a.InnerException! : e;
        bool expected = IsExpected(unwrapped);
        Console.Error.WriteLine(expected
            ? $"sacam: {CliFlags.MessageOf(unwrapped)}"
            : $"sacam: internal error ({unwrapped.GetType().Name}): {unwrapped.Message} (set SACAM_TRACE=1 for the stack trace, and please report it)");
        if (Environment.GetEnvironmentVariable("SACAM_TRACE") == "1") Console.Error.WriteLine(unwrapped);
        return ExitCodeFor(unwrapped);
    }

    /// <summary>Bad input of any kind (files, models, layers, classes, tensors, devices, outputs): its message is
    /// meant for the user as it stands.</summary>
    private static bool IsExpected(Exception e) => e is Core.ModelLoadException or ArgumentException or IOException
        or InvalidDataException or Core.DeviceUnavailableException or Core.Onnx.Ops.UnsupportedOnnxException or InvalidOperationException
        or UnauthorizedAccessException or FormatException or Video.Sources.FrameSourceException or Plugins.PluginLoadException
        or OpenCvSharp.OpenCVException or Core.Engines.EngineUnavailableException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException
        or SaCam.Medical.DicomException or SaCam.Fleet.FleetException;
}
