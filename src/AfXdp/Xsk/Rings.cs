using System.Diagnostics;
using System.Runtime.CompilerServices;
using AfXdp.Interop;

namespace AfXdp.Xsk;

/// <summary>Where one mapped ring lives: the shared indices, the flags word and the entry array.</summary>
internal readonly unsafe struct RingMemory(uint* producer, uint* consumer, uint* flags, void* entries, uint size)
{
    public readonly uint* Producer = producer;
    public readonly uint* Consumer = consumer;
    public readonly uint* Flags = flags;
    public readonly void* Entries = entries;
    public readonly uint Size = size;

    public static RingMemory At(byte* map, in xdp_ring_offset offsets, uint size) =>
        new((uint*)(map + offsets.producer), (uint*)(map + offsets.consumer), (uint*)(map + offsets.flags), map + offsets.desc, size);
}

/// <summary>
/// A ring this process produces into and the kernel consumes from (FILL, TX).
/// Verbs as libxdp: <see cref="Reserve"/> slots, write them, <see cref="Submit"/>; or <see cref="Cancel"/>.
/// Indices are free-running 32-bit counters, so every difference is correct across the 2^32 wrap.
/// </summary>
public unsafe class ProducerRing<T> where T : unmanaged
{
    readonly uint* _producer;
    readonly uint* _consumer;
    readonly uint* _flags;
    readonly T* _entries;
    readonly uint _mask;
    uint _cachedProducer;
    // The consumer index plus the ring size: "free slots" is then one subtraction (libxdp's trick).
    uint _cachedConsumer;

    internal ProducerRing(in RingMemory memory)
    {
        _producer = memory.Producer;
        _consumer = memory.Consumer;
        _flags = memory.Flags;
        _entries = (T*)memory.Entries;
        Size = memory.Size;
        _mask = memory.Size - 1;
        _cachedProducer = *_producer;
        _cachedConsumer = *_consumer + Size;
    }

    /// <summary>Number of entries in the ring (a power of two).</summary>
    public uint Size { get; }

    /// <summary>The slot at a free-running index returned by <see cref="Reserve"/>.</summary>
    public ref T this[uint index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ref _entries[index & _mask];
    }

    /// <summary>
    /// The slots as a value to keep in a local for a batch loop: its pointer and mask stay in
    /// registers, where the ring's own fields would be reloaded after every store through a pointer.
    /// </summary>
    public RingSlots<T> Slots
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => new(_entries, _mask);
    }

    /// <summary>
    /// Free slots, at least as many as <paramref name="wanted"/> if the ring has them. Reads the
    /// kernel's consumer index only when the cached copy says there are too few.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint FreeCount(uint wanted)
    {
        uint free = _cachedConsumer - _cachedProducer;
        if (free >= wanted)
            return free;
        // Acquire: pairs with the kernel's smp_store_release of ->consumer in __xskq_cons_release
        // (barrier D in net/xdp/xsk_queue.h), so the kernel is done reading the slots we reuse.
        _cachedConsumer = Volatile.Read(ref *_consumer) + Size;
        return _cachedConsumer - _cachedProducer;
    }

    /// <summary>
    /// Reserves exactly <paramref name="count"/> slots starting at <paramref name="index"/>;
    /// returns <paramref name="count"/>, or 0 (and reserves nothing) when the ring has fewer free.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Reserve(uint count, out uint index)
    {
        index = _cachedProducer;
        if (FreeCount(count) < count)
            return 0;
        _cachedProducer += count;
        return count;
    }

    /// <summary>Gives back the last <paramref name="count"/> reserved, unsubmitted slots.</summary>
    public void Cancel(uint count) => _cachedProducer -= count;

    /// <summary>Publishes <paramref name="count"/> filled slots to the kernel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Submit(uint count)
    {
        // Release: the slot writes above become visible before the new producer index; pairs with
        // the kernel's smp_load_acquire of ->producer in __xskq_cons_peek (barrier C, xsk_queue.h).
        Volatile.Write(ref *_producer, *_producer + count);
    }

    /// <summary>
    /// The kernel set XDP_RING_NEED_WAKEUP: it will not look at this ring again until woken
    /// (sendto for TX, poll/recvfrom for FILL). Always false when bound without need_wakeup.
    /// </summary>
    public bool NeedsWakeup
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => (Volatile.Read(ref *_flags) & IfXdp.XDP_RING_NEED_WAKEUP) != 0;
    }

    /// <summary>Slots submitted but not yet consumed by the kernel (reads the shared index).</summary>
    public uint Pending => *_producer - Volatile.Read(ref *_consumer);
}

