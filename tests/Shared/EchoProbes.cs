using System.Buffers.Binary;
using AfXdp.Net;

namespace AfXdp.TestShared;

/// <summary>The peer that asks and the echo host that answers, as a probe set sees them.</summary>
/// <param name="Prefix">The host's prefix length: its subnet's broadcast and network addresses are never answered.</param>
/// <param name="Port">The host's UDP echo port.</param>
internal sealed record EchoHosts(MacAddress PeerMac, uint PeerIp, MacAddress HostMac, uint HostIp, int Prefix, ushort Port)
{
    /// <summary>The policy the host applies.</summary>
    public HostPolicy Policy => new(HostMac, HostIp, Prefix);

    public uint SubnetBroadcast => Policy.SubnetBroadcast;

    public uint SubnetNetwork => Policy.SubnetNetwork;
}

/// <summary>One frame sent at an echo host, and whether a correct host answers it (<see cref="ReplyVerdict.Answer"/>) or why not.</summary>
/// <param name="Steered">
/// Whether `afxdp echo`'s steering program (EchoResponder.Filters) takes it to the socket, where the responder
/// counts it under its verdict; false for what the program leaves to the kernel (another UDP port, a fragment,
/// a frame under 42 bytes), which the responder never sees.
/// </param>
internal sealed record EchoProbe(string Name, byte[] Frame, ReplyVerdict Verdict, bool Steered = true)
{
    public override string ToString() => Name;
}

/// <summary>
/// Requests to an echo host, each built valid and then spoiled in one way: the table of what a correct
/// host answers and what it must not (RFC 1122). The unit tests run it through <see cref="EchoReply"/>;
/// the kernel tests send it at a running responder and watch the wire.
/// </summary>
internal static class EchoProbes
{
    const ushort PeerPort = 40000;
    const int IpStart = EthernetFrame.HeaderLength, L4Start = IpStart + Ipv4Packet.MinimumHeaderLength;
    static readonly MacAddress OtherHostMac = MacAddress.Parse("02:00:00:00:99:99");
    static readonly MacAddress MulticastMac = MacAddress.Parse("01:00:5e:00:00:01");

    /// <summary>Every probe for <paramref name="h"/>: the valid requests first, then each spoiled one.</summary>
    public static IEnumerable<EchoProbe> All(EchoHosts h) => [.. Valid(h), .. Refused(h)];

    /// <summary>Requests a correct host answers.</summary>
    public static IEnumerable<EchoProbe> Valid(EchoHosts h) =>
    [
        new("ARP request, broadcast", Arp(h), ReplyVerdict.Answer),
        new("ARP request to our MAC", Arp(h, destination: h.HostMac), ReplyVerdict.Answer),
        new("ARP probe from 0.0.0.0 (RFC 5227)", Arp(h, senderIp: 0), ReplyVerdict.Answer),
        new("ping", Ping(h), ReplyVerdict.Answer),
        new("UDP echo", Udp(h), ReplyVerdict.Answer),
        new("UDP echo without a checksum", WithUdpChecksum(Udp(h), 0), ReplyVerdict.Answer),
        new("UDP echo with trailing bytes past its UDP length", UdpWithTrailer(h), ReplyVerdict.Answer),
    ];

