namespace SaCam.Video.Sources;

/// <summary>How long a live source waits before its n-th reconnect in a row: 200 ms, doubling each time.</summary>
internal static class Backoff
{
    public static TimeSpan Delay(int failure) => TimeSpan.FromMilliseconds(200 * Math.Pow(2, failure - 1));

    /// <summary>Waits before reconnect <paramref name="failure"/>; false when cancelled meanwhile (a Ctrl+C does not wait out the backoff).</summary>
    public static bool Wait(int failure, CancellationToken cancellation) => !cancellation.WaitHandle.WaitOne(Delay(failure));
}
