using AfXdp.Interop;
using AfXdp.Net;

namespace AfXdp.Xsk;

/// <summary>
/// Writes what an AF_XDP socket receives to a pcap file, stamped with the wall clock
/// (CLOCK_REALTIME, nanoseconds) when it was read from the RX ring. A packet that spans several
/// descriptors (multi-buffer) is one record. Frames go back to the FILL ring once written. The
/// caller owns the socket, its FILL ring's initial frames and the program that steers traffic to it.
/// </summary>
public sealed class PcapCapture
{
    // The largest packet a chain carries: 18 segments (MAX_SKB_FRAGS + 1) of at most a page.
    const int MaximumPacketLength = 18 * 4096;

    readonly XskSocket _socket;
    readonly PcapWriter _writer;
    readonly RxRing _rx;
    readonly FillRing _fill;
    readonly uint _batch;
    readonly byte[] _chain;

    public PcapCapture(XskSocket socket, PcapWriter writer, uint batch = 64)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(writer);
        if (socket.Rx is null)
            Throw.Config($"PcapCapture({socket})", "the socket has no RX ring.", "create it with an RxRingSize.");
        if (batch is < 18 or > 4096)
            throw new ArgumentOutOfRangeException(nameof(batch), batch, "a batch must hold the longest chain (18 descriptors) and at most 4096.");
        _socket = socket;
        _writer = writer;
        _rx = socket.Rx;
        _fill = socket.Fill;
        _batch = batch;
        _chain = socket.Config.MultiBuffer ? new byte[MaximumPacketLength] : [];
    }

    /// <summary>Packets written so far.</summary>
    public long Packets { get; private set; }

    /// <summary>Bytes of packet data written so far (record headers not counted).</summary>
    public long Bytes { get; private set; }

    /// <summary>
    /// Writes the packets that have arrived, at most <paramref name="maxPackets"/> and one batch,
    /// and returns how many; when none has arrived, waits up to <paramref name="timeoutMs"/> (poll) and returns 0.
    /// </summary>
    public int CaptureBatch(int timeoutMs, long maxPackets = long.MaxValue)
    {
        uint peeked = _rx.Peek(_batch, out uint start);
        if (peeked == 0)
        {
            if (timeoutMs > 0)
                _socket.PollRx(timeoutMs);
            return 0;
        }
        uint index = start, end = start + peeked;
        int written = 0;
        while (written < maxPackets && _rx.TryReadPacket(_socket.Umem, ref index, end, out RxPacket packet))
        {
            long now = Sys.ClockNanoseconds(Sys.CLOCK_REALTIME);
            if (packet.IsContiguous)
                _writer.WritePacket(packet.GetSegment(0), now);
            else
                _writer.WritePacket(_chain.AsSpan(0, packet.CopyTo(_chain)), now);
            Bytes += packet.Length;
            written++;
        }
        uint consumed = index - start;
        // The FILL ring has a free slot for each frame the kernel took from it, as long as it was never given more frames than it holds.
        if (_fill.Reserve(consumed, out uint fillIndex) != consumed)
            Throw.Config($"PcapCapture({_socket})", "the FILL ring has no room for the frames just read: it was given more frames than it has slots.",
                "fill it with at most FillRingSize frames.");
        for (uint i = 0; i < consumed; i++)
            _fill[fillIndex + i] = _rx[start + i].Address;
        _fill.Submit(consumed);
        _rx.Cancel(end - index);
        _rx.Release(consumed);
        Packets += written;
        return written;
    }
}
