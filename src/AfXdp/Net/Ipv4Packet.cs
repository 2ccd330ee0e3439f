using System.Buffers.Binary;
using System.Net;

namespace AfXdp.Net;

/// <summary>
/// A view over an IPv4 datagram (RFC 791). Validated once: version 4, header length at least 20 and
/// within the total length, total length within the buffer. <see cref="Bytes"/> ends at the total
/// length, so Ethernet padding is not part of <see cref="Payload"/>.
/// </summary>
public readonly ref struct Ipv4Packet
{
    /// <summary>The length of a header without options (IHL 5).</summary>
    public const int MinimumHeaderLength = 20;

    /// <summary>The TTL this library writes, Linux's default (net.ipv4.ip_default_ttl).</summary>
    public const byte DefaultTtl = 64;

    const int VersionAndLengthOffset = 0;
    const int TotalLengthOffset = 2;
    const int IdentificationOffset = 4;
    const int FlagsAndFragmentOffsetOffset = 6;
    const int TtlOffset = 8;
    const int ProtocolOffset = 9;
    const int ChecksumOffset = 10;
    const int SourceOffset = 12;
    const int DestinationOffset = 16;
    const byte Version = 4;
    const ushort DontFragmentFlag = 0x4000;
    const ushort MoreFragmentsFlag = 0x2000;
    const ushort FragmentOffsetMask = 0x1FFF;

    readonly Span<byte> _bytes;

    Ipv4Packet(Span<byte> bytes) => _bytes = bytes;

    /// <summary>Wraps the datagram at the start of <paramref name="bytes"/>; false when a length or the version does not hold.</summary>
    public static bool TryCreate(Span<byte> bytes, out Ipv4Packet packet)
    {
        packet = default;
        if (bytes.Length < MinimumHeaderLength || bytes[VersionAndLengthOffset] >> 4 != Version)
            return false;
        int headerLength = (bytes[VersionAndLengthOffset] & 0x0F) * 4;
        int totalLength = BinaryPrimitives.ReadUInt16BigEndian(bytes[TotalLengthOffset..]);
        if (headerLength < MinimumHeaderLength || totalLength < headerLength || totalLength > bytes.Length)
            return false;
        packet = new Ipv4Packet(bytes[..totalLength]);
        return true;
    }

    /// <summary>The datagram, header and payload, exactly <see cref="TotalLength"/> bytes.</summary>
    public Span<byte> Bytes => _bytes;

    /// <summary>The header length in bytes, options included (IHL * 4).</summary>
    public int HeaderLength => (_bytes[VersionAndLengthOffset] & 0x0F) * 4;

    /// <summary>The datagram's length in bytes, header included, from its total-length field.</summary>
    public int TotalLength => _bytes.Length;

    /// <summary>The identification shared by the fragments of one datagram.</summary>
    public ushort Identification => BinaryPrimitives.ReadUInt16BigEndian(_bytes[IdentificationOffset..]);

    /// <summary>The DF flag: routers must not fragment the datagram.</summary>
    public bool DontFragment => (FlagsAndFragmentOffset & DontFragmentFlag) != 0;

    /// <summary>The MF flag: more fragments of the datagram follow this one.</summary>
    public bool MoreFragments => (FlagsAndFragmentOffset & MoreFragmentsFlag) != 0;

    /// <summary>The fragment's position in the original datagram, in bytes.</summary>
    public int FragmentOffset => (FlagsAndFragmentOffset & FragmentOffsetMask) * 8;

    /// <summary>True for any fragment, first included: the payload is not the whole upper-layer packet.</summary>
    public bool IsFragment => (FlagsAndFragmentOffset & (MoreFragmentsFlag | FragmentOffsetMask)) != 0;

    /// <summary>Time to live. Setting it leaves the header checksum stale (see <see cref="InternetChecksum.Update(ushort, ushort, ushort)"/>).</summary>
    public byte Ttl
    {
        get => _bytes[TtlOffset];
        set => _bytes[TtlOffset] = value;
    }

    /// <summary>The protocol of the payload (UDP, TCP, ICMP, ...).</summary>
    public IpProtocol Protocol => (IpProtocol)_bytes[ProtocolOffset];

    /// <summary>The checksum over the header only.</summary>
    public ushort HeaderChecksum => BinaryPrimitives.ReadUInt16BigEndian(_bytes[ChecksumOffset..]);

    /// <summary>The source address, most significant byte first (10.0.0.1 is 0x0A000001). Setting it leaves the checksums stale.</summary>
    public uint Source
    {
        get => BinaryPrimitives.ReadUInt32BigEndian(_bytes[SourceOffset..]);
        set => BinaryPrimitives.WriteUInt32BigEndian(_bytes[SourceOffset..], value);
    }

    /// <summary>The destination address, as <see cref="Source"/>.</summary>
    public uint Destination
    {
        get => BinaryPrimitives.ReadUInt32BigEndian(_bytes[DestinationOffset..]);
        set => BinaryPrimitives.WriteUInt32BigEndian(_bytes[DestinationOffset..], value);
    }

    /// <summary>The option bytes between the fixed header and the payload; empty for IHL 5.</summary>
    public Span<byte> Options => _bytes[MinimumHeaderLength..HeaderLength];

    /// <summary>The bytes after the header, up to the total length.</summary>
    public Span<byte> Payload => _bytes[HeaderLength..];

    /// <summary>True when the header checksum verifies.</summary>
    public bool IsChecksumValid => InternetChecksum.Sum(_bytes[..HeaderLength]) == 0xFFFF;

    ushort FlagsAndFragmentOffset => BinaryPrimitives.ReadUInt16BigEndian(_bytes[FlagsAndFragmentOffsetOffset..]);

    /// <summary>
    /// Turns a received datagram into its reply in place: source and destination swapped, TTL reset
    /// to <see cref="DefaultTtl"/>, header checksum updated incrementally (RFC 1624) rather than
    /// recomputed. Swapping the addresses changes no checksum (ones' complement sums do not depend
    /// on order), so a UDP or ICMP checksum stays valid too.
    /// </summary>
    public void ConvertToReply()
    {
        (Source, Destination) = (Destination, Source);
        // TTL shares a 16-bit checksum word with the protocol (RFC 791 header layout).
        ushort oldWord = BinaryPrimitives.ReadUInt16BigEndian(_bytes[TtlOffset..]);
        _bytes[TtlOffset] = DefaultTtl;
        ushort newWord = BinaryPrimitives.ReadUInt16BigEndian(_bytes[TtlOffset..]);
        BinaryPrimitives.WriteUInt16BigEndian(_bytes[ChecksumOffset..], InternetChecksum.Update(HeaderChecksum, oldWord, newWord));
    }

    /// <summary>
    /// Shortens the datagram to <paramref name="totalLength"/> bytes (header included): writes the
    /// total length field, updates the header checksum incrementally, and returns the view over the
    /// shorter datagram. The bytes past it are left as they are, outside the view.
    /// </summary>
    public Ipv4Packet Truncate(int totalLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(totalLength, HeaderLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(totalLength, TotalLength);
        ushort oldLength = (ushort)TotalLength;
        BinaryPrimitives.WriteUInt16BigEndian(_bytes[TotalLengthOffset..], (ushort)totalLength);
        BinaryPrimitives.WriteUInt16BigEndian(_bytes[ChecksumOffset..], InternetChecksum.Update(HeaderChecksum, oldLength, (ushort)totalLength));
        return new Ipv4Packet(_bytes[..totalLength]);
    }

    /// <summary>Recomputes the header checksum over the header as it now is.</summary>
    public void UpdateChecksum()
    {
        Span<byte> header = _bytes[..HeaderLength];
        BinaryPrimitives.WriteUInt16BigEndian(header[ChecksumOffset..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(header[ChecksumOffset..], InternetChecksum.Compute(header));
    }

    /// <summary>The pseudo-header sum for this datagram's UDP or TCP checksum.</summary>
    public uint PseudoHeaderSum() => InternetChecksum.PseudoHeaderSum(Source, Destination, Protocol, Payload.Length);

    /// <summary>The source as an <see cref="IPAddress"/> (allocates: for logs and tools, not the packet path).</summary>
    public IPAddress GetSourceIPAddress() => Ipv4Address.ToIPAddress(Source);

    /// <inheritdoc cref="GetSourceIPAddress"/>
    public IPAddress GetDestinationIPAddress() => Ipv4Address.ToIPAddress(Destination);

    /// <summary>Writes a 20-byte header (no options, not fragmented, TTL 64) with its checksum.</summary>
    internal static void WriteHeader(Span<byte> packet, IpProtocol protocol, uint source, uint destination, int payloadLength)
    {
        Span<byte> header = packet[..MinimumHeaderLength];
        header.Clear();
        header[VersionAndLengthOffset] = Version << 4 | MinimumHeaderLength / 4;
        BinaryPrimitives.WriteUInt16BigEndian(header[TotalLengthOffset..], (ushort)(MinimumHeaderLength + payloadLength));
        header[TtlOffset] = DefaultTtl;
        header[ProtocolOffset] = (byte)protocol;
        BinaryPrimitives.WriteUInt32BigEndian(header[SourceOffset..], source);
        BinaryPrimitives.WriteUInt32BigEndian(header[DestinationOffset..], destination);
        BinaryPrimitives.WriteUInt16BigEndian(header[ChecksumOffset..], InternetChecksum.Compute(header));
    }
}
