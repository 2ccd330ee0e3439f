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
    /// Checks a received frame: lengths, checksums (a zero UDP checksum means none, RFC 768), that it was
    /// sent to the MAC and address of one of <paramref name="hosts"/> (the served addresses), and that
    /// that host would answer it (<see cref="HostPolicy.IsAnswerableSource"/>, a unicast source MAC, no
    /// <see cref="ReplyRules.IsReflectorPort"/> source port). On success <paramref name="payloadLength"/>
    /// is the UDP payload's length (bytes past the UDP length are padding).
    /// </summary>
    /// <remarks>
    /// Lengths and checksums are checked here at fixed offsets rather than by <see cref="HostPolicy.CheckIpv4"/>
    /// and <see cref="HostPolicy.CheckUdp"/>: the payload must start at byte 42 (no VLAN tag, no IPv4 options),
    /// a fragment is malformed here, and the service serves several ports, so it does not refuse its own port as a source.
    /// </remarks>
    public static UdpFrameCheck Check(ReadOnlySpan<byte> frame, ReadOnlySpan<HostPolicy> hosts, out int payloadLength)
    {
        payloadLength = 0;
        if (frame.Length < HeadersLength
            || BinaryPrimitives.ReadUInt16BigEndian(frame[12..]) != (ushort)EtherType.Ipv4
            || frame[Ip] != 0x45
            || (BinaryPrimitives.ReadUInt16BigEndian(frame[(Ip + 6)..]) & FragmentBits) != 0
            || frame[Ip + 9] != (byte)IpProtocol.Udp)
            return UdpFrameCheck.Malformed;
        int totalLength = BinaryPrimitives.ReadUInt16BigEndian(frame[(Ip + 2)..]);
        int udpLength = BinaryPrimitives.ReadUInt16BigEndian(frame[(Udp + 4)..]);
        // RFC 1122 3.2.1.2 and RFC 768: a UDP length beyond the IP payload is an error; a shorter one ends the datagram.
        if (totalLength > frame.Length - Ip || udpLength < UdpDatagram.HeaderLength || udpLength > totalLength - Ipv4Packet.MinimumHeaderLength)
            return UdpFrameCheck.Malformed;
        if (InternetChecksum.Sum(frame.Slice(Ip, Ipv4Packet.MinimumHeaderLength)) != 0xFFFF)
            return UdpFrameCheck.BadChecksum;
        uint source = BinaryPrimitives.ReadUInt32BigEndian(frame[(Ip + 12)..]), destination = BinaryPrimitives.ReadUInt32BigEndian(frame[(Ip + 16)..]);
        ReadOnlySpan<byte> datagram = frame.Slice(Udp, udpLength);
        if (BinaryPrimitives.ReadUInt16BigEndian(datagram[6..]) != 0
            && InternetChecksum.Sum(datagram, InternetChecksum.PseudoHeaderSum(source, destination, IpProtocol.Udp, udpLength)) != 0xFFFF)
            return UdpFrameCheck.BadChecksum;
        int local = 0;
        while (local < hosts.Length && hosts[local].Address != destination)
            local++;
        if (local == hosts.Length)
            return UdpFrameCheck.Unanswerable;
        ref readonly HostPolicy host = ref hosts[local];
        if (new MacAddress(frame) != host.Mac
            || new MacAddress(frame[MacAddress.Length..]).IsMulticast
            || !host.IsAnswerableSource(source)
            || ReplyRules.IsReflectorPort(BinaryPrimitives.ReadUInt16BigEndian(datagram)))
            return UdpFrameCheck.Unanswerable;
        payloadLength = udpLength - UdpDatagram.HeaderLength;
        return UdpFrameCheck.Ok;
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
