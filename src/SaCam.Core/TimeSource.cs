using System.Diagnostics;

namespace SaCam.Core;

/// <summary>A monotonic clock in milliseconds. Budgeted computations read time through it so tests can control it.</summary>
public interface ITimeSource
{
    double NowMs { get; }
}

/// <summary>The real clock.</summary>
public sealed class StopwatchTimeSource : ITimeSource
{
    private static readonly Stopwatch Clock = Stopwatch.StartNew();
    public static StopwatchTimeSource Shared { get; } = new();
    public double NowMs => Clock.Elapsed.TotalMilliseconds;
}
