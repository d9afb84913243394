using System.CommandLine;
using SaCam.Core;
using SaCam.Core.Onnx.Ops;

namespace SaCam.Cli;

/// <summary>Runs a command and turns every expected failure into one line on stderr and a non-zero exit code.</summary>
public static class CliRunner
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int UsageError = 2;

    public static int Run(RootCommand root, string[] args)
    {
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors) Console.Error.WriteLine($"sacam: {e.Message}");
            return UsageError;
        }
        try
        {
            return parse.Invoke();
        }
        catch (Exception e) when (IsUserFacing(e))
        {
            Console.Error.WriteLine($"sacam: {e.Message}");
            return Failed;
        }
    }

    /// <summary>
    /// Bad input of any kind (files, models, layers, classes, tensors, devices) is reported, not thrown as a stack
    /// trace. System.CommandLine wraps action exceptions, so they are unwrapped first.
    /// </summary>
    public static int Guard(Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (IsUserFacing(e))
        {
            Console.Error.WriteLine($"sacam: {e.Message}");
            return Failed;
        }
    }

    private static bool IsUserFacing(Exception e) => e is ModelLoadException or ArgumentException or FileNotFoundException
        or InvalidDataException or IOException or DeviceUnavailableException or UnsupportedOnnxException or InvalidOperationException
        or UnauthorizedAccessException or FormatException or Video.Sources.FrameSourceException or Plugins.PluginLoadException;
}