    /// <summary>Requests a correct host does not answer, each with the reason.</summary>
    public static IEnumerable<EchoProbe> Refused(EchoHosts h)
    {
        // RFC 1122 3.2.1.3 and 3.3.6 sources: "this network", broadcast, multicast, loopback, class E, our own, the subnet's
        // broadcast and its network address (the 4.2BSD broadcast form).
        (string Name, uint Address)[] badSources =
        [
            ("0.0.0.0", 0), ("0.1.2.3 (0/8)", 0x00010203), ("255.255.255.255", 0xFFFF_FFFF), ("224.0.0.1 (multicast)", 0xE000_0001),
            ("239.255.255.250 (multicast)", 0xEFFF_FFFA), ("127.0.0.1 (loopback)", 0x7F00_0001), ("240.0.0.1 (class E)", 0xF000_0001),
            ("our own address", h.HostIp), ("the subnet broadcast", h.SubnetBroadcast), ("the subnet's network address", h.SubnetNetwork),
        ];
        foreach ((string name, uint address) in badSources)
        {
            yield return new($"ping from {name}", Ping(h, sourceIp: address), ReplyVerdict.BadSource);
            yield return new($"UDP from {name}", Udp(h, sourceIp: address), ReplyVerdict.BadSource);
            if (address != 0)
                yield return new($"ARP from {name}", Arp(h, senderIp: address), ReplyVerdict.BadSource);
        }
        foreach ((string name, MacAddress mac) in new[] { ("broadcast", MacAddress.Broadcast), ("multicast", MulticastMac) })
        {
            yield return new($"ping from a {name} MAC", Ping(h, sourceMac: mac), ReplyVerdict.BadSource);
            yield return new($"UDP from a {name} MAC", Udp(h, sourceMac: mac), ReplyVerdict.BadSource);
            yield return new($"ARP from a {name} MAC", Arp(h, sourceMac: mac), ReplyVerdict.BadSource);
        }
        yield return new("ARP whose sender MAC is multicast", Arp(h, senderMac: MulticastMac), ReplyVerdict.BadSource);

        yield return new("ping to another host's MAC", Ping(h, destinationMac: OtherHostMac), ReplyVerdict.NotForUs);
        yield return new("ping to the broadcast MAC", Ping(h, destinationMac: MacAddress.Broadcast), ReplyVerdict.NotForUs);
        yield return new("UDP to another host's MAC", Udp(h, destinationMac: OtherHostMac), ReplyVerdict.NotForUs);
        yield return new("ARP request to another host's MAC", Arp(h, destination: OtherHostMac), ReplyVerdict.NotForUs);
        yield return new("UDP to another port", Udp(h, destinationPort: (ushort)(h.Port + 1)), ReplyVerdict.NotForUs, Steered: false);
        yield return new("UDP fragment", Fragment(Udp(h)), ReplyVerdict.NotForUs, Steered: false);

        yield return new("ping with a bad ICMP checksum", Spoil(Ping(h), L4Start + 2), ReplyVerdict.BadChecksum);
        yield return new("ping with damaged data", Spoil(Ping(h), L4Start + 8 + 3), ReplyVerdict.BadChecksum);
        yield return new("UDP with a bad checksum", Spoil(Udp(h), L4Start + 6), ReplyVerdict.BadChecksum);
        yield return new("UDP with damaged data", Spoil(Udp(h), L4Start + 8 + 1), ReplyVerdict.BadChecksum);
        yield return new("UDP with a bad IPv4 header checksum", Spoil(Udp(h), IpStart + 10), ReplyVerdict.BadChecksum);
        yield return new("ping with a bad IPv4 header checksum", Spoil(Ping(h), IpStart + 11), ReplyVerdict.BadChecksum);

        // Each of these would start a loop with another responder, or reflect at a service.
        foreach (ushort port in new ushort[] { 0, 7, 9, 11, 13, 17, 19, 37, 69, 53, 123, 1900, 11211 })
            yield return new($"UDP from reflector port {port}", Udp(h, sourcePort: port), ReplyVerdict.ReflectorPort);
        yield return new($"UDP from the echo port itself ({h.Port})", Udp(h, sourcePort: h.Port), ReplyVerdict.ReflectorPort);

        yield return new("UDP whose length runs past the IP payload", WithUdpLength(Udp(h), 8 + Payload.Length + 10), ReplyVerdict.Malformed);
        yield return new("UDP whose length is under its header", WithUdpLength(Udp(h), 6), ReplyVerdict.Malformed);
        yield return new("ping of 4 bytes", PingOfLength(h, 4), ReplyVerdict.Malformed, Steered: false);
    }

    /// <summary>The UDP echo payload of <see cref="Udp"/>.</summary>
    public static ReadOnlySpan<byte> Payload => "afxdp reflector probe"u8;

    /// <summary>An ARP request from the peer for the host's address (broadcast unless <paramref name="destination"/> is given).</summary>
    public static byte[] Arp(EchoHosts h, MacAddress? destination = null, MacAddress? sourceMac = null, MacAddress? senderMac = null, uint? senderIp = null)
    {
        byte[] frame = new byte[EthernetFrame.HeaderLength + ArpPacket.Length];
        EthernetFrame.WriteHeader(frame, destination ?? MacAddress.Broadcast, sourceMac ?? h.PeerMac, EtherType.Arp);
        ArpPacket.Write(frame.AsSpan(EthernetFrame.HeaderLength), ArpOperation.Request, senderMac ?? h.PeerMac, senderIp ?? h.PeerIp, default, h.HostIp);
        return frame;
    }

