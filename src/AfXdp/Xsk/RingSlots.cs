using System.Runtime.CompilerServices;

namespace AfXdp.Xsk;

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
