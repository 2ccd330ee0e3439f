using System.Diagnostics;
using System.Threading.Tasks.Sources;
using AfXdp.Interop;

namespace AfXdp.Xsk;

/// <summary>Tuning of an <see cref="XskAsyncReceiver"/>.</summary>
public sealed record XskAsyncReceiverOptions
{
    /// <summary>Most descriptors one receive returns.</summary>
    public uint MaxBatch { get; init; } = 64;

    /// <summary>
    /// How long a receive polls the RX ring on the calling thread before it gives the thread back and
    /// waits for epoll: a packet that arrives within it costs no syscall and no thread hop. Zero waits at once.
    /// </summary>
    public TimeSpan SpinTime { get; init; } = TimeSpan.FromMicroseconds(50);
}

/// <summary>
/// Batch receive for applications that do not want a core spinning: <c>await receiver.ReceiveAsync()</c>
/// returns frames at once when the RX ring has them, else polls the ring for a short, bounded time
/// (<see cref="XskAsyncReceiverOptions.SpinTime"/>), then arms the socket on a shared epoll thread and
/// returns the thread. The wakeup continues the caller on the thread pool. One receive at a time;
/// steady state allocates nothing (the receiver is its own pooled <see cref="IValueTaskSource{T}"/> and
/// thread-pool work item).
/// </summary>
/// <example>
/// <code>
/// using var receiver = new XskAsyncReceiver(socket.Rx);
/// while (!token.IsCancellationRequested)
/// {
///     RxBatch batch = await receiver.ReceiveAsync(token);
///     foreach (RxFrame frame in batch)
///         Process(frame.Data);
///     batch.Recycle();     // frames back to the FILL ring, RX slots to the kernel
/// }
/// </code>
/// </example>
public sealed class XskAsyncReceiver : IValueTaskSource<RxBatch>, IThreadPoolWorkItem, IDisposable
{
    const int Idle = 0, Waiting = 1, Completing = 2;
    static readonly Action<object?> s_cancel = static state => ((XskAsyncReceiver)state!).Complete();

    readonly XskDoorbell _doorbell;
    readonly RxRing _rx;
    readonly uint _maxBatch;
    readonly long _spinTicks;
    readonly ulong _id;
    ManualResetValueTaskSourceCore<RxBatch> _core; // continuations run inline, on the pool thread of Execute
    CancellationToken _token;
    CancellationTokenRegistration _registration;
    int _state;
    int _disposed;

    /// <summary>Receives from <paramref name="rx"/> (an <see cref="RxSocket"/>'s or <see cref="RxTxSocket"/>'s ring).</summary>
    public XskAsyncReceiver(RxRing rx, XskAsyncReceiverOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(rx);
        options ??= new XskAsyncReceiverOptions();
        if (options.MaxBatch == 0 || options.MaxBatch > rx.Size)
            Throw.OutOfRange(nameof(options), $"XskAsyncReceiverOptions.MaxBatch = {options.MaxBatch}", $"a batch holds 1 to {rx.Size} descriptors (the RX ring's size).", "use e.g. 64.");
        if (options.SpinTime < TimeSpan.Zero)
            Throw.OutOfRange(nameof(options), $"XskAsyncReceiverOptions.SpinTime = {options.SpinTime}", "a spin time cannot be negative.", "use TimeSpan.Zero to wait at once.");
        _doorbell = rx.Doorbell;
        _rx = rx;
        _maxBatch = options.MaxBatch;
        _spinTicks = (long)(options.SpinTime.TotalSeconds * Stopwatch.Frequency);
        _id = XskEpoll.Shared.Add(this, _doorbell.Socket.Fd);
    }

    /// <summary>Times a receive found the ring empty after spinning and waited for epoll.</summary>
    public long Waits { get; private set; }

    /// <summary>
    /// The next batch of received descriptors (1 to MaxBatch). Completes synchronously when frames are
    /// there or arrive within the spin time. Give the batch back (<see cref="RxBatch.Recycle"/>,
    /// <see cref="RxBatch.Transmit"/> or <see cref="RxBatch.Release"/>) before the next receive.
    /// </summary>
    public ValueTask<RxBatch> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (Volatile.Read(ref _state) != Idle)
            throw new InvalidOperationException($"{this}: a receive is already pending; await it before the next.");
        if (TryTake(out RxBatch batch))
            return new ValueTask<RxBatch>(batch);
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled<RxBatch>(cancellationToken);
        long deadline = Stopwatch.GetTimestamp() + _spinTicks;
        while (Stopwatch.GetTimestamp() < deadline)
        {
            if (TryTake(out batch))
                return new ValueTask<RxBatch>(batch);
            Thread.SpinWait(8);
        }

        _core.Reset();
        _token = cancellationToken;
        Volatile.Write(ref _state, Waiting);
        if (cancellationToken.CanBeCanceled)
            _registration = cancellationToken.UnsafeRegister(s_cancel, this);
        if (!Arm())
            Complete();
        return new ValueTask<RxBatch>(this, _core.Version);
    }

    /// <summary>Ends a pending receive with <see cref="ObjectDisposedException"/>. Dispose the receiver before its socket.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        XskEpoll.Shared.Remove(_id, _doorbell.Socket.Fd);
        Complete();
    }

    /// <summary>Names the socket it receives from, for logs.</summary>
    public override string ToString() => $"XskAsyncReceiver({_doorbell.Owner})";

    RxBatch IValueTaskSource<RxBatch>.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<RxBatch>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<RxBatch>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    /// <summary>The epoll thread saw the socket readable.</summary>
    internal void OnReadable() => Complete();

    /// <summary>Readable, cancelled or disposed: whoever moves the state from Waiting first queues the completion.</summary>
    void Complete()
    {
        if (Interlocked.CompareExchange(ref _state, Completing, Waiting) == Waiting)
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    /// <summary>On a pool thread: the awaiting code continues here, inline.</summary>
    void IThreadPoolWorkItem.Execute()
    {
        RxBatch batch = default;
        if (_disposed == 0 && !_token.IsCancellationRequested && !TryTake(out batch))
        {
            // Readable but nothing to take (a wakeup for the FILL ring): wait again.
            Volatile.Write(ref _state, Waiting);
            if (!Arm() || _token.IsCancellationRequested)
                Complete();
            return;
        }
        _registration.Dispose();
        _registration = default;
        Volatile.Write(ref _state, Idle);
        if (_disposed != 0)
            _core.SetException(new ObjectDisposedException(ToString()));
        else if (_token.IsCancellationRequested)
            _core.SetException(new OperationCanceledException(_token));
        else
            _core.SetResult(batch);
    }

    bool Arm()
    {
        Waits++;
        _rx.Counters.Wakeups++;
        return XskEpoll.Shared.Arm(_id, _doorbell.Socket.Fd);
    }

    bool TryTake(out RxBatch batch)
    {
        uint count = _rx.Peek(_maxBatch, out uint index);
        if (count == 0)
        {
            batch = default;
            return false;
        }
        batch = _rx.Received(index, count);
        return !batch.IsEmpty;
    }
}
