using AfXdp.Interop;
using AfXdp.Net;
using AfXdp.Xsk;

namespace AfXdp.Cli.Apps;

/// <summary>
/// Writes what an AF_XDP socket receives to a pcap file, stamped with the wall clock
/// (CLOCK_REALTIME, nanoseconds) when it was read from the RX ring. A packet that spans several
/// descriptors (multi-buffer) is one record. Frames go back to the FILL ring once written. The
/// caller owns the socket, its FILL ring's initial frames (<see cref="FillRing.Populate"/>) and the
/// program that steers traffic to it.
/// </summary>
internal sealed class PcapCapture
{
    // The largest packet a chain carries: 18 segments (MAX_SKB_FRAGS + 1) of at most a page.
    const int MaximumPacketLength = 18 * 4096;

    readonly RxRing _rx;
    readonly PcapWriter _writer;
    readonly uint _batch;
    readonly byte[] _chain;

    /// <summary>Captures what <paramref name="rx"/> receives into <paramref name="writer"/>, <paramref name="batch"/> descriptors at a time.</summary>
    public PcapCapture(RxRing rx, PcapWriter writer, uint batch = 64)
    {
        ArgumentNullException.ThrowIfNull(rx);
        ArgumentNullException.ThrowIfNull(writer);
        if (batch is < 18 or > 4096)
            throw new ArgumentOutOfRangeException(nameof(batch), batch, "a batch must hold the longest chain (18 descriptors) and at most 4096.");
        _rx = rx;
        _writer = writer;
        _batch = batch;
        _chain = rx.MultiBuffer ? new byte[MaximumPacketLength] : [];
    }

    /// <summary>Packets written so far.</summary>
    public long Packets { get; private set; }

    /// <summary>Bytes of packet data written so far (record headers not counted).</summary>
    public long Bytes { get; private set; }

    /// <summary>
    /// Writes the packets that have arrived, at most <paramref name="maxPackets"/> and one batch,
    /// and returns how many; when none has arrived, waits up to <paramref name="timeoutMs"/> (poll) and returns 0.
    /// Frames past <paramref name="maxPackets"/> in the batch are not written.
    /// </summary>
    public int CaptureBatch(int timeoutMs, long maxPackets = long.MaxValue)
    {
        RxBatch batch = timeoutMs > 0 ? _rx.Receive(_batch, timeoutMs) : _rx.Receive(_batch);
        int written = 0;
        foreach (RxPacket packet in batch.Packets)
        {
            if (written >= maxPackets)
                break;
            long now = Sys.ClockNanoseconds(Sys.CLOCK_REALTIME);
            if (packet.IsContiguous)
                _writer.WritePacket(packet.GetSegment(0), now);
            else
                _writer.WritePacket(_chain.AsSpan(0, packet.CopyTo(_chain)), now);
            Bytes += packet.Length;
            written++;
        }
        batch.Recycle();
        Packets += written;
        return written;
    }
}
