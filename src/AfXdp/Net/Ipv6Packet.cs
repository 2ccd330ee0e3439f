using System.Buffers.Binary;
using System.Net;

namespace AfXdp.Net;

/// <summary>
/// A view over an IPv6 packet (RFC 8200). Validated once: version 6 and payload length within the
/// buffer; the hop-by-hop, routing, fragment and destination-options headers are walked (each must
/// fit) to find the upper-layer <see cref="Protocol"/> and where its bytes start (<see cref="HeaderLength"/>).
/// </summary>
public readonly ref struct Ipv6Packet
{
    /// <summary>The length of the fixed header, without extension headers.</summary>
    public const int FixedHeaderLength = 40;

    /// <summary>The hop limit this library writes, Linux's default.</summary>
    public const byte DefaultHopLimit = 64;

    /// <summary>Bytes in an IPv6 address.</summary>
    public const int AddressLength = 16;

    const int VersionClassAndFlowOffset = 0;
    const int PayloadLengthOffset = 4;
    const int NextHeaderOffset = 6;
    const int HopLimitOffset = 7;
    const int SourceOffset = 8;
    const int DestinationOffset = 24;
    const byte Version = 6;
    // Extension headers are counted in 8-byte units, the first not included (RFC 8200 4.3).
    const int ExtensionHeaderUnit = 8;
    const int FragmentHeaderLength = 8;
    // Fragment header bytes 2-3: offset (13 bits), reserved (2), M flag (1), RFC 8200 4.5.
    const ushort FragmentOffsetAndMoreMask = 0xFFF9;

    readonly Span<byte> _bytes;
    readonly int _headerLength;
    readonly IpProtocol _protocol;
    readonly bool _isFragment;

    Ipv6Packet(Span<byte> bytes, int headerLength, IpProtocol protocol, bool isFragment)
    {
        _bytes = bytes;
        _headerLength = headerLength;
        _protocol = protocol;
        _isFragment = isFragment;
    }

    /// <summary>Wraps the packet at the start of <paramref name="bytes"/>; false when the version, a length or an extension header does not hold.</summary>
    public static bool TryCreate(Span<byte> bytes, out Ipv6Packet packet)
    {
        packet = default;
        if (bytes.Length < FixedHeaderLength || bytes[VersionClassAndFlowOffset] >> 4 != Version)
            return false;
        int totalLength = FixedHeaderLength + BinaryPrimitives.ReadUInt16BigEndian(bytes[PayloadLengthOffset..]);
        if (totalLength > bytes.Length)
            return false;
        bytes = bytes[..totalLength];
        if (!TrySkipExtensionHeaders(bytes, out int headerLength, out IpProtocol protocol, out bool isFragment))
            return false;
        packet = new Ipv6Packet(bytes, headerLength, protocol, isFragment);
        return true;
    }

    /// <summary>The packet, exactly 40 + <see cref="PayloadLength"/> bytes.</summary>
    public Span<byte> Bytes => _bytes;

    /// <summary>The traffic class (DSCP and ECN bits).</summary>
    public byte TrafficClass => (byte)(VersionClassAndFlow >> 20);

    /// <summary>The 20-bit flow label.</summary>
    public uint FlowLabel => VersionClassAndFlow & 0xF_FFFF;

    /// <summary>Bytes after the fixed header, extension headers included.</summary>
    public int PayloadLength => _bytes.Length - FixedHeaderLength;

    /// <summary>The next-header field of the fixed header (an extension header or the upper layer).</summary>
    public IpProtocol NextHeader => (IpProtocol)_bytes[NextHeaderOffset];

    /// <summary>The hop limit (IPv6's TTL), read or written in place.</summary>
    public byte HopLimit
    {
        get => _bytes[HopLimitOffset];
        set => _bytes[HopLimitOffset] = value;
    }

    /// <summary>The 16 bytes of the source address, in place.</summary>
    public Span<byte> Source => _bytes.Slice(SourceOffset, AddressLength);

    /// <summary>The 16 bytes of the destination address, in place.</summary>
    public Span<byte> Destination => _bytes.Slice(DestinationOffset, AddressLength);

    /// <summary>The upper-layer protocol, after the extension headers.</summary>
    public IpProtocol Protocol => _protocol;

    /// <summary>The fixed header plus extension headers: the offset of the upper-layer bytes.</summary>
    public int HeaderLength => _headerLength;

    /// <summary>True when a fragment header with a non-zero offset or the M flag was seen: <see cref="Payload"/> is part of a datagram.</summary>
    public bool IsFragment => _isFragment;

    /// <summary>The upper-layer bytes (e.g. the UDP datagram).</summary>
    public Span<byte> Payload => _bytes[_headerLength..];

    uint VersionClassAndFlow => BinaryPrimitives.ReadUInt32BigEndian(_bytes);

    /// <summary>The pseudo-header sum for this packet's UDP, TCP or ICMPv6 checksum.</summary>
    public uint PseudoHeaderSum() => InternetChecksum.PseudoHeaderSum(Source, Destination, Protocol, Payload.Length);

    /// <summary>The source as an <see cref="IPAddress"/> (allocates: for logs and tools, not the packet path).</summary>
    public IPAddress GetSourceIPAddress() => new(Source);

    /// <inheritdoc cref="GetSourceIPAddress"/>
    public IPAddress GetDestinationIPAddress() => new(Destination);

    /// <summary>Writes a 40-byte fixed header (class and flow 0, hop limit 64) for an upper-layer packet without extension headers.</summary>
    internal static void WriteHeader(Span<byte> packet, IpProtocol protocol, ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, int payloadLength)
    {
        BinaryPrimitives.WriteUInt32BigEndian(packet[VersionClassAndFlowOffset..], (uint)Version << 28);
        BinaryPrimitives.WriteUInt16BigEndian(packet[PayloadLengthOffset..], (ushort)payloadLength);
        packet[NextHeaderOffset] = (byte)protocol;
        packet[HopLimitOffset] = DefaultHopLimit;
        source[..AddressLength].CopyTo(packet[SourceOffset..]);
        destination[..AddressLength].CopyTo(packet[DestinationOffset..]);
    }

    static bool TrySkipExtensionHeaders(ReadOnlySpan<byte> packet, out int offset, out IpProtocol protocol, out bool isFragment)
    {
        offset = FixedHeaderLength;
        protocol = (IpProtocol)packet[NextHeaderOffset];
        isFragment = false;
        while (true)
        {
            int length;
            switch (protocol)
            {
                // Hop-by-hop options may only follow the fixed header (RFC 8200 4.3).
                case IpProtocol.Ipv6HopByHopOptions when offset != FixedHeaderLength:
                    return false;
                case IpProtocol.Ipv6HopByHopOptions or IpProtocol.Ipv6Routing or IpProtocol.Ipv6DestinationOptions:
                    if (packet.Length - offset < ExtensionHeaderUnit)
                        return false;
                    length = (packet[offset + 1] + 1) * ExtensionHeaderUnit;
                    break;
                case IpProtocol.Ipv6Fragment:
                    if (packet.Length - offset < FragmentHeaderLength)
                        return false;
                    length = FragmentHeaderLength;
                    isFragment |= (BinaryPrimitives.ReadUInt16BigEndian(packet[(offset + 2)..]) & FragmentOffsetAndMoreMask) != 0;
                    break;
                default:
                    return true;
            }
            if (packet.Length - offset < length)
                return false;
            protocol = (IpProtocol)packet[offset];
            offset += length;
        }
    }
}
