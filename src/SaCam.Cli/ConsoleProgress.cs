using System.Diagnostics;
using System.Globalization;
using SaCam.Core.Methods;
using SaCam.Core.Models;
using SaCam.Video.Pipeline;

namespace SaCam.Cli;

/// <summary>One progress line on stderr, rewritten in place at most four times a second.</summary>
public abstract class ConsoleProgressLine
{
    private readonly Stopwatch _sinceLast = Stopwatch.StartNew();
    private bool _wrote;
    private int _length;

    protected void Show(string text, bool force = false)
    {
        if (!force && _wrote && _sinceLast.ElapsedMilliseconds < 250) return;
        _sinceLast.Restart();
        Console.Error.Write($"\r{text.PadRight(_length)}");
        _length = text.Length;
        _wrote = true;
    }

    /// <summary>Replaces the progress line with a line that stays (a result), and starts a fresh progress line.</summary>
    public void Note(string text)
    {
        Console.Error.WriteLine(_wrote ? $"\r{text.PadRight(_length)}" : text);
        _wrote = false;
        _length = 0;
    }

    /// <summary>Ends the line (so the next output starts on its own).</summary>
    public void Finish()
    {
        if (_wrote) Console.Error.WriteLine();
        _wrote = false;
        _length = 0;
    }

    protected static string Seconds(double s) => s.ToString(s < 10 ? "F1" : "F0", CultureInfo.InvariantCulture) + " s";
}

/// <summary>Frames, fps and ETA of a video run.</summary>
public sealed class ConsoleFrameProgress : ConsoleProgressLine, IProgress<PipelineProgress>
{
    private readonly long? _total;

    /// <summary>Made when the pipeline is about to run: start-up is over, the pipeline watches the stop token.</summary>
    public ConsoleFrameProgress(long? total)
    {
        _total = total;
        StartupStop.End();
    }

    public void Report(PipelineProgress value)
    {
        string eta = _total is long t && value.Fps > 0 ? $" ETA {TimeSpan.FromSeconds((t - value.FramesDone) / value.Fps):mm\\:ss}" : "";
        string of = _total is long n ? $"/{n}" : "";
        Show(string.Create(CultureInfo.InvariantCulture, $"frames {value.FramesDone}{of}  {value.Fps:F1} fps{eta}"));
    }
}

/// <summary>The perturbed images of a slow method (Score-CAM, Group-CAM, SA-CAM), with the time left: they run for
/// tens of seconds on a CPU, and a silent terminal looks like a hang.</summary>
public sealed class ConsolePerturbationProgress : ConsoleProgressLine, IProgress<PerturbationProgress>
{
    /// <summary>Made when the explanation is about to run: start-up is over, the method watches the stop token.</summary>
    public ConsolePerturbationProgress(string label)
    {
        Label = label;
        StartupStop.End();
    }

    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public string Label { get; set; }

    public void Report(PerturbationProgress value)
    {
        double elapsed = _clock.Elapsed.TotalSeconds;
        string eta = value.Done > 0 && value.Done < value.Total ? $", about {Seconds(elapsed * (value.Total - value.Done) / value.Done)} left" : "";
        Show($"{Label}: {value.Done}/{value.Total} perturbed images ({Seconds(elapsed)}{eta})", force: value.Done == value.Total);
    }

    /// <summary>Shows what is being worked on now (the next method or image) and starts timing it; the line is
    /// replaced by the next one.</summary>
    public void Restart(string label)
    {
        Label = label;
        _clock.Restart();
        Show(label, force: true);
    }
}

/// <summary>A one-line download progress bar on stderr.</summary>
public sealed class ConsoleDownloadProgress : ConsoleProgressLine, IProgress<DownloadProgress>
{
    /// <summary>Made when a command asks for its model: start-up begins (a stop then ends the process, see <see cref="StartupStop"/>).</summary>
    public ConsoleDownloadProgress() => StartupStop.Begin();

    public void Report(DownloadProgress value)
    {
        if (value.Notice is not null)
        {
            Note($"sacam: {value.Notice}");
            return;
        }
        bool done = value.Total is long t && value.Received >= t;
        string text = value.Total is long total
            ? $"{Bar(value.Received / (double)total)} {value.Received / 1e6:F1}/{total / 1e6:F1} MB"
            : $"{value.Received / 1e6:F1} MB";
        Show($"downloading {text}", force: done);
        if (done) Finish();
    }

    private static string Bar(double fraction)
    {
        int filled = (int)Math.Round(Math.Clamp(fraction, 0, 1) * 30);
        return "[" + new string('#', filled) + new string('.', 30 - filled) + "]";
    }
}