/// <summary>
/// A ring the kernel produces into and this process consumes from (RX, COMPLETION).
/// Verbs as libxdp: <see cref="Peek"/>, read the entries, <see cref="Release"/>; or <see cref="Cancel"/>.
/// </summary>
public unsafe class ConsumerRing<T> where T : unmanaged
{
    readonly uint* _producer;
    readonly uint* _consumer;
    readonly uint* _flags;
    readonly T* _entries;
    readonly uint _mask;
    uint _cachedProducer;
    uint _cachedConsumer;

    internal ConsumerRing(in RingMemory memory)
    {
        _producer = memory.Producer;
        _consumer = memory.Consumer;
        _flags = memory.Flags;
        _entries = (T*)memory.Entries;
        Size = memory.Size;
        _mask = memory.Size - 1;
        _cachedProducer = *_producer;
        _cachedConsumer = *_consumer;
    }

    /// <summary>Number of entries in the ring (a power of two).</summary>
    public uint Size { get; }

    /// <summary>The entry at a free-running index returned by <see cref="Peek"/>.</summary>
    public ref readonly T this[uint index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ref _entries[index & _mask];
    }

    /// <summary>
    /// The entries as a value to keep in a local for a batch loop (see <see cref="ProducerRing{T}.Slots"/>).
    /// </summary>
    public RingEntries<T> Entries
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => new(_entries, _mask);
    }

    /// <summary>
    /// Entries ready to read, at most <paramref name="max"/>, starting at <paramref name="index"/>.
    /// Reads the kernel's producer index only when the cached copy says the ring is empty.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Peek(uint max, out uint index)
    {
        uint ready = _cachedProducer - _cachedConsumer;
        if (ready == 0)
        {
            // Acquire: pairs with the kernel's smp_store_release of ->producer in
            // __xskq_prod_submit (barrier B, xsk_queue.h): the entries are written before we read them.
            _cachedProducer = Volatile.Read(ref *_producer);
            ready = _cachedProducer - _cachedConsumer;
        }
        uint count = ready < max ? ready : max;
        index = _cachedConsumer;
        _cachedConsumer += count;
        return count;
    }

    /// <summary>Un-reads the last <paramref name="count"/> peeked entries.</summary>
    public void Cancel(uint count) => _cachedConsumer -= count;

    /// <summary>Hands <paramref name="count"/> read entries back to the kernel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Release(uint count)
    {
        // Release: our reads of the entries complete before the kernel sees the slots free; pairs
        // with the kernel's READ_ONCE of ->consumer in xskq_prod_nb_free (barrier A, a control dependency).
        Volatile.Write(ref *_consumer, *_consumer + count);
    }

    /// <summary>Entries the kernel has produced that this process has not released (reads the shared index).</summary>
    public uint Available => Volatile.Read(ref *_producer) - *_consumer;

    /// <summary>XDP_RING_NEED_WAKEUP on this ring (the kernel does not set it on RX or COMPLETION today).</summary>
    public bool NeedsWakeup => (Volatile.Read(ref *_flags) & IfXdp.XDP_RING_NEED_WAKEUP) != 0;
}

/// <summary>Writable view of a producer ring's slots, indexed by free-running index.</summary>
public readonly unsafe ref struct RingSlots<T> where T : unmanaged
{
    readonly T* _entries;
    readonly uint _mask;

    internal RingSlots(T* entries, uint mask)
    {
        _entries = entries;
        _mask = mask;
    }

    /// <summary>The slot at a free-running index returned by <see cref="ProducerRing{T}.Reserve"/> (wrapped by the ring mask).</summary>
    public ref T this[uint index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ref _entries[index & _mask];
    }
}

