using System.Runtime.CompilerServices;
using AfXdp.Interop;

namespace AfXdp.Xsk;

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
