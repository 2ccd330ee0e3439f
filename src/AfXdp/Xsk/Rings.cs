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

    public ref readonly T this[uint index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ref _entries[index & _mask];
    }
}

/// <summary>FILL ring: frame addresses handed to the kernel to receive into. Owned by the UMEM.</summary>
public sealed class FillRing : ProducerRing<ulong>
{
    internal FillRing(in RingMemory memory) : base(memory) { }
}

/// <summary>COMPLETION ring: frame addresses the kernel has finished sending. Owned by the UMEM.</summary>
public sealed class CompletionRing : ConsumerRing<ulong>
{
    internal CompletionRing(in RingMemory memory) : base(memory) { }
}

/// <summary>RX ring: descriptors of received frames. Owned by the socket.</summary>
public sealed class RxRing : ConsumerRing<XdpDescriptor>
{
    internal RxRing(in RingMemory memory) : base(memory) { }

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
    public bool TryReadPacket(Umem umem, ref uint index, uint end, out RxPacket packet)
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

/// <summary>TX ring: descriptors of frames to send. Owned by the socket.</summary>
public sealed class TxRing : ProducerRing<XdpDescriptor>
{
    internal TxRing(in RingMemory memory) : base(memory) { }

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
