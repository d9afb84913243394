namespace SaCam.Video.Pipeline;

/// <summary>
/// Newest wins: items are submitted from any thread without waiting; a worker thread of its own processes the newest
/// one each time it is free, and an item replaced before its turn is dropped (handed to the drop callback, which
/// counts and disposes it). Live video (<see cref="NewestFrameOperators.ExplainNewest"/>) and the in-process host
/// (<see cref="Host.ExplainerHost"/>) explain frames through it with the same <see cref="ExplainStep"/>; a server
/// session takes the newest frame from its shared triple buffer instead, and shares the step.
/// </summary>
public sealed class NewestWins<T> : IDisposable where T : class
{
    private readonly Func<T, CancellationToken, bool> _process;
    private readonly Action<T> _drop;
    private readonly Action<T> _discard;
    private readonly Action? _ended;
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly CancellationTokenSource _stop;
    private readonly Thread _worker;
    private T? _waiting;
    private bool _completing;
    private volatile bool _disposed;

    /// <param name="process">Processes one item on the worker thread (and owns it); returns whether to go on (false
    /// stops the worker, as a failure that ends the stream does).</param>
    /// <param name="drop">Gets each item replaced before its turn (or refused).</param>
    /// <param name="discard">Gets the item still waiting at disposal (default: <paramref name="drop"/>).</param>
    /// <param name="ended">Called once on the worker thread when it ends: after <see cref="Complete"/>, a
    /// <paramref name="process"/> that returned false, or <paramref name="cancellation"/>; not after <see cref="Dispose"/>.</param>
    /// <param name="cancellation">A stop: passed to <paramref name="process"/>, which ends between two batches.</param>
    public NewestWins(Func<T, CancellationToken, bool> process, Action<T> drop, Action? ended = null, string name = "newest wins",
        CancellationToken cancellation = default, Action<T>? discard = null)
    {
        _process = process;
        _drop = drop;
        _discard = discard ?? drop;
        _ended = ended;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        _worker = new Thread(Work) { IsBackground = true, Name = $"stage: {name}" };
        _worker.Start();
    }

    /// <summary>Takes ownership of the item and returns at once; an item still waiting is dropped. Refused (dropped)
    /// after <see cref="Complete"/> or <see cref="Dispose"/>.</summary>
    public void Submit(T item)
    {
        T? replaced;
        lock (_gate)
        {
            if (_disposed || _completing)
            {
                replaced = item;
            }
            else
            {
                replaced = _waiting;
                _waiting = item;
            }
        }
        if (replaced is not null) _drop(replaced);
        else _signal.Release();
    }

    /// <summary>No more items: the worker processes the one waiting, if any, then ends.</summary>
    public void Complete()
    {
        lock (_gate)
        {
            if (_completing) return;
            _completing = true;
        }
        _signal.Release();
    }

    private void Work()
    {
        try
        {
            while (true)
            {
                _signal.Wait(_stop.Token);
                T? item;
                bool completing;
                lock (_gate)
                {
                    item = _waiting;
                    _waiting = null;
                    completing = _completing; // read with the item: Submit refuses items once completing
                }
                if (item is not null && !_process(item, _stop.Token)) return;
                if (completing) return;
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Stopped or disposed: the item in hand ended between two batches.
        }
        finally
        {
            if (!_disposed) _ended?.Invoke();
        }
    }

    /// <summary>Stops the worker (the item in hand ends between two batches) and drops the waiting item.</summary>
    public void Dispose()
    {
        T? waiting;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            waiting = _waiting;
            _waiting = null;
        }
        if (waiting is not null) _discard(waiting);
        _stop.Cancel();
        if (Thread.CurrentThread != _worker) _worker.Join(TimeSpan.FromSeconds(30));
        _stop.Dispose();
        _signal.Dispose();
    }
}

/// <summary>Live video as an operator: frames in, explained frames out, the newest frame winning.</summary>
public static class NewestFrameOperators
{
    /// <summary>Explains the newest frame each time the explainer is free; frames replaced while it works are dropped
    /// (counted, disposed). The source ending or failing, a failed explanation or a stop ends the output after the
    /// frame in hand.</summary>
    public static IObservable<AnnotatedFrame> ExplainNewest(this IObservable<VideoFrame> frames, ExplainStep step, CancellationToken cancellation = default) =>
        System.Reactive.Linq.Observable.Create<AnnotatedFrame>(observer =>
        {
            Exception? sourceError = null, explainError = null;
            var worker = new NewestWins<VideoFrame>(
                (frame, stop) =>
                {
                    AnnotatedFrame annotated;
                    try { annotated = step.Explain(frame, stop); }
                    catch (Exception e) when (!(e is OperationCanceledException && stop.IsCancellationRequested))
                    {
                        explainError = e;
                        return false;
                    }
                    observer.OnNext(annotated);
                    return true;
                },
                step.Drop,
                () =>
                {
                    if (cancellation.IsCancellationRequested) observer.OnError(new OperationCanceledException(cancellation));
                    else if ((explainError ?? sourceError) is { } error) observer.OnError(error);
                    else observer.OnCompleted();
                },
                "explain", cancellation, discard: frame => frame.Dispose());
            var subscription = frames.Subscribe(worker.Submit, e => { sourceError = e; worker.Complete(); }, worker.Complete);
            return () =>
            {
                subscription.Dispose();
                worker.Dispose();
            };
        });
}