/// <summary>Read-only view of a consumer ring's entries, indexed by free-running index.</summary>
public readonly unsafe ref struct RingEntries<T> where T : unmanaged
{
    readonly T* _entries;
    readonly uint _mask;

    internal RingEntries(T* entries, uint mask)
    {
        _entries = entries;
        _mask = mask;
    }

    /// <summary>The entry at a free-running index returned by <see cref="ConsumerRing{T}.Peek"/> (wrapped by the ring mask).</summary>
    public ref readonly T this[uint index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ref _entries[index & _mask];
    }
}

/// <summary>
/// FILL ring: frame addresses handed to the kernel to receive into. It belongs to the first socket
/// bound on its (interface, queue) and is reached through that socket's <see cref="XskSocket.Fill"/>.
/// </summary>
/// <remarks>
/// A momentarily full ring: the kernel publishes RX entries a moment before it releases the FILL
/// entries it took for them (xsk_flush), so a reservation right after a receive can miss. The moment is a
/// few hundred ns, unless the kernel's CPU is taken away between the two stores: on a loaded VM it once
/// exceeded 1 ms (most likely a stolen vCPU). Every verb here retries for up to <see cref="RingRetry.FillLimit"/>
/// (waking the kernel when it asks, and giving up the CPU after the first microseconds), then throws an
/// <see cref="AfXdpException"/> naming the ring: a ring that stays full means more frames were given to
/// the kernel than the ring holds.
/// </remarks>
public sealed unsafe class FillRing : ProducerRing<ulong>
{
    internal FillRing(in RingMemory memory, Umem umem) : base(memory) => Umem = umem;

    /// <summary>A ring over memory of one's own, for tests of the ring arithmetic: no UMEM behind it.</summary>
    internal FillRing(in RingMemory memory) : base(memory) => Umem = null!;

    internal Umem Umem { get; }

    /// <summary>The socket whose descriptor wakes the kernel for this ring (the first bound on its queue).</summary>
    internal XskSocket? Owner { get; set; }

    /// <summary>
    /// Gives frames <paramref name="firstFrame"/> to <paramref name="firstFrame"/> + <paramref name="frameCount"/> - 1
    /// of the UMEM to the kernel to receive into; at most the ring's size at once.
    /// </summary>
    public void Populate(uint firstFrame, uint frameCount)
    {
        if (frameCount > Size || (ulong)firstFrame + frameCount > Umem.FrameCount)
            Throw.Config($"FillRing.Populate(firstFrame: {firstFrame}, frameCount: {frameCount})",
                $"the FILL ring holds {Size} frames and the UMEM has {Umem.FrameCount}.", "give the ring at most its size in frames, all inside the UMEM.");
        uint index = ReserveOrThrow(frameCount);
        RingSlots<ulong> slots = Slots;
        for (uint i = 0; i < frameCount; i++)
            slots[index + i] = Umem.FrameAddress(firstFrame + i);
        Submit(frameCount);
    }

    /// <summary>Gives frames back to the kernel to receive into: the addresses of frames this process kept.</summary>
    public void Recycle(ReadOnlySpan<ulong> addresses)
    {
        uint count = (uint)addresses.Length;
        if (count == 0)
            return;
        uint index = ReserveOrThrow(count);
        RingSlots<ulong> slots = Slots;
        for (uint i = 0; i < count; i++)
            slots[index + i] = addresses[(int)i];
        Submit(count);
    }

