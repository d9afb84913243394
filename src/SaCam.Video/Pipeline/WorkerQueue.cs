using System.Collections.Concurrent;
using System.Reactive.Linq;

namespace SaCam.Video.Pipeline;

/// <summary>
/// Hands items from the producer's thread to a worker thread of its own through a bounded queue: the producer waits
/// for room, so every item arrives, in order, with bounded memory (exact processing). Where the newest item must win
/// instead (live video), the pipeline uses <see cref="NewestWins{T}"/>. This is where the pipeline's threads are
/// decided, in plain sight of the composition.
/// </summary>
public static class WorkerQueue
{
    /// <param name="onDiscarded">Called for items still queued when the subscription is disposed.</param>
    public static IObservable<T> ObserveOnWorker<T>(this IObservable<T> source, string name, int capacity, Action<T>? onDiscarded = null) =>
        Observable.Create<T>(observer =>
        {
            var queue = new BlockingCollection<T>(new ConcurrentQueue<T>(), Math.Max(1, capacity));
            var stop = new CancellationTokenSource();
            Exception? failure = null;

            var worker = new Thread(() =>
            {
                try
                {
                    foreach (var item in queue.GetConsumingEnumerable(stop.Token)) observer.OnNext(item);
                    if (failure is not null) observer.OnError(failure);
                    else observer.OnCompleted();
                }
                catch (OperationCanceledException) { }
                catch (Exception e) { observer.OnError(e); }
            })
            { IsBackground = true, Name = $"stage: {name}" };
            worker.Start();

            var subscription = source.Subscribe(
                item =>
                {
                    try { queue.Add(item, stop.Token); }
                    catch (OperationCanceledException) { onDiscarded?.Invoke(item); }
                },
                error => { failure = error; queue.CompleteAdding(); },
                () => queue.CompleteAdding());

            return () =>
            {
                subscription.Dispose();
                stop.Cancel();
                if (Thread.CurrentThread != worker) worker.Join(TimeSpan.FromSeconds(30));
                while (queue.TryTake(out var left)) onDiscarded?.Invoke(left);
            };
        });
}
