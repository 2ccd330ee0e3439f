using System.Runtime.CompilerServices;

namespace AfXdp.Xsk;

// Giving a received batch back: its frames to the FILL ring, kept by the application, or onto a TX ring.
public sealed unsafe partial class RxRing
{
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
}
