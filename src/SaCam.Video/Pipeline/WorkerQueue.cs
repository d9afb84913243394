using System.Collections.Concurrent;
using System.Reactive.Linq;

namespace SaCam.Video.Pipeline;

/// <summary>What a stage does when frames arrive faster than it works.</summary>
public enum Overflow
{
    /// <summary>Exact processing: the producer waits for room (every frame, in order, bounded memory).</summary>
    Wait,
    /// <summary>Live processing: the oldest waiting frame is dropped, the newest wins.</summary>
    DropOldest,
}

/// <summary>
/// Hands items from the producer's thread to a worker thread of its own through a bounded queue. This is where the
/// pipeline's threads and drop policy are decided, in plain sight of the composition.
/// </summary>
public static class WorkerQueue
{
    /// <param name="onDropped">Called for each item dropped under <see cref="Overflow.DropOldest"/> (count it, dispose it).</param>
    /// <param name="onDiscarded">Called for items still queued when the subscription is disposed.</param>
    public static IObservable<T> ObserveOnWorker<T>(this IObservable<T> source, string name, int capacity, Overflow overflow,
        Action<T>? onDropped = null, Action<T>? onDiscarded = null) =>
        Observable.Create<T>(observer =>
        {
            var queue = new BlockingCollection<T>(new ConcurrentQueue<T>(), Math.Max(1, capacity));
            var stop = new CancellationTokenSource();
            Exception? failure = null;
            var gate = new Lock();

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
                    if (overflow == Overflow.Wait)
                    {
                        try { queue.Add(item, stop.Token); }
                        catch (OperationCanceledException) { onDiscarded?.Invoke(item); }
                        return;
                    }
                    lock (gate)
                    {
                        while (queue.Count >= capacity && queue.TryTake(out var stale)) onDropped?.Invoke(stale);
                        queue.Add(item);
                    }
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