    /// <summary>Reserves exactly <paramref name="count"/> slots under the ring's retry policy (see the remarks).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal uint ReserveOrThrow(uint count)
    {
        if (Reserve(count, out uint index) == count)
            return index;
        return ReserveSlow(count);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    uint ReserveSlow(uint count)
    {
        long deadline = Stopwatch.GetTimestamp() + RingRetry.FillLimitTicks;
        uint index;
        SpinWait wait = default;
        while (Reserve(count, out index) != count)
        {
            if (NeedsWakeup)
                Owner?.WakeupRx();
            if (Stopwatch.GetTimestamp() > deadline)
                Throw.Config($"FILL ring of {Owner?.ToString() ?? "a socket"}",
                    $"no room for {count} frames after {RingRetry.FillLimit.TotalMilliseconds} ms ({Size - Pending} of {Size} free): more frames were given to the kernel than the ring holds.",
                    "give the FILL ring at most its size in frames (Populate, Recycle), or create it larger (UmemConfig.FillRingSize).");
            // Spins first, then yields and sleeps: the kernel may need this very CPU to finish.
            wait.SpinOnce();
        }
        return index;
    }
}

/// <summary>
/// COMPLETION ring: frame addresses the kernel has finished sending. It belongs with the FILL ring of
/// its queue and is reached through <see cref="XskSocket.Completion"/>.
/// </summary>
public sealed class CompletionRing : ConsumerRing<ulong>
{
    internal CompletionRing(in RingMemory memory, FillRing fill) : base(memory) => Fill = fill;

    /// <summary>A ring over memory of one's own, for tests of the ring arithmetic: no FILL ring behind it.</summary>
    internal CompletionRing(in RingMemory memory) : base(memory) => Fill = null!;

    internal FillRing Fill { get; }

    /// <summary>Counters of the socket that owns the ring (sent frames are counted here).</summary>
    internal XskCounters? Counters { get; set; }

    /// <summary>Hands every sent frame back to the FILL ring to receive into (turn-around loops); returns how many.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Recycle()
    {
        uint done = Peek(Size, out uint index);
        if (done == 0)
            return 0;
        FillRing fill = Fill;
        uint fillIndex = fill.ReserveOrThrow(done);
        RingSlots<ulong> slots = fill.Slots;
        RingEntries<ulong> completed = Entries;
        for (uint i = 0; i < done; i++)
            slots[fillIndex + i] = completed[index + i];
        fill.Submit(done);
        Release(done);
        Counted(done);
        return done;
    }

    /// <summary>Takes up to <paramref name="addresses"/>.Length sent frames into the caller's free list; returns how many.</summary>
    public int Take(Span<ulong> addresses)
    {
        uint done = Peek((uint)addresses.Length, out uint index);
        RingEntries<ulong> completed = Entries;
        for (uint i = 0; i < done; i++)
            addresses[(int)i] = completed[index + i];
        Release(done);
        Counted(done);
        return (int)done;
    }

    /// <summary>Releases every sent frame without looking at it (frames the caller tracks itself, as a generator does); returns how many.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Drain()
    {
        uint done = Peek(Size, out _);
        if (done != 0)
        {
            Release(done);
            Counted(done);
        }
        return done;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    void Counted(uint done)
    {
        if (Counters is { } counters)
            counters.TxPackets += done;
    }
}

/// <summary>How long a verb retries a momentarily full ring before it gives up (see <see cref="FillRing"/> and <see cref="TxRing"/>).</summary>
public static class RingRetry
{
    /// <summary>
    /// 1 ms, for a full TX ring: the send verbs kick the kernel that long, then count what did not fit as
    /// dropped. A drop policy, so short: a forwarding loop should not stall behind a slow peer.
    /// </summary>
    public static readonly TimeSpan Limit = TimeSpan.FromMilliseconds(1);

    /// <summary>
    /// 100 ms, for a full FILL ring: not a drop policy but a wait for the kernel's FILL release, which follows
    /// its RX update within a few hundred ns unless its CPU is taken away (on a loaded VM it once took
    /// more than 1 ms, most likely a stolen vCPU). Long enough for that; short enough that a ring given more frames than it
    /// holds fails at once to a person.
    /// </summary>
    public static readonly TimeSpan FillLimit = TimeSpan.FromMilliseconds(100);

    internal static readonly long LimitTicks = (long)(Limit.TotalSeconds * Stopwatch.Frequency);

