namespace AfXdp.Xsk;

// Multi-buffer (XDP_USE_SG): one packet written over several frames, chained by XDP_PKT_CONTD.
public sealed partial class TxRing
{
    /// <summary>
    /// Copies <paramref name="packet"/> into the UMEM frames <paramref name="frames"/> (each holding
    /// up to <see cref="Umem.TxSegmentCapacity"/> bytes, after the TX metadata area) and describes
    /// them from reserved slot <paramref name="index"/> on: one descriptor per frame used,
    /// XDP_PKT_CONTD on all but the last (a socket bound with <see cref="XskSocketOptions.MultiBuffer"/>
    /// for more than one). <paramref name="firstOptions"/> go on the first descriptor (e.g.
    /// <see cref="XdpDescriptor.HasTxMetadata"/>). Returns the descriptors written,
    /// <see cref="Umem.TxSegmentsFor"/>(packet.Length); submit them together.
    /// </summary>
    public uint WritePacket(uint index, Umem umem, ReadOnlySpan<byte> packet, ReadOnlySpan<ulong> frames, uint firstOptions = 0)
    {
        ArgumentNullException.ThrowIfNull(umem);
        int segments = umem.TxSegmentsFor(packet.Length);
        if (frames.Length < segments)
            throw new ArgumentException($"a {packet.Length}-byte packet needs {segments} frames of {umem.TxSegmentCapacity} bytes, got {frames.Length}.", nameof(frames));
        int capacity = umem.TxSegmentCapacity;
        for (int segment = 0; segment < segments; segment++)
        {
            ReadOnlySpan<byte> part = packet.Slice(segment * capacity, Math.Min(capacity, packet.Length - segment * capacity));
            ulong address = umem.TxPacketAddress(frames[segment]);
            part.CopyTo(umem.GetFrame(address, part.Length));
            this[index + (uint)segment] = new XdpDescriptor
            {
                Address = address,
                Length = (uint)part.Length,
                Options = (segment == 0 ? firstOptions : 0) | (segment < segments - 1 ? XdpDescriptor.PacketContinues : 0),
            };
        }
        return (uint)segments;
    }
}
