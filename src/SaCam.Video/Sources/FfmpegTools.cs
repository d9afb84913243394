using System.Diagnostics;
using System.Globalization;

namespace SaCam.Video.Sources;

/// <summary>The <c>ffmpeg</c> and <c>ffprobe</c> programs (from PATH unless named).</summary>
public sealed class FfmpegTools(string ffmpeg, string ffprobe)
{
    public string Ffmpeg { get; } = ffmpeg;
    public string Ffprobe { get; } = ffprobe;

    /// <summary>The programs on PATH, or null when either is missing.</summary>
    public static FfmpegTools? FromPath()
    {
        string? ffmpeg = FindOnPath("ffmpeg"), ffprobe = FindOnPath("ffprobe");
        return ffmpeg is null || ffprobe is null ? null : new FfmpegTools(ffmpeg, ffprobe);
    }

    private static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .SelectMany(dir => new[] { Path.Combine(dir, program), Path.Combine(dir, program + ".exe") })
            .FirstOrDefault(File.Exists);

    /// <summary>Width, height and frame rate of the first video stream of <paramref name="url"/>.</summary>
    public (int Width, int Height, double? Fps) ProbeVideo(string url)
    {
        var (exit, output, error) = RunToEnd(Ffprobe, ["-v", "error", "-rw_timeout", "15000000", "-select_streams", "v:0",
            "-show_entries", "stream=width,height,avg_frame_rate", "-of", "csv=p=0", url], TimeSpan.FromSeconds(30));
        var fields = output.Trim().Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()?.Split(',') ?? [];
        if (exit != 0 || fields.Length < 2 || !int.TryParse(fields[0], out int w) || !int.TryParse(fields[1], out int h) || w <= 0 || h <= 0)
            throw new FrameSourceException($"Cannot open stream '{url}': ffprobe found no video in it ({FirstLine(error) ?? $"exit code {exit}"}).");
        return (w, h, fields.Length > 2 ? ParseRate(fields[2]) : null);
    }

    /// <summary>Starts decoding <paramref name="url"/> to raw BGR frames on the process's standard output, scaled to the
    /// probed size: raw frames carry no header, so a stream that changed resolution would otherwise shear every frame.</summary>
    internal DecoderProcess StartDecoder(string url, int width, int height) => new(Start(Ffmpeg, ["-nostdin", "-hide_banner", "-loglevel", "error",
        "-rw_timeout", "15000000", "-i", url, "-map", "0:v:0", "-vf", $"scale={width}:{height}", "-f", "rawvideo", "-pix_fmt", "bgr24", "pipe:1"]));

    private static Process Start(string program, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        return Process.Start(info) ?? throw new FrameSourceException($"Cannot start '{program}'.");
    }

    private static (int Exit, string Output, string Error) RunToEnd(string program, IEnumerable<string> arguments, TimeSpan timeout)
    {
        using var process = Start(program, arguments);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            return (-1, "", $"no answer within {timeout.TotalSeconds:F0} s");
        }
        return (process.ExitCode, output.Result, error.Result);
    }

    private static double? ParseRate(string rate)
    {
        var parts = rate.Trim().Split('/');
        if (parts.Length == 2 && double.TryParse(parts[0], CultureInfo.InvariantCulture, out double n) &&
            double.TryParse(parts[1], CultureInfo.InvariantCulture, out double d) && n > 0 && d > 0) return n / d;
        return null;
    }

    private static string? FirstLine(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
}

/// <summary>A running ffmpeg decoder: reads whole frames from its output, keeps the end of its error output.</summary>
internal sealed class DecoderProcess : IDisposable
{
    private readonly Process _process;
    private readonly Stream _frames;
    private readonly Queue<string> _errors = new();

    public DecoderProcess(Process process)
    {
        _process = process;
        _frames = process.StandardOutput.BaseStream;
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (_errors)
            {
                _errors.Enqueue(e.Data);
                if (_errors.Count > 5) _errors.Dequeue();
            }
        };
        process.BeginErrorReadLine();
    }

    /// <summary>Fills <paramref name="buffer"/> with one frame; false at the end of the stream (or a partial last frame).</summary>
    public bool ReadExactly(byte[] buffer)
    {
        int filled = 0;
        while (filled < buffer.Length)
        {
            int n;
            try { n = _frames.Read(buffer, filled, buffer.Length - filled); }
            catch (IOException) { return false; }
            catch (ObjectDisposedException) { return false; }
            if (n == 0) return false;
            filled += n;
        }
        return true;
    }

    public string? LastError()
    {
        // Once the process has exited, the argument-less WaitForExit also waits for its error output to drain.
        if (_process.WaitForExit(2000)) _process.WaitForExit();
        lock (_errors) return _errors.Count == 0 ? null : string.Join(" ", _errors);
    }

    public void Kill()
    {
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
    }

    public void Dispose()
    {
        Kill();
        _process.WaitForExit(2000);
        _process.Dispose();
    }
}
