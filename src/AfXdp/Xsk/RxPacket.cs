namespace AfXdp.Xsk;

/// <summary>
/// A received packet as one unit: a single descriptor, or a chain of descriptors (XDP_PKT_CONTD)
/// when it was larger than a frame. A view over RX ring entries and UMEM frames, valid until the
/// entries are released; reading it allocates nothing. From <see cref="RxRing.TryReadPacket"/>.
/// </summary>
public readonly ref struct RxPacket
{
    readonly Umem _umem;
    readonly RxRing _ring;
    readonly uint _first;

    internal RxPacket(Umem umem, RxRing ring, uint first, int segmentCount, int length)
    {
        _umem = umem;
        _ring = ring;
        _first = first;
        SegmentCount = segmentCount;
        Length = length;
    }

    /// <summary>Descriptors the packet spans (1 unless it was larger than a frame).</summary>
    public int SegmentCount { get; }

    /// <summary>Bytes of the whole packet, all segments together.</summary>
    public int Length { get; }

    /// <summary>True when the packet fits one frame: <see cref="GetSegment"/>(0) is all of it.</summary>
    public bool IsContiguous => SegmentCount == 1;

    /// <summary>Descriptor number <paramref name="segment"/>: its address goes back to the FILL ring once the packet is read.</summary>
    public XdpDescriptor GetDescriptor(int segment)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(segment);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(segment, SegmentCount);
        return _ring[_first + (uint)segment];
    }

    /// <summary>The bytes of segment <paramref name="segment"/> in the UMEM.</summary>
    public Span<byte> GetSegment(int segment)
    {
        XdpDescriptor descriptor = GetDescriptor(segment);
        return _umem.GetFrame(descriptor.Address, (int)descriptor.Length);
    }

    /// <summary>Copies the whole packet to the start of <paramref name="destination"/> and returns <see cref="Length"/>.</summary>
    public int CopyTo(Span<byte> destination)
    {
        if (destination.Length < Length)
            throw new ArgumentException($"the packet has {Length} bytes, the destination {destination.Length}.", nameof(destination));
        int offset = 0;
        for (int segment = 0; segment < SegmentCount; segment++)
        {
            Span<byte> bytes = GetSegment(segment);
            bytes.CopyTo(destination[offset..]);
            offset += bytes.Length;
        }
        return offset;
    }
}