    internal static readonly long FillLimitTicks = (long)(FillLimit.TotalSeconds * Stopwatch.Frequency);
}

/// <summary>RX ring: descriptors of received frames. Owned by the socket (<see cref="RxSocket.Rx"/>, <see cref="RxTxSocket.Rx"/>).</summary>
public sealed unsafe class RxRing : ConsumerRing<XdpDescriptor>
{
    /// <summary>
    /// A ring over memory of one's own, for tests and micro-benchmarks of the ring arithmetic and the
    /// batch verbs that need no socket or UMEM (Receive of a non-empty ring, Recycle into <paramref name="fill"/>).
    /// </summary>
    internal RxRing(in RingMemory memory, FillRing? fill = null) : base(memory)
    {
        Socket = null!;
        Fill = fill!;
        Umem = null!;
        Counters = new XskCounters();
        _entries = (XdpDescriptor*)memory.Entries;
        _mask = memory.Size - 1;
    }

    internal RxRing(in RingMemory memory, XskSocket socket, FillRing fill) : base(memory)
    {
        _multiBuffer = socket.Config.MultiBuffer;
        Socket = socket;
        Fill = fill;
        Umem = socket.Umem;
        Counters = socket.Counters;
        _entries = (XdpDescriptor*)memory.Entries;
        _mask = memory.Size - 1;
    }

    readonly XdpDescriptor* _entries;
    readonly uint _mask;
    readonly bool _multiBuffer;

    internal XskSocket Socket { get; }

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
            if (Socket.BusyPolling || Fill.NeedsWakeup)
            {
                Counters.Wakeups++;
                Socket.WakeupRx();
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
            Socket.PollRx(timeoutMs);
            count = Peek(max, out index);
            if (count == 0)
                return new RxBatch(this, index, 0);
        }
        return Received(index, count);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal RxBatch Received(uint index, uint count)
    {
        if (_multiBuffer)
            count = WholePackets(index, count);
        // Bytes are counted where the batch is given back: that loop reads the descriptors anyway.
        Counters.RxPackets += count;
        return new RxBatch(this, index, count);
    }

    /// <summary>
    /// Multi-buffer: a batch ends with a packet's last segment. The segments of a packet cut by the
    /// batch's end are un-peeked for the next receive (so receive at least 18 at a time: MAX_SKB_FRAGS + 1).
    /// </summary>
    uint WholePackets(uint index, uint count)
    {
        uint whole = count;
        while (whole > 0 && _entries[(index + whole - 1) & _mask].Continues)
            whole--;
        Cancel(count - whole);
        return whole;
    }

    /// <summary>The entry at <paramref name="index"/>, writable: the application owns peeked entries until it releases them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ref XdpDescriptor Writable(uint index) => ref _entries[index & _mask];

    internal XdpDescriptor* EntriesPointer => _entries;

    internal uint Mask => _mask;

    /// <summary>Frames of entries [start, start + count) back to the FILL ring, then the entries back to the kernel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Recycle(uint start, uint count)
    {
        if (count == 0)
            return;
        FillRing fill = Fill;
        uint fillIndex = fill.ReserveOrThrow(count);
        RingSlots<ulong> slots = fill.Slots;
        XdpDescriptor* entries = _entries;
        uint mask = _mask;
        long bytes = 0;
        for (uint i = 0; i < count; i++)
        {
            ref XdpDescriptor d = ref entries[(start + i) & mask];
            slots[fillIndex + i] = d.Address;
            bytes += d.Length;
        }
        fill.Submit(count);
        Release(count);
        Counters.RxBytes += bytes;
    }

    /// <summary>Entries [start, start + count) back to the kernel; the frames stay with the application.</summary>
    internal void Keep(uint start, uint count)
    {
        long bytes = 0;
        for (uint i = 0; i < count; i++)
            bytes += _entries[(start + i) & _mask].Length;
        Release(count);
        Counters.RxBytes += bytes;
    }

