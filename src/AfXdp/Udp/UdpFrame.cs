using System.Buffers.Binary;
using AfXdp.Net;

namespace AfXdp.Udp;

/// <summary>Why a frame the steering program took was not handed to the application.</summary>
internal enum UdpFrameCheck : byte
{
    Ok,
    /// <summary>Not an untagged, unfragmented IPv4/UDP datagram without options, nor an untagged IPv6 packet, whose lengths hold.</summary>
    Malformed,
    /// <summary>The IPv4 header or UDP checksum is wrong, or a UDP checksum over IPv6 is zero (RFC 8200 8.1).</summary>
    BadChecksum,
    /// <summary>
    /// The UDP checksum field holds only the pseudo-header sum (<see cref="HostPolicy.IsPartialChecksum(Ipv4Packet, UdpDatagram)"/>), left for
    /// offload by a sender on this machine, on a device not known to hand such frames over (<see cref="HostPolicy.AcceptsPartialUdpChecksum"/> off).
    /// </summary>
    PartialChecksum,
    /// <summary>
    /// A correct host would not answer it (<see cref="HostPolicy"/>), it was addressed to another MAC, address or port, or it is
    /// no UDP right after the IP header (another protocol, or an IPv6 extension header, which the kernel handles).
    /// </summary>
    Unanswerable,
}

/// <summary>
/// Ethernet/IP/UDP frames as the UDP service takes and sends them: untagged, and either IPv4 without options (the
/// payload starts at byte 42, <see cref="HeadersLength"/>) or IPv6 without extension headers (byte 62,
/// <see cref="Ipv6HeadersLength"/>). Checks a received frame, turns it into its reply in place, or writes a new datagram.
/// </summary>
internal static class UdpFrame
{
    public const int HeadersLength = EthernetFrame.HeaderLength + Ipv4Packet.MinimumHeaderLength + UdpDatagram.HeaderLength;
    public const int Ipv6HeadersLength = EthernetFrame.HeaderLength + Ipv6Packet.FixedHeaderLength + UdpDatagram.HeaderLength;
    const int Ip = EthernetFrame.HeaderLength, Udp = Ip + Ipv4Packet.MinimumHeaderLength, Udp6 = Ip + Ipv6Packet.FixedHeaderLength;
    const int Ipv6NextHeader = Ip + 6, Ipv6Source = Ip + 8, Ipv6Destination = Ip + 24;
    const ushort DontFragment = 0x4000, FragmentBits = 0x3FFF;

    /// <summary>True when the frame carries IPv6 (by its EtherType; the rest is <see cref="Check"/>'s).</summary>
    public static bool IsIpv6(ReadOnlySpan<byte> frame) =>
        frame.Length >= EthernetFrame.HeaderLength && BinaryPrimitives.ReadUInt16BigEndian(frame[12..]) == (ushort)EtherType.Ipv6;

    /// <summary>Where a checked frame's UDP payload starts: <see cref="HeadersLength"/> or, over IPv6, <see cref="Ipv6HeadersLength"/>.</summary>
    public static int HeadersLengthOf(ReadOnlySpan<byte> frame) => IsIpv6(frame) ? Ipv6HeadersLength : HeadersLength;

