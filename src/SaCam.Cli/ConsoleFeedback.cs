using SaCam.App.Building;
using SaCam.Core;
using SaCam.Core.Methods;
using SaCam.Core.Models;
using SaCam.Video.Pipeline;

namespace SaCam.Cli;

/// <summary>A run's feedback on the console: warnings and notes as lines on stderr, progress as one line rewritten in place.</summary>
public sealed class ConsoleFeedback : IRunFeedback
{
    public static readonly ConsoleFeedback Instance = new();

    public void Warning(string message) => Console.Error.WriteLine($"{Environment.NewLine}sacam: warning: {message}");
    public void Note(string message) => Console.Error.WriteLine($"sacam: note: {message}");
    public string NameOf(Setting setting) => CliFlags.Of(setting);
    public IProgress<DownloadProgress> Download => new ConsoleDownloadProgress();
}
