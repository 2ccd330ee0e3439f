namespace AfXdp.Xsk;

/// <summary>
/// What one socket's data path moved. Written by the one thread that moves the socket's packets
/// (plain increments, no atomics: the hot path stays a few adds), read by the metrics collector,
/// which may see a value a batch old but never a torn one (aligned 64-bit fields).
/// </summary>
public sealed class XskCounters
{
    /// <summary>Frames taken from the RX ring.</summary>
    public long RxPackets;

    /// <summary>Bytes of those frames, added when their batch is given back (Recycle, Transmit, Release), at the lengths they have then.</summary>
    public long RxBytes;

    /// <summary>Frames the kernel finished sending (COMPLETION ring).</summary>
    public long TxPackets;

    /// <summary>Bytes put on the TX ring.</summary>
    public long TxBytes;

    /// <summary>Frames meant for TX (or another queue) that found no free slot and were recycled instead.</summary>
    public long TxDropped;

    /// <summary>Syscalls made to wake the kernel or wait for it (sendto, recvfrom, poll).</summary>
    public long Wakeups;
}
