using System.Diagnostics;
using System.Threading.Tasks.Sources;
using AfXdp.Interop;
using AfXdp.Metrics;

namespace AfXdp.Xsk;

/// <summary>Received descriptors, in place on the RX ring: valid until released.</summary>
public readonly struct RxBatch
{
    readonly RxRing? _ring;

    internal RxBatch(RxRing ring, uint start, uint count)
    {
        _ring = ring;
        Start = start;
        Count = count;
    }

    /// <summary>The free-running RX ring index of the first descriptor.</summary>
    public uint Start { get; }

    public uint Count { get; }

    /// <summary>The <paramref name="i"/>-th descriptor of the batch.</summary>
    public ref readonly XdpDescriptor this[uint i] => ref _ring![Start + i];
}

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
/// using var receiver = new XskAsyncReceiver(socket);
/// while (!token.IsCancellationRequested)
/// {
///     RxBatch batch = await receiver.ReceiveAsync(token);
///     for (uint i = 0; i &lt; batch.Count; i++)
///         Process(socket.Umem.GetFrame(batch[i]));
///     receiver.Recycle(batch);     // frames back to the FILL ring, RX slots to the kernel
/// }
/// </code>
/// </example>
public sealed class XskAsyncReceiver : IValueTaskSource<RxBatch>, IThreadPoolWorkItem, IDisposable
{
    const int Idle = 0, Waiting = 1, Completing = 2;
    static readonly Action<object?> s_cancel = static state => ((XskAsyncReceiver)state!).Complete();
    static readonly long s_fillWaitTicks = Stopwatch.Frequency / 1000;

    readonly XskSocket _socket;
    readonly RxRing _rx;
    readonly FillRing _fill;
    readonly uint _maxBatch;
    readonly long _spinTicks;
    readonly ulong _id;
    readonly IDisposable _metrics;
    ManualResetValueTaskSourceCore<RxBatch> _core; // continuations run inline, on the pool thread of Execute
    CancellationToken _token;
    CancellationTokenRegistration _registration;
    int _state;
    int _disposed;

    public XskAsyncReceiver(XskSocket socket, XskAsyncReceiverOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(socket);
        options ??= new XskAsyncReceiverOptions();
        if (socket.Rx is null)
            Throw.Config($"XskAsyncReceiver({socket})", "the socket has no RX ring.", "create it with XskSocketConfig.RxRingSize > 0.");
        if (options.MaxBatch == 0 || options.MaxBatch > socket.Rx.Size)
            Throw.Config($"XskAsyncReceiverOptions.MaxBatch = {options.MaxBatch}", $"a batch holds 1 to {socket.Rx.Size} descriptors (the RX ring's size).", "use e.g. 64.");
        if (options.SpinTime < TimeSpan.Zero)
            Throw.Config($"XskAsyncReceiverOptions.SpinTime = {options.SpinTime}", "a spin time cannot be negative.", "use TimeSpan.Zero to wait at once.");
        _socket = socket;
        _rx = socket.Rx;
        _fill = socket.Fill;
        _maxBatch = options.MaxBatch;
        _spinTicks = (long)(options.SpinTime.TotalSeconds * Stopwatch.Frequency);
        _id = XskEpoll.Shared.Add(this, socket.Fd);
        _metrics = AfXdpMetrics.Track(socket, Counters);
    }

    /// <summary>What this receiver took (also published as metrics).</summary>
    public XskCounters Counters { get; } = new();

    /// <summary>Times a receive found the ring empty after spinning and waited for epoll.</summary>
    public long Waits { get; private set; }

    /// <summary>
    /// The next batch of received descriptors (1 to MaxBatch). Completes synchronously when frames are
    /// there or arrive within the spin time. Release the batch (<see cref="Recycle"/> or
    /// <see cref="Release"/>) before the next receive.
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

    /// <summary>Hands the batch's frames back to the FILL ring and its slots back to the RX ring.</summary>
    public void Recycle(in RxBatch batch)
    {
        uint count = batch.Count;
        uint index;
        // The kernel publishes RX entries a moment before it releases the FILL entries it took for them.
        long deadline = 0;
        while (_fill.Reserve(count, out index) != count)
        {
            long now = Stopwatch.GetTimestamp();
            if (deadline == 0)
                deadline = now + s_fillWaitTicks;
            else if (now > deadline)
                throw new InvalidOperationException($"{this}: the FILL ring has no room for {count} frames; more frames were given to it than it holds.");
        }
        for (uint i = 0; i < count; i++)
            _fill[index + i] = batch[i].Address;
        _fill.Submit(count);
        _rx.Release(count);
    }

    /// <summary>Hands the batch's slots back to the RX ring; the frames stay with the caller.</summary>
    public void Release(in RxBatch batch) => _rx.Release(batch.Count);

    /// <summary>Ends a pending receive with <see cref="ObjectDisposedException"/>. Dispose the receiver before its socket.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        XskEpoll.Shared.Remove(_id, _socket.Fd);
        Complete();
        _metrics.Dispose();
    }

    public override string ToString() => $"XskAsyncReceiver({_socket})";

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
        Counters.Wakeups++;
        return XskEpoll.Shared.Arm(_id, _socket.Fd);
    }

    bool TryTake(out RxBatch batch)
    {
        uint count = _rx.Peek(_maxBatch, out uint index);
        if (count == 0)
        {
            batch = default;
            return false;
        }
        long bytes = 0;
        for (uint i = 0; i < count; i++)
            bytes += _rx[index + i].Length;
        Counters.RxPackets += count;
        Counters.RxBytes += bytes;
        batch = new RxBatch(_rx, index, count);
        return true;
    }
}
