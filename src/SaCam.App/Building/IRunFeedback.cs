using SaCam.Core;
using SaCam.Core.Methods;
using SaCam.Core.Models;
using SaCam.Video.Pipeline;

namespace SaCam.App.Building;

/// <summary>
/// What a run tells whoever started it, whatever the front-end: warnings (a budget that buys nothing, a DICOM
/// oddity), notes (which engine runs), and progress. The CLI prints them on stderr; the server logs them and tells
/// its client; a host keeps them. The application layer never writes to a console itself.
/// </summary>
public interface IRunFeedback
{
    void Warning(string message);
    void Note(string message);

    /// <summary>How this front-end's users name a setting, for messages from the core (the CLI: its flags).</summary>
    string NameOf(Setting setting) => SettingNames.Concept(setting);

    IProgress<DownloadProgress>? Download => null;
    IProgress<PipelineProgress>? Frames(long? expected) => null;
    IProgress<PerturbationProgress>? Perturbations(string label) => null;
}

/// <summary>Feedback that goes nowhere (tests, embedding programs that do not care).</summary>
public sealed class SilentFeedback : IRunFeedback
{
    public static readonly SilentFeedback Instance = new();
    public void Warning(string message) { }
    public void Note(string message) { }
}

/// <summary>Feedback collected in lists (hosts that show it later, tests that assert it).</summary>
public sealed class CollectedFeedback : IRunFeedback
{
    private readonly List<string> _warnings = [], _notes = [];
    private readonly Lock _gate = new();

    public IReadOnlyList<string> Warnings { get { lock (_gate) return _warnings.ToList(); } }
    public IReadOnlyList<string> Notes { get { lock (_gate) return _notes.ToList(); } }
    public event Action<string>? WarningRaised;

    public void Warning(string message)
    {
        lock (_gate) _warnings.Add(message);
        WarningRaised?.Invoke(message);
    }

    public void Note(string message) { lock (_gate) _notes.Add(message); }
}
