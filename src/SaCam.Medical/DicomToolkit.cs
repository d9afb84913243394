using System.Diagnostics;

namespace SaCam.Medical;

/// <summary>
/// DCMTK's programs (and GDCM's gdcmconv for JPEG 2000), found on PATH and run with argument lists. Their own
/// messages are cryptic ("I/O suspension or premature end of stream"); <see cref="Translate"/> says what they mean.
/// Messages never carry a path: medical paths hold patient names, so files are named by their place in the series.
/// </summary>
public sealed class DicomToolkit
{
    public const string DcmtkPackage = "dcmtk";
    public const string GdcmPackage = "libgdcm-tools";

    private readonly Func<string, string?> _find;

    public DicomToolkit(Func<string, string?>? find = null) => _find = find ?? FindOnPath;

    public static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, program)).FirstOrDefault(File.Exists);

    public string Require(string program, string package, string why) =>
        _find(program) ?? throw new DicomException($"{why} needs the program '{program}', which is not installed: apt-get install {package} (Debian/Ubuntu), brew install {package.Replace("libgdcm-tools", "gdcm")} (macOS).");

    public bool Has(string program) => _find(program) is not null;

    /// <summary>Runs a tool; a non-zero exit is a <see cref="DicomException"/> saying what it means for <paramref name="what"/>.</summary>
    public string Run(string program, string package, IEnumerable<string> arguments, string what)
    {
        var start = new ProcessStartInfo(Require(program, package, what)) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new DicomException($"{program} did not start for {what}.");
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new DicomException($"{what}: {Translate(stderr.Result)}");
        return stdout;
    }

    /// <summary>Runs a tool and returns its exit code with stdout and stderr together (for tools such as storescu
    /// whose log says more than their exit code).</summary>
    public (int Exit, string Output) RunCapturing(string program, string package, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(Require(program, package, program)) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new DicomException($"{program} did not start.");
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + "\n" + stderr.Result);
    }

    /// <summary>What a tool's error means, in words a reviewer can act on.</summary>
    public static string Translate(string toolMessage)
    {
        string m = toolMessage;
        if (m.Contains("premature end of stream", StringComparison.OrdinalIgnoreCase) || m.Contains("Premature end", StringComparison.OrdinalIgnoreCase))
            return "the file ends early or is not DICOM image data (truncated or corrupt)";
        if (m.Contains("no pixel data", StringComparison.OrdinalIgnoreCase)) return "it has no pixel data (a report or structured document, not an image)";
        if (m.Contains("unencapsulated representation", StringComparison.OrdinalIgnoreCase) || m.Contains("PhotometricInterpretation", StringComparison.Ordinal))
            return "its compression cannot be decoded by this tool (see the transfer syntax)";
        if (m.Contains("cannot select VOI window", StringComparison.OrdinalIgnoreCase)) return "it has no window of its own (use --window minmax or a preset)";
        if (m.Contains("file format", StringComparison.OrdinalIgnoreCase) || m.Contains("not a valid", StringComparison.OrdinalIgnoreCase) || m.Contains("DICM", StringComparison.Ordinal))
            return "it is not a DICOM file";
        // Keep the tool's first line, without anything that looks like a path.
        var first = m.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "unknown error";
        return string.Join(' ', first.Split(' ').Where(w => !w.Contains('/') && !w.Contains('\\')));
    }
}

/// <summary>A DICOM input cannot be read: the message says why, without paths or patient data.</summary>
public sealed class DicomException(string message) : Exception(message);