    /// <summary>
    /// Entries [start, start + count) onto <paramref name="tx"/>, each with its (possibly changed)
    /// length; those of length 0 go back to the FILL ring. A TX ring that stays full for
    /// <see cref="RingRetry.Limit"/> (kicked meanwhile) drops the rest to the FILL ring.
    /// </summary>
    internal uint Transmit(uint start, uint count, TxRing tx)
    {
        if (count == 0)
            return 0;
        XdpDescriptor* entries = _entries;
        uint mask = _mask;
        uint send = 0;
        for (uint i = 0; i < count; i++)
            send += entries[(start + i) & mask].Length != 0 ? 1u : 0u;
        uint room = tx.ReserveUpTo(send, out uint txIndex);
        uint dropped = send - room;
        FillRing fill = Fill;
        uint back = count - room;
        uint fillIndex = back == 0 ? 0 : fill.ReserveOrThrow(back);
        RingSlots<XdpDescriptor> txSlots = tx.Slots;
        RingSlots<ulong> fillSlots = fill.Slots;
        uint sent = 0, recycled = 0;
        long bytes = 0, received = 0;
        for (uint i = 0; i < count; i++)
        {
            ref XdpDescriptor d = ref entries[(start + i) & mask];
            received += d.Length;
            if (d.Length != 0 && sent < room)
            {
                txSlots[txIndex + sent++] = d;
                bytes += d.Length;
            }
            else
            {
                fillSlots[fillIndex + recycled++] = d.Address;
            }
        }
        if (recycled != 0)
            fill.Submit(recycled);
        if (sent != 0)
            tx.Submit(sent);
        Release(count);
        XskCounters counters = Counters;
        counters.RxBytes += received;
        counters.TxBytes += bytes;
        counters.TxDropped += dropped;
        if (sent != 0)
            tx.Kick();
        return sent;
    }

    /// <summary>
    /// Descriptors of the packet that starts at <paramref name="index"/>: 1, plus one for each
    /// XDP_PKT_CONTD before its last; 0 when the chain does not end before <paramref name="end"/>
    /// (the rest is not peeked yet).
    /// </summary>
    public uint ChainLength(uint index, uint end)
    {
        for (uint i = index; i != end; i++)
        {
            if (!this[i].Continues)
                return i - index + 1;
        }
        return 0;
    }

    /// <summary>
    /// Reads the next whole packet among peeked entries [<paramref name="index"/>, <paramref name="end"/>)
    /// and moves <paramref name="index"/> past it. False at <paramref name="end"/>, or when the last
    /// packet's chain is cut by <paramref name="end"/>: <see cref="ConsumerRing{T}.Cancel"/> the
    /// remaining entries and peek again with them (peek at least 18 at a time, the most segments
    /// a packet has: MAX_SKB_FRAGS + 1).
    /// </summary>
    public bool TryReadPacket(Umem umem, scoped ref uint index, uint end, out RxPacket packet)
    {
        ArgumentNullException.ThrowIfNull(umem);
        packet = default;
        uint segments = ChainLength(index, end);
        if (segments == 0)
            return false;
        long length = 0;
        for (uint i = 0; i < segments; i++)
            length += this[index + i].Length;
        packet = new RxPacket(umem, this, index, (int)segments, (int)length);
        index += segments;
        return true;
    }
}

/// <summary>TX ring: descriptors of frames to send. Owned by the socket (<see cref="TxSocket.Tx"/>, <see cref="RxTxSocket.Tx"/>).</summary>
/// <remarks>
/// A full TX ring: the send verbs kick the kernel for up to <see cref="RingRetry.Limit"/>,
/// then send what fits and say how much that was; the caller decides about the rest (a forwarder drops it).
/// </remarks>
public sealed class TxRing : ProducerRing<XdpDescriptor>
{
    readonly bool _alwaysKick;

    /// <summary>A ring over memory of one's own, for tests of the ring arithmetic: no socket behind it.</summary>
    internal TxRing(in RingMemory memory) : base(memory)
    {
        Socket = null!;
        Completion = null!;
        Counters = new XskCounters();
    }

    internal TxRing(in RingMemory memory, XskSocket socket, CompletionRing completion) : base(memory)
    {
        Socket = socket;
        Completion = completion;
        Counters = socket.Counters;
        _alwaysKick = !socket.Config.NeedWakeup;
    }

    internal XskSocket Socket { get; }

    internal CompletionRing Completion { get; }

    internal XskCounters Counters { get; }

