using System.Runtime.CompilerServices;

namespace AfXdp.Xsk;

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
