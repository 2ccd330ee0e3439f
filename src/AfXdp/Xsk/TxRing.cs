using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace AfXdp.Xsk;

/// <summary>TX ring: descriptors of frames to send. Owned by the socket (<see cref="TxSocket.Tx"/>, <see cref="RxTxSocket.Tx"/>).</summary>
/// <remarks>
/// A full TX ring: the send verbs kick the kernel for up to <see cref="RingRetry.Limit"/>,
/// then send what fits and say how much that was; the caller decides about the rest (a forwarder drops it).
/// Split by concern: sending here; packets of several descriptors (multi-buffer) in TxRing.MultiBuffer.cs.
/// </remarks>
public sealed partial class TxRing : ProducerRing<XdpDescriptor>
{
    readonly bool _alwaysKick;
    readonly XskDoorbell _doorbell;

    /// <summary>A ring over memory of one's own, for tests of the ring arithmetic: no socket behind it.</summary>
    internal TxRing(in RingMemory memory) : base(memory)
    {
        _doorbell = null!;
        Umem = null!;
        Counters = new XskCounters();
    }

    /// <summary>
    /// The TX ring of <paramref name="doorbell"/>'s descriptor: frames of <paramref name="umem"/>, counted in
    /// <paramref name="counters"/>; <paramref name="alwaysKick"/> when the socket was bound without need_wakeup.
    /// </summary>
    internal TxRing(in RingMemory memory, XskDoorbell doorbell, Umem umem, XskCounters counters, bool alwaysKick) : base(memory)
    {
        _doorbell = doorbell;
        Umem = umem;
        Counters = counters;
        _alwaysKick = alwaysKick;
    }

    /// <summary>The UMEM whose frames this ring sends.</summary>
    internal Umem Umem { get; }

    /// <summary>The socket the ring belongs to, for messages.</summary>
    internal string Owner => _doorbell?.Owner ?? "a TX ring of one's own";

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
            _doorbell.WakeupTx();
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
}
