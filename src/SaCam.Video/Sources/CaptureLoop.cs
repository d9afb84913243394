using System.Reactive.Linq;

namespace SaCam.Video.Sources;

/// <summary>Runs a blocking read loop on a dedicated thread as an observable (capture never runs on the caller's thread).</summary>
internal static class CaptureLoop
{
    /// <param name="readLoop">Pushes frames to the observer until the stream ends (return) or fails (throw); must stop when cancelled.</param>
    public static IObservable<VideoFrame> Run(string name, Action<IObserver<VideoFrame>, CancellationToken> readLoop) =>
        Observable.Create<VideoFrame>((observer, cancellation) =>
        {
            var done = new TaskCompletionSource();
            var thread = new Thread(() =>
            {
                try
                {
                    readLoop(observer, cancellation);
                    observer.OnCompleted();
                }
                catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
                {
                    observer.OnCompleted();
                }
                catch (Exception e)
                {
                    observer.OnError(e is FrameSourceException ? e : new FrameSourceException($"{name}: {e.Message}", e));
                }
                finally
                {
                    done.SetResult();
                }
            })
            { IsBackground = true, Name = $"capture: {name}" };
            thread.Start();
            return done.Task;
        });
}
