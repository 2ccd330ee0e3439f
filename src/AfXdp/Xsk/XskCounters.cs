namespace AfXdp.Xsk;

/// <summary>
/// What one socket's data path moved. Written by the one thread that moves the socket's packets
/// (plain increments, no atomics: the hot path stays a few adds; the internal setters inline to the
/// same stores), read by the metrics collector, which may see a value a batch old but never a torn
/// one (aligned 64-bit backing fields).
/// </summary>
public sealed class XskCounters
{
    /// <summary>Frames taken from the RX ring.</summary>
    public long RxPackets { get; internal set; }

    /// <summary>Bytes of those frames, added when their batch is given back (Recycle, Transmit, Release), at the lengths they have then.</summary>
    public long RxBytes { get; internal set; }

    /// <summary>Frames the kernel finished sending (COMPLETION ring).</summary>
    public long TxPackets { get; internal set; }

    /// <summary>Bytes put on the TX ring.</summary>
    public long TxBytes { get; internal set; }

    /// <summary>Frames meant for TX (or another queue) that found no free slot and were recycled instead.</summary>
    public long TxDropped { get; internal set; }

    /// <summary>Syscalls made to wake the kernel or wait for it (sendto, recvfrom, poll).</summary>
    public long Wakeups { get; internal set; }
}
