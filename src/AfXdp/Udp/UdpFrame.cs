using System.Buffers.Binary;
using AfXdp.Net;

namespace AfXdp.Udp;

/// <summary>Why a frame the steering program took was not handed to the application.</summary>
internal enum UdpFrameCheck : byte
{
    Ok,
    /// <summary>Not an untagged, unfragmented IPv4/UDP datagram without options whose lengths hold.</summary>
    Malformed,
    /// <summary>The IPv4 header or UDP checksum is wrong.</summary>
    BadChecksum,
    /// <summary>
    /// The UDP checksum field holds only the pseudo-header sum (<see cref="HostPolicy.IsPartialChecksum"/>), left for
    /// offload by a sender on this machine, on a device not known to hand such frames over (<see cref="HostPolicy.AcceptsPartialUdpChecksum"/> off).
    /// </summary>
    PartialChecksum,
    /// <summary>A correct host would not answer it (<see cref="HostPolicy"/>), or it was addressed to another MAC or address.</summary>
    Unanswerable,
}

/// <summary>
/// Ethernet/IPv4/UDP frames as the UDP service takes and sends them: untagged, IPv4 header without
/// options, so the payload always starts at byte 42. Checks a received frame, turns it into its reply
/// in place, or writes a new datagram.
/// </summary>
internal static class UdpFrame
{
    public const int HeadersLength = EthernetFrame.HeaderLength + Ipv4Packet.MinimumHeaderLength + UdpDatagram.HeaderLength;
    const int Ip = EthernetFrame.HeaderLength, Udp = Ip + Ipv4Packet.MinimumHeaderLength;
    const ushort DontFragment = 0x4000, FragmentBits = 0x3FFF;

    /// <summary>
    /// Checks a received frame as the host it was sent to would: it must be addressed to one of <paramref name="served"/>
    /// (address and port), then <paramref name="hosts"/>' policy for that address applies: <see cref="HostPolicy.CheckIpv4"/> and
    /// <see cref="HostPolicy.CheckUdp(Ipv4Packet, out UdpDatagram)"/> (MAC, source, lengths, checksums), and no
    /// <see cref="ReplyRules.IsReflectorPort"/> source port. On success <paramref name="payloadLength"/> is the UDP payload's
    /// length (bytes past the UDP length are padding).
    /// </summary>
    /// <remarks>
    /// First the layout the service reads at fixed offsets: the payload must start at byte 42 (no VLAN tag, no IPv4
    /// options), so a fragment or options are malformed here. Then the served endpoint: the steering program matches it,
    /// but a foreign XSKMAP's program (<see cref="UdpServiceOptions.XskMap"/>) may redirect anything, and a datagram for a
    /// port nobody serves here is no request of ours. Then the host's own checks, with the service's port rule:
    /// it serves several ports and answers its own requests, so it refuses reflectors, not amplifiers or its own port as a source.
    /// </remarks>
    public static UdpFrameCheck Check(Span<byte> frame, ReadOnlySpan<HostPolicy> hosts, ReadOnlySpan<UdpEndpoint> served, out int payloadLength)
    {
        payloadLength = 0;
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
        switch (verdict)
        {
            case ReplyVerdict.Answer when !ReplyRules.IsReflectorPort(udp.SourcePort):
                payloadLength = udp.Length - UdpDatagram.HeaderLength;
                return UdpFrameCheck.Ok;
            case ReplyVerdict.Malformed:
                return UdpFrameCheck.Malformed;
            case ReplyVerdict.BadChecksum:
                return udp.Length != 0 && HostPolicy.IsPartialChecksum(ip, udp) ? UdpFrameCheck.PartialChecksum : UdpFrameCheck.BadChecksum;
            default:
                return UdpFrameCheck.Unanswerable;
        }
    }

    /// <summary>The sender's endpoint of a checked frame.</summary>
    public static UdpEndpoint Remote(ReadOnlySpan<byte> frame) =>
        new(BinaryPrimitives.ReadUInt32BigEndian(frame[(Ip + 12)..]), BinaryPrimitives.ReadUInt16BigEndian(frame[Udp..]));

    /// <summary>The endpoint a checked frame was sent to (one the service serves).</summary>
    public static UdpEndpoint Local(ReadOnlySpan<byte> frame) =>
        new(BinaryPrimitives.ReadUInt32BigEndian(frame[(Ip + 16)..]), BinaryPrimitives.ReadUInt16BigEndian(frame[(Udp + 2)..]));

    /// <summary>
    /// Turns a checked frame into the reply to its sender, carrying the <paramref name="payloadLength"/> bytes
    /// now at <see cref="HeadersLength"/>: MACs, addresses and ports swapped, fresh headers and checksums.
    /// Returns the frame's length.
    /// </summary>
    public static int WriteReply(Span<byte> frame, int payloadLength)
    {
        MacAddress us = new(frame), them = new(frame[MacAddress.Length..]);
        UdpEndpoint remote = Remote(frame), local = Local(frame);
        return WriteHeaders(frame, us, them, local, remote, payloadLength);
    }

    /// <summary>
    /// Writes Ethernet, IPv4 (20 bytes, DF, id 0 as RFC 6864 allows for atomic datagrams, TTL 64) and UDP
    /// headers with their checksums in front of the payload already at <see cref="HeadersLength"/>; returns the frame's length.
    /// </summary>
    public static int WriteHeaders(Span<byte> frame, MacAddress sourceMac, MacAddress destinationMac, UdpEndpoint from, UdpEndpoint to, int payloadLength)
    {
        int udpLength = UdpDatagram.HeaderLength + payloadLength;
        EthernetFrame.WriteHeader(frame, destinationMac, sourceMac, EtherType.Ipv4);
        Span<byte> ip = frame.Slice(Ip, Ipv4Packet.MinimumHeaderLength + udpLength);
        Ipv4Packet.WriteHeader(ip, IpProtocol.Udp, from.Address, to.Address, udpLength);
        // DF, then the header checksum again over the final header.
        BinaryPrimitives.WriteUInt16BigEndian(ip[6..], DontFragment);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], InternetChecksum.Compute(ip[..Ipv4Packet.MinimumHeaderLength]));
        UdpDatagram.Write(ip[Ipv4Packet.MinimumHeaderLength..], from.Port, to.Port, InternetChecksum.PseudoHeaderSum(from.Address, to.Address, IpProtocol.Udp, udpLength));
        return HeadersLength + payloadLength;
    }
}
