using System.Runtime.InteropServices;

namespace AfXdp.Engine;

/// <summary>
/// A bounded lock-free queue of frame descriptors from any worker to one worker (many producers,
/// one consumer): D. Vyukov's bounded queue, where each slot's sequence number says whether it is
/// free for the producer at a position or full for the consumer. A producer claims a position with
/// one CAS; the consumer takes slots in order without atomics.
/// </summary>
internal sealed class FrameQueue
{
    struct Slot
    {
        public long Sequence;
        public ulong Address;
        public uint Length;
        public ushort Source;
    }

    // Producers' and consumer's positions on lines of their own, away from each other.
    [StructLayout(LayoutKind.Explicit, Size = 128)]
    struct PaddedPosition
    {
        [FieldOffset(64)] public long Value;
    }

    readonly Slot[] _slots;
    readonly long _mask;
    PaddedPosition _tail;
    PaddedPosition _head;

    public FrameQueue(int capacity)
    {
        if (capacity < 1 || (capacity & (capacity - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "a power of two");
        _slots = new Slot[capacity];
        _mask = capacity - 1;
        for (int i = 0; i < capacity; i++)
            _slots[i].Sequence = i;
    }

    public int Capacity => _slots.Length;

    /// <summary>Adds a descriptor; false when the queue is full. Any thread. A full fence (the CAS).</summary>
    public bool TryEnqueue(ulong address, uint length, ushort source)
    {
        long position = Volatile.Read(ref _tail.Value);
        while (true)
        {
            ref Slot slot = ref _slots[position & _mask];
            long sequence = Volatile.Read(ref slot.Sequence);
            long lag = sequence - position;
            if (lag == 0)
            {
                long seen = Interlocked.CompareExchange(ref _tail.Value, position + 1, position);
                if (seen == position)
                {
                    slot.Address = address;
                    slot.Length = length;
                    slot.Source = source;
                    // Release: the fields above are visible before the slot reads as full.
                    Volatile.Write(ref slot.Sequence, position + 1);
                    return true;
                }
                position = seen;
            }
            else if (lag < 0)
            {
                return false; // the slot still holds the entry from one lap ago: full
            }
            else
            {
                position = Volatile.Read(ref _tail.Value); // another producer took this position
            }
        }
    }

    /// <summary>Takes the oldest descriptor; false when empty. The consumer's thread only.</summary>
    public bool TryDequeue(out ulong address, out uint length, out ushort source)
    {
        long position = _head.Value;
        ref Slot slot = ref _slots[position & _mask];
        // Acquire: pairs with the producer's release of the sequence, so the fields are complete.
        if (Volatile.Read(ref slot.Sequence) != position + 1)
        {
            (address, length, source) = (0, 0, 0);
            return false;
        }
        (address, length, source) = (slot.Address, slot.Length, slot.Source);
        Volatile.Write(ref slot.Sequence, position + _mask + 1);
        _head.Value = position + 1;
        return true;
    }

    /// <summary>True when a descriptor is waiting. The consumer's thread only.</summary>
    public bool HasItems => Volatile.Read(ref _slots[_head.Value & _mask].Sequence) == _head.Value + 1;
}
