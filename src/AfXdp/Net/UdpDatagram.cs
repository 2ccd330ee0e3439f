using System.Buffers.Binary;

namespace AfXdp.Net;

/// <summary>
/// A view over a UDP datagram (RFC 768). Validated once: the length field is at least 8 and within
/// the buffer; <see cref="Bytes"/> ends there.
/// </summary>
public readonly ref struct UdpDatagram
{
    /// <summary>Source port, destination port, length and checksum.</summary>
    public const int HeaderLength = 8;

    /// <summary>Where the checksum field lies in the datagram, for checksum offload requests.</summary>
    public const int ChecksumFieldOffset = ChecksumOffset;

    const int SourcePortOffset = 0;
    const int DestinationPortOffset = 2;
    const int LengthOffset = 4;
    const int ChecksumOffset = 6;

    readonly Span<byte> _bytes;

    UdpDatagram(Span<byte> bytes) => _bytes = bytes;

    /// <summary>Wraps the datagram at the start of <paramref name="bytes"/> (an IP payload); false when its length field does not hold.</summary>
    public static bool TryCreate(Span<byte> bytes, out UdpDatagram datagram)
    {
        datagram = default;
        if (bytes.Length < HeaderLength)
            return false;
        int length = BinaryPrimitives.ReadUInt16BigEndian(bytes[LengthOffset..]);
        if (length < HeaderLength || length > bytes.Length)
            return false;
        datagram = new UdpDatagram(bytes[..length]);
        return true;
    }

    /// <summary>The datagram, header and payload, exactly <see cref="Length"/> bytes.</summary>
    public Span<byte> Bytes => _bytes;

    /// <summary>The source port. Setting it leaves the checksum stale.</summary>
    public ushort SourcePort
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes[SourcePortOffset..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes[SourcePortOffset..], value);
    }

    /// <summary>The destination port. Setting it leaves the checksum stale.</summary>
    public ushort DestinationPort
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes[DestinationPortOffset..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes[DestinationPortOffset..], value);
    }

    /// <summary>
    /// Swaps source and destination port in place, to send the datagram back. The checksum stays
    /// valid (a ones' complement sum does not depend on order) once the IP addresses are swapped too.
    /// </summary>
    public void SwapPorts() => (SourcePort, DestinationPort) = (DestinationPort, SourcePort);

    /// <summary>Header plus payload, in bytes.</summary>
    public int Length => _bytes.Length;

    /// <summary>The checksum over pseudo-header, header and payload; 0 when left out.</summary>
    public ushort Checksum => BinaryPrimitives.ReadUInt16BigEndian(_bytes[ChecksumOffset..]);

    /// <summary>False when the sender left the checksum out (zero), which RFC 768 allows over IPv4 only.</summary>
    public bool HasChecksum => Checksum != 0;

    /// <summary>The bytes after the 8-byte header.</summary>
    public Span<byte> Payload => _bytes[HeaderLength..];

    /// <summary>Verifies the checksum given the IP layer's pseudo-header sum (<see cref="Ipv4Packet.PseudoHeaderSum"/>, <see cref="Ipv6Packet.PseudoHeaderSum"/>).</summary>
    public bool IsChecksumValid(uint pseudoHeaderSum) => InternetChecksum.Sum(_bytes, pseudoHeaderSum) == 0xFFFF;

    /// <summary>Recomputes the checksum over the datagram as it now is.</summary>
    public void UpdateChecksum(uint pseudoHeaderSum)
    {
        BinaryPrimitives.WriteUInt16BigEndian(_bytes[ChecksumOffset..], 0);
        ushort checksum = InternetChecksum.Compute(_bytes, pseudoHeaderSum);
        // A computed zero is sent as all ones; zero means "no checksum" (RFC 768).
        BinaryPrimitives.WriteUInt16BigEndian(_bytes[ChecksumOffset..], checksum == 0 ? (ushort)0xFFFF : checksum);
    }

    /// <summary>
    /// Stores the pseudo-header sum, not complemented, in the checksum field: what a device that
    /// offloads the checksum (or <see cref="Xsk.XskTxMetadata.RequestChecksum"/>) expects to find there
    /// before it adds the sum of the datagram and stores the complement (CHECKSUM_PARTIAL).
    /// </summary>
    public void PrepareChecksumOffload(uint pseudoHeaderSum) =>
        BinaryPrimitives.WriteUInt16BigEndian(_bytes[ChecksumOffset..], InternetChecksum.Sum([], pseudoHeaderSum));

    /// <summary>Writes the header and checksum of a datagram that is exactly <paramref name="datagram"/>, payload already in place.</summary>
    internal static void Write(Span<byte> datagram, ushort sourcePort, ushort destinationPort, uint pseudoHeaderSum)
    {
        BinaryPrimitives.WriteUInt16BigEndian(datagram[SourcePortOffset..], sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(datagram[DestinationPortOffset..], destinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(datagram[LengthOffset..], (ushort)datagram.Length);
        new UdpDatagram(datagram).UpdateChecksum(pseudoHeaderSum);
    }
}
