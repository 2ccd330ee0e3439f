using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace AfXdp.Xsk;

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
    readonly XskDoorbell? _doorbell;

    /// <summary>The ring of <paramref name="doorbell"/>'s descriptor, holding addresses of frames of <paramref name="umem"/>.</summary>
    internal FillRing(in RingMemory memory, Umem umem, XskDoorbell doorbell) : base(memory)
    {
        Umem = umem;
        _doorbell = doorbell;
    }

    /// <summary>A ring over memory of one's own, for tests of the ring arithmetic: no UMEM or descriptor behind it.</summary>
    internal FillRing(in RingMemory memory) : base(memory) => Umem = null!;

    internal Umem Umem { get; }

    /// <summary>
    /// Gives frames <paramref name="firstFrame"/> to <paramref name="firstFrame"/> + <paramref name="frameCount"/> - 1
    /// of the UMEM to the kernel to receive into; at most the ring's size at once.
    /// </summary>
    public void Populate(uint firstFrame, uint frameCount)
    {
        if (frameCount > Size || (ulong)firstFrame + frameCount > Umem.FrameCount)
            Throw.OutOfRange(nameof(frameCount), $"FillRing.Populate(firstFrame: {firstFrame}, frameCount: {frameCount})",
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
                _doorbell?.WakeupRx();
            if (Stopwatch.GetTimestamp() > deadline)
                Throw.Config($"FILL ring of {_doorbell?.Owner ?? "a socket"}",
                    $"no room for {count} frames after {RingRetry.FillLimit.TotalMilliseconds} ms ({Size - Pending} of {Size} free): more frames were given to the kernel than the ring holds.",
                    "give the FILL ring at most its size in frames (Populate, Recycle), or create it larger (UmemOptions.FillRingSize).");
            // Spins first, then yields and sleeps: the kernel may need this very CPU to finish.
            wait.SpinOnce();
        }
        return index;
    }
}