    /// <summary>
    /// Checks a received frame as the host it was sent to would: it must be addressed to one of <paramref name="served"/>
    /// (address and port), then <paramref name="hosts"/>' policy for that address applies: <see cref="HostPolicy.CheckIpv4"/> or
    /// <see cref="HostPolicy.CheckIpv6"/>, then <see cref="HostPolicy.CheckUdp(Ipv4Packet, out UdpDatagram)"/> or its IPv6 form
    /// (MAC, source, lengths, checksums), and no <see cref="ReplyRules.IsReflectorPort"/> source port. On success
    /// <paramref name="payloadLength"/> is the UDP payload's length (bytes past the UDP length are padding).
    /// </summary>
    /// <remarks>
    /// First the layout the service reads at fixed offsets: the payload must start at byte 42 (no VLAN tag, no IPv4
    /// options) or 62 (IPv6, no extension header), so a fragment or options are malformed here. Then the served endpoint: the steering program matches it,
    /// but a foreign XSKMAP's program (<see cref="UdpServiceOptions.XskMap"/>) may redirect anything, and a datagram for a
    /// port nobody serves here is no request of ours. Then the host's own checks, with the service's port rule:
    /// it serves several ports and answers its own requests, so it refuses reflectors, not amplifiers or its own port as a source.
    /// </remarks>
    public static UdpFrameCheck Check(Span<byte> frame, ReadOnlySpan<HostPolicy> hosts, ReadOnlySpan<UdpEndpoint> served, out int payloadLength)
    {
        payloadLength = 0;
        if (IsIpv6(frame))
            return CheckIpv6(frame, hosts, served, out payloadLength);
        if (frame.Length < HeadersLength
            || BinaryPrimitives.ReadUInt16BigEndian(frame[12..]) != (ushort)EtherType.Ipv4
            || frame[Ip] != 0x45
            || (BinaryPrimitives.ReadUInt16BigEndian(frame[(Ip + 6)..]) & FragmentBits) != 0)
            return UdpFrameCheck.Malformed;
        if (frame[Ip + 9] != (byte)IpProtocol.Udp || !served.Contains(Local(frame)))
            return UdpFrameCheck.Unanswerable;
        uint destination = BinaryPrimitives.ReadUInt32BigEndian(frame[(Ip + 16)..]);
        int local = 0;
        while (local < hosts.Length && hosts[local].Address != destination)
            local++;
        if (local == hosts.Length)
            return UdpFrameCheck.Unanswerable;
        ref readonly HostPolicy host = ref hosts[local];
        EthernetFrame.TryCreate(frame, out EthernetFrame ethernet);
        ReplyVerdict verdict = host.CheckIpv4(ethernet, out Ipv4Packet ip);
        UdpDatagram udp = default;
        if (verdict == ReplyVerdict.Answer)
            verdict = host.CheckUdp(ip, out udp);
        return Classify(verdict, udp, verdict == ReplyVerdict.BadChecksum && udp.Length != 0 && HostPolicy.IsPartialChecksum(ip, udp), out payloadLength);
    }

    // Only a fixed header followed by UDP: the steering program leaves extension headers (and with them fragments) to the kernel.
    static UdpFrameCheck CheckIpv6(Span<byte> frame, ReadOnlySpan<HostPolicy> hosts, ReadOnlySpan<UdpEndpoint> served, out int payloadLength)
    {
        payloadLength = 0;
        if (frame.Length < Ipv6HeadersLength || frame[Ip] >> 4 != 6)
            return UdpFrameCheck.Malformed;
        if (frame[Ipv6NextHeader] != (byte)IpProtocol.Udp || !served.Contains(Local(frame)))
            return UdpFrameCheck.Unanswerable;
        UInt128 destination = BinaryPrimitives.ReadUInt128BigEndian(frame[Ipv6Destination..]);
        int local = 0;
        while (local < hosts.Length && hosts[local].Ipv6Address != destination)
            local++;
        if (local == hosts.Length)
            return UdpFrameCheck.Unanswerable;
        ref readonly HostPolicy host = ref hosts[local];
        EthernetFrame.TryCreate(frame, out EthernetFrame ethernet);
        ReplyVerdict verdict = host.CheckIpv6(ethernet, out Ipv6Packet ip);
        UdpDatagram udp = default;
        if (verdict == ReplyVerdict.Answer)
            verdict = host.CheckUdp(ip, out udp);
        return Classify(verdict, udp, verdict == ReplyVerdict.BadChecksum && udp.Length != 0 && HostPolicy.IsPartialChecksum(ip, udp), out payloadLength);
    }

    static UdpFrameCheck Classify(ReplyVerdict verdict, UdpDatagram udp, bool partialChecksum, out int payloadLength)
    {
        payloadLength = 0;
        switch (verdict)
        {
            case ReplyVerdict.Answer when !ReplyRules.IsReflectorPort(udp.SourcePort):
                payloadLength = udp.Length - UdpDatagram.HeaderLength;
                return UdpFrameCheck.Ok;
            case ReplyVerdict.Malformed:
                return UdpFrameCheck.Malformed;
            case ReplyVerdict.BadChecksum:
                return partialChecksum ? UdpFrameCheck.PartialChecksum : UdpFrameCheck.BadChecksum;
            default:
                return UdpFrameCheck.Unanswerable;
        }
    }