    /// <summary>
    /// Puts the descriptors on the ring and kicks the kernel if it needs it; returns how many went
    /// (fewer when the ring stayed full, see the remarks). The frames belong to the kernel until
    /// they come back on the COMPLETION ring.
    /// </summary>
    public int Send(ReadOnlySpan<XdpDescriptor> descriptors)
    {
        uint room = ReserveUpTo((uint)descriptors.Length, out uint index);
        RingSlots<XdpDescriptor> slots = Slots;
        long bytes = 0;
        for (uint i = 0; i < room; i++)
        {
            XdpDescriptor d = descriptors[(int)i];
            slots[index + i] = d;
            bytes += d.Length;
        }
        if (room != 0)
        {
            Submit(room);
            Counters.TxBytes += bytes;
            Kick();
        }
        return (int)room;
    }

    /// <summary>Sends one frame: <paramref name="length"/> bytes at UMEM <paramref name="address"/>. False when the ring stayed full.</summary>
    public bool Send(ulong address, uint length, uint options = 0) =>
        Send([new XdpDescriptor { Address = address, Length = length, Options = options }]) == 1;

    /// <summary>
    /// Tells the kernel to send what is on the ring (sendto), only when it needs telling: descriptors
    /// are pending and the kernel asked (need_wakeup), or the socket was bound without need_wakeup.
    /// Returns true when it made the call.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Kick()
    {
        if ((_alwaysKick || NeedsWakeup) && Pending != 0)
        {
            Counters.Wakeups++;
            Socket.WakeupTx();
            return true;
        }
        return false;
    }

    /// <summary>Reserves up to <paramref name="wanted"/> slots, kicking the kernel while the ring stays full, for at most <see cref="RingRetry.Limit"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal uint ReserveUpTo(uint wanted, out uint index)
    {
        if (Reserve(wanted, out index) == wanted)
            return wanted;
        return ReserveUpToSlow(wanted, out index);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    uint ReserveUpToSlow(uint wanted, out uint index)
    {
        long deadline = Stopwatch.GetTimestamp() + RingRetry.LimitTicks;
        while (true)
        {
            Kick();
            if (Reserve(wanted, out index) == wanted)
                return wanted;
            if (Stopwatch.GetTimestamp() > deadline)
            {
                uint free = FreeCount(wanted);
                return Reserve(Math.Min(free, wanted), out index);
            }
            Thread.SpinWait(16);
        }
    }

    /// <summary>
    /// Copies <paramref name="packet"/> into the UMEM frames <paramref name="frames"/> (each holding
    /// up to <see cref="Umem.TxSegmentCapacity"/> bytes, after the TX metadata area) and describes
    /// them from reserved slot <paramref name="index"/> on: one descriptor per frame used,
    /// XDP_PKT_CONTD on all but the last (a socket bound with <see cref="XskSocketConfig.MultiBuffer"/>
    /// for more than one). <paramref name="firstOptions"/> go on the first descriptor (e.g.
    /// <see cref="XdpDescriptor.HasTxMetadata"/>). Returns the descriptors written,
    /// <see cref="Umem.TxSegmentsFor"/>(packet.Length); submit them together.
    /// </summary>
    public uint WritePacket(uint index, Umem umem, ReadOnlySpan<byte> packet, ReadOnlySpan<ulong> frames, uint firstOptions = 0)
    {
        ArgumentNullException.ThrowIfNull(umem);
        int segments = umem.TxSegmentsFor(packet.Length);
        if (frames.Length < segments)
            throw new ArgumentException($"a {packet.Length}-byte packet needs {segments} frames of {umem.TxSegmentCapacity} bytes, got {frames.Length}.", nameof(frames));
        int capacity = umem.TxSegmentCapacity;
        for (int segment = 0; segment < segments; segment++)
        {
            ReadOnlySpan<byte> part = packet.Slice(segment * capacity, Math.Min(capacity, packet.Length - segment * capacity));
            ulong address = umem.TxPacketAddress(frames[segment]);
            part.CopyTo(umem.GetFrame(address, part.Length));
            this[index + (uint)segment] = new XdpDescriptor
            {
                Address = address,
                Length = (uint)part.Length,
                Options = (segment == 0 ? firstOptions : 0) | (segment < segments - 1 ? XdpDescriptor.PacketContinues : 0),
            };
        }
        return (uint)segments;
    }
}
