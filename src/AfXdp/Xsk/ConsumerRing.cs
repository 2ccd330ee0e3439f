using System.Runtime.CompilerServices;
using AfXdp.Interop;

namespace AfXdp.Xsk;

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
