using System.Runtime.CompilerServices;

namespace AfXdp.Xsk;

/// <summary>
/// COMPLETION ring: frame addresses the kernel has finished sending. It belongs with the FILL ring of
/// its queue and is reached through <see cref="XskSocket.Completion"/>.
/// </summary>
public sealed class CompletionRing : ConsumerRing<ulong>
{
    readonly XskCounters? _counters;

    /// <summary>
    /// The ring paired with <paramref name="fill"/>; sent frames are counted in <paramref name="counters"/>,
    /// those of the socket that uses the ring's descriptor.
    /// </summary>
    internal CompletionRing(in RingMemory memory, FillRing fill, XskCounters counters) : base(memory)
    {
        Fill = fill;
        _counters = counters;
    }

    /// <summary>A ring over memory of one's own, for tests of the ring arithmetic: no FILL ring behind it.</summary>
    internal CompletionRing(in RingMemory memory) : base(memory) => Fill = null!;

    internal FillRing Fill { get; }

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
        if (_counters is { } counters)
            counters.TxPackets += done;
    }
}