    /// <summary>An echo request from the peer to the host, checksums valid.</summary>
    public static byte[] Ping(EchoHosts h, uint? sourceIp = null, MacAddress? sourceMac = null, MacAddress? destinationMac = null) =>
        PingOfLength(h, IcmpV4Echo.HeaderLength + 32, sourceIp, sourceMac, destinationMac);

    /// <summary>A UDP datagram from the peer to the host's echo port carrying <see cref="Payload"/>, checksums valid.</summary>
    public static byte[] Udp(EchoHosts h, uint? sourceIp = null, MacAddress? sourceMac = null, MacAddress? destinationMac = null,
        ushort sourcePort = PeerPort, ushort? destinationPort = null)
    {
        int udpLength = UdpDatagram.HeaderLength + Payload.Length;
        byte[] frame = Ipv4Frame(h, IpProtocol.Udp, udpLength, sourceIp, sourceMac, destinationMac);
        Span<byte> udp = frame.AsSpan(L4Start);
        Payload.CopyTo(udp[UdpDatagram.HeaderLength..]);
        uint source = sourceIp ?? h.PeerIp;
        UdpDatagram.Write(udp, sourcePort, destinationPort ?? h.Port, InternetChecksum.PseudoHeaderSum(source, h.HostIp, IpProtocol.Udp, udpLength));
        return frame;
    }

    /// <summary><see cref="Udp"/> with its checksum field set to <paramref name="checksum"/>.</summary>
    public static byte[] WithUdpChecksum(byte[] frame, ushort checksum)
    {
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(L4Start + 6), checksum);
        return frame;
    }

    /// <summary>A UDP datagram whose IP payload carries 12 bytes after it: the reply must not.</summary>
    public static byte[] UdpWithTrailer(EchoHosts h)
    {
        byte[] datagram = Udp(h);
        byte[] frame = [.. datagram, .. "TRAILER-BYTE"u8];
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(IpStart + 2), (ushort)(frame.Length - IpStart));
        Assert.True(Ipv4Packet.TryCreate(frame.AsSpan(IpStart), out Ipv4Packet ip));
        ip.UpdateChecksum();
        return frame;
    }

    /// <summary>A copy with one byte's bits flipped.</summary>
    public static byte[] Spoil(byte[] frame, int index)
    {
        byte[] copy = [.. frame];
        copy[index] ^= 0x5A;
        return copy;
    }

    static byte[] WithUdpLength(byte[] frame, int length)
    {
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(L4Start + 4), (ushort)length);
        return frame;
    }

    /// <summary>More fragments set; the header checksum made valid again.</summary>
    static byte[] Fragment(byte[] frame)
    {
        frame[IpStart + 6] |= 0x20;
        Assert.True(Ipv4Packet.TryCreate(frame.AsSpan(IpStart), out Ipv4Packet ip));
        ip.UpdateChecksum();
        return frame;
    }

    static byte[] PingOfLength(EchoHosts h, int icmpLength, uint? sourceIp = null, MacAddress? sourceMac = null, MacAddress? destinationMac = null)
    {
        byte[] frame = Ipv4Frame(h, IpProtocol.Icmp, icmpLength, sourceIp, sourceMac, destinationMac);
        Span<byte> icmp = frame.AsSpan(L4Start);
        icmp[0] = (byte)IcmpV4Type.EchoRequest;
        if (icmpLength < IcmpV4Echo.HeaderLength)
            return frame;
        BinaryPrimitives.WriteUInt16BigEndian(icmp[4..], 0x4242);
        BinaryPrimitives.WriteUInt16BigEndian(icmp[6..], 1);
        for (int i = IcmpV4Echo.HeaderLength; i < icmpLength; i++)
            icmp[i] = (byte)i;
        Assert.True(IcmpV4Echo.TryCreate(icmp, out IcmpV4Echo echo));
        echo.UpdateChecksum();
        return frame;
    }

    static byte[] Ipv4Frame(EchoHosts h, IpProtocol protocol, int payloadLength, uint? sourceIp, MacAddress? sourceMac, MacAddress? destinationMac)
    {
        byte[] frame = new byte[L4Start + payloadLength];
        EthernetFrame.WriteHeader(frame, destinationMac ?? h.HostMac, sourceMac ?? h.PeerMac, EtherType.Ipv4);
        Ipv4Packet.WriteHeader(frame.AsSpan(IpStart), protocol, sourceIp ?? h.PeerIp, h.HostIp, payloadLength);
        return frame;
    }
}
