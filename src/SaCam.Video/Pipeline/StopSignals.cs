using System.Runtime.InteropServices;

namespace SaCam.Video.Pipeline;

/// <summary>
/// How a long run learns that it should stop: Ctrl+C (SIGINT) and SIGTERM (kill, docker stop, systemd) both call
/// <c>stop</c> instead of ending the process, so the run can finish its sinks and leave playable files. Without the
/// SIGTERM half the runtime exits at once and an mp4 is left without its index.
/// </summary>
public static class StopSignals
{
    /// <summary>Calls <paramref name="stop"/> on SIGINT or SIGTERM until the returned registration is disposed.</summary>
    public static IDisposable Register(Action stop)
    {
        var registrations = new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM }
            .Select(signal => PosixSignalRegistration.Create(signal, context => { context.Cancel = true; stop(); }))
            .ToList();
        return new Registrations(registrations);
    }

    private sealed class Registrations(List<PosixSignalRegistration> all) : IDisposable
    {
        public void Dispose() => all.ForEach(r => r.Dispose());
    }
}
