using System.Runtime.CompilerServices;
using AfXdp.Interop;

namespace AfXdp.Xsk;

/// <summary>RX ring: descriptors of received frames. Owned by the socket (<see cref="RxSocket.Rx"/>, <see cref="RxTxSocket.Rx"/>).</summary>
/// <remarks>
/// Split by concern: receiving here; giving a batch back (recycle, keep, turn around onto TX) in
/// RxRing.Batch.cs; packets of several descriptors (multi-buffer) in RxRing.MultiBuffer.cs.
/// </remarks>
public sealed unsafe partial class RxRing : ConsumerRing<XdpDescriptor>
{
    readonly XdpDescriptor* _entries;
    readonly uint _mask;
    readonly bool _multiBuffer;
    readonly XskDoorbell _doorbell;

    /// <summary>
    /// A ring over memory of one's own, for tests and micro-benchmarks of the ring arithmetic and the
    /// batch verbs that need no socket or UMEM (Receive of a non-empty ring, Recycle into <paramref name="fill"/>).
    /// </summary>
    internal RxRing(in RingMemory memory, FillRing? fill = null) : base(memory)
    {
        _doorbell = null!;
        Fill = fill!;
        Umem = null!;
        Counters = new XskCounters();
        _entries = (XdpDescriptor*)memory.Entries;
        _mask = memory.Size - 1;
    }

    /// <summary>
    /// The RX ring of <paramref name="doorbell"/>'s descriptor: frames of <paramref name="umem"/>, given
    /// back to <paramref name="fill"/>, counted in <paramref name="counters"/>.
    /// </summary>
    internal RxRing(in RingMemory memory, XskDoorbell doorbell, Umem umem, FillRing fill, XskCounters counters, bool multiBuffer) : base(memory)
    {
        _multiBuffer = multiBuffer;
        _doorbell = doorbell;
        Fill = fill;
        Umem = umem;
        Counters = counters;
        _entries = (XdpDescriptor*)memory.Entries;
        _mask = memory.Size - 1;
    }

    /// <summary>Wakes the kernel for this ring's descriptor (the async receiver waits on it too).</summary>
    internal XskDoorbell Doorbell => _doorbell;

    /// <summary>True when the socket was bound with multi-buffer (XDP_USE_SG): a packet may span descriptors.</summary>
    internal bool MultiBuffer => _multiBuffer;

    internal FillRing Fill { get; }

    internal Umem Umem { get; }

    internal XskCounters Counters { get; }

    /// <summary>
    /// The frames received so far, at most <paramref name="max"/>, without waiting: an empty batch
    /// when there are none, after waking the kernel to refill if it asked (need_wakeup) or busy-polling.
    /// Give the batch back (<see cref="RxBatch.Recycle"/>, <see cref="RxBatch.Transmit"/>,
    /// <see cref="RxBatch.Release"/>) before the next receive.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public RxBatch Receive(uint max)
    {
        uint count = Peek(max, out uint index);
        if (count == 0)
        {
            // Busy polling: this syscall runs the driver's NAPI in our context.
            if (_doorbell.BusyPolling || Fill.NeedsWakeup)
            {
                Counters.Wakeups++;
                _doorbell.WakeupRx();
            }
            return new RxBatch(this, index, 0);
        }
        return Received(index, count);
    }

    /// <summary>
    /// As <see cref="Receive(uint)"/>, but waits up to <paramref name="timeoutMs"/> (poll POLLIN, which
    /// also wakes the kernel to refill) when nothing has arrived; 0 does not wait, -1 waits without limit.
    /// Throws when the interface is gone.
    /// </summary>
    public RxBatch Receive(uint max, int timeoutMs)
    {
        if (timeoutMs == 0)
            return Receive(max);
        uint count = Peek(max, out uint index);
        if (count == 0)
        {
            Counters.Wakeups++;
            _doorbell.Poll(Sys.POLLIN, timeoutMs);
            count = Peek(max, out index);
            if (count == 0)
                return new RxBatch(this, index, 0);
        }
        return Received(index, count);
    }

    /// <summary>As <see cref="Receive(uint, int)"/>; <see cref="Timeout.InfiniteTimeSpan"/> waits without limit.</summary>
    public RxBatch Receive(uint max, TimeSpan timeout) => Receive(max, XskDoorbell.PollMilliseconds(timeout, nameof(timeout)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal RxBatch Received(uint index, uint count)
    {
        if (_multiBuffer)
            count = WholePackets(index, count);
        // Bytes are counted where the batch is given back: that loop reads the descriptors anyway.
        Counters.RxPackets += count;
        return new RxBatch(this, index, count);
    }
}
