namespace AfXdp.Xsk;

// Multi-buffer (XDP_USE_SG): packets of several descriptors chained by XDP_PKT_CONTD.
public sealed unsafe partial class RxRing
{
    /// <summary>
    /// Multi-buffer: a batch ends with a packet's last segment. The segments of a packet cut by the
    /// batch's end are un-peeked for the next receive (so receive at least 18 at a time: MAX_SKB_FRAGS + 1).
    /// </summary>
    uint WholePackets(uint index, uint count)
    {
        uint whole = count;
        while (whole > 0 && _entries[(index + whole - 1) & _mask].Continues)
            whole--;
        Cancel(count - whole);
        return whole;
    }

    /// <summary>
    /// Descriptors of the packet that starts at <paramref name="index"/>: 1, plus one for each
    /// XDP_PKT_CONTD before its last; 0 when the chain does not end before <paramref name="end"/>
    /// (the rest is not peeked yet).
    /// </summary>
    public uint ChainLength(uint index, uint end)
    {
        for (uint i = index; i != end; i++)
        {
            if (!this[i].Continues)
                return i - index + 1;
        }
        return 0;
    }

    /// <summary>
    /// Reads the next whole packet among peeked entries [<paramref name="index"/>, <paramref name="end"/>)
    /// and moves <paramref name="index"/> past it. False at <paramref name="end"/>, or when the last
    /// packet's chain is cut by <paramref name="end"/>: <see cref="ConsumerRing{T}.Cancel"/> the
    /// remaining entries and peek again with them (peek at least 18 at a time, the most segments
    /// a packet has: MAX_SKB_FRAGS + 1).
    /// </summary>
    public bool TryReadPacket(Umem umem, scoped ref uint index, uint end, out RxPacket packet)
    {
        ArgumentNullException.ThrowIfNull(umem);
        packet = default;
        uint segments = ChainLength(index, end);
        if (segments == 0)
            return false;
        long length = 0;
        for (uint i = 0; i < segments; i++)
            length += this[index + i].Length;
        packet = new RxPacket(umem, this, index, (int)segments, (int)length);
        index += segments;
        return true;
    }
}