    /// <summary>The sender's endpoint of a checked frame.</summary>
    public static UdpEndpoint Remote(ReadOnlySpan<byte> frame) => IsIpv6(frame)
        ? new(BinaryPrimitives.ReadUInt128BigEndian(frame[Ipv6Source..]), BinaryPrimitives.ReadUInt16BigEndian(frame[Udp6..]))
        : new(BinaryPrimitives.ReadUInt32BigEndian(frame[(Ip + 12)..]), BinaryPrimitives.ReadUInt16BigEndian(frame[Udp..]));

    /// <summary>The endpoint a checked frame was sent to (one the service serves).</summary>
    public static UdpEndpoint Local(ReadOnlySpan<byte> frame) => IsIpv6(frame)
        ? new(BinaryPrimitives.ReadUInt128BigEndian(frame[Ipv6Destination..]), BinaryPrimitives.ReadUInt16BigEndian(frame[(Udp6 + 2)..]))
        : new(BinaryPrimitives.ReadUInt32BigEndian(frame[(Ip + 16)..]), BinaryPrimitives.ReadUInt16BigEndian(frame[(Udp + 2)..]));

    /// <summary>
    /// Turns a checked frame into the reply to its sender, carrying the <paramref name="payloadLength"/> bytes
    /// now at <see cref="HeadersLengthOf"/>: MACs, addresses and ports swapped, fresh headers and checksums.
    /// Returns the frame's length.
    /// </summary>
    public static int WriteReply(Span<byte> frame, int payloadLength)
    {
        MacAddress us = new(frame), them = new(frame[MacAddress.Length..]);
        UdpEndpoint remote = Remote(frame), local = Local(frame);
        return WriteHeaders(frame, us, them, local, remote, payloadLength);
    }

    /// <summary>
    /// Writes Ethernet, IP and UDP headers with their checksums in front of the payload already at
    /// <see cref="HeadersLengthOf"/> (by <paramref name="from"/>'s family; <paramref name="to"/> is of the same); returns the
    /// frame's length. IPv4: 20 bytes, DF, id 0 as RFC 6864 allows for atomic datagrams, TTL 64. IPv6: 40 bytes, traffic
    /// class and flow label 0, hop limit 64; the UDP checksum is always computed (RFC 8200 8.1).
    /// </summary>
    public static int WriteHeaders(Span<byte> frame, MacAddress sourceMac, MacAddress destinationMac, UdpEndpoint from, UdpEndpoint to, int payloadLength)
    {
        int udpLength = UdpDatagram.HeaderLength + payloadLength;
        if (from.IsIpv6)
        {
            EthernetFrame.WriteHeader(frame, destinationMac, sourceMac, EtherType.Ipv6);
            Span<byte> addresses = stackalloc byte[2 * Ipv6Packet.AddressLength];
            BinaryPrimitives.WriteUInt128BigEndian(addresses, from.Address);
            BinaryPrimitives.WriteUInt128BigEndian(addresses[Ipv6Packet.AddressLength..], to.Address);
            ReadOnlySpan<byte> source = addresses[..Ipv6Packet.AddressLength], destination = addresses[Ipv6Packet.AddressLength..];
            Span<byte> ip6 = frame.Slice(Ip, Ipv6Packet.FixedHeaderLength + udpLength);
            Ipv6Packet.WriteHeader(ip6, IpProtocol.Udp, source, destination, udpLength);
            UdpDatagram.Write(ip6[Ipv6Packet.FixedHeaderLength..], from.Port, to.Port, InternetChecksum.PseudoHeaderSum(source, destination, IpProtocol.Udp, udpLength));
            return Ipv6HeadersLength + payloadLength;
        }
        EthernetFrame.WriteHeader(frame, destinationMac, sourceMac, EtherType.Ipv4);
        Span<byte> ip = frame.Slice(Ip, Ipv4Packet.MinimumHeaderLength + udpLength);
        Ipv4Packet.WriteHeader(ip, IpProtocol.Udp, (uint)from.Address, (uint)to.Address, udpLength);
        // DF, then the header checksum again over the final header.
        BinaryPrimitives.WriteUInt16BigEndian(ip[6..], DontFragment);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], InternetChecksum.Compute(ip[..Ipv4Packet.MinimumHeaderLength]));
        UdpDatagram.Write(ip[Ipv4Packet.MinimumHeaderLength..], from.Port, to.Port, InternetChecksum.PseudoHeaderSum((uint)from.Address, (uint)to.Address, IpProtocol.Udp, udpLength));
        return HeadersLength + payloadLength;
    }
}
