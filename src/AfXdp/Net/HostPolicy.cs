using System.Buffers.Binary;

namespace AfXdp.Net;

/// <summary>What <see cref="HostPolicy"/> decided about a frame: answer it, or why not.</summary>
public enum ReplyVerdict : byte
{
    /// <summary>A request a correct host answers.</summary>
    Answer,
    /// <summary>Not a request for this host: another MAC, address or port, not a request, or an IPv4 fragment (nothing here reassembles).</summary>
    NotForUs,
    /// <summary>Lengths that do not hold: a truncated header, or a UDP length past the end of the IP payload.</summary>
    Malformed,
    /// <summary>A wrong IPv4 header, ICMP or UDP checksum: the bytes were damaged, so no reply (RFC 1122 3.2.1.2, 3.2.2, 4.1.3.4); over IPv6 also a zero UDP checksum (RFC 8200 8.1).</summary>
    BadChecksum,
    /// <summary>A source no host answers (RFC 1122 3.2.1.3, 3.3.6): a broadcast or multicast source MAC, or a source address that is not one unicast host.</summary>
    BadSource,
    /// <summary>A UDP source port of a service that answers anything (or port 0, or the service's own port): answering could start a loop or reflect an attack.</summary>
    ReflectorPort,
}

/// <summary>
/// "Would a correct host answer this frame?" (RFC 1122), frame by frame, for every responder of the library
/// (echo, and the UDP service's frame check): the host's MAC, its IPv4 address and prefix length or its IPv6 address, and the checks
/// each step of a reply makes: Ethernet addresses, IPv4 or IPv6 header (and IPv4's checksum), source address, ICMP and
/// UDP checksums, UDP lengths and source ports. Whom to answer is <see cref="ReplyRules"/>. Pure: reads the frame, changes nothing, allocates nothing.
/// </summary>
/// <remarks>
/// A responder answering what it should not becomes a reflector: two of them answering each other's
/// replies loop forever, and a spoofed source turns them into an amplifier against a victim. So a
/// reply goes only to one unicast host (never to a broadcast, multicast, loopback, reserved, own,
/// subnet-broadcast or subnet-network source), only for undamaged bytes, and never to a port whose service answers anything.
/// </remarks>
public readonly record struct HostPolicy
{
    /// <summary>The host: answers come from <paramref name="mac"/> and <paramref name="address"/> (most significant byte first), on a subnet of <paramref name="prefixLength"/> bits.</summary>
    public HostPolicy(MacAddress mac, uint address, int prefixLength)
    {
        SubnetBroadcast = ReplyRules.SubnetBroadcast(address, prefixLength);
        SubnetNetwork = ReplyRules.SubnetNetwork(address, prefixLength);
        Mac = mac;
        Address = address;
        PrefixLength = prefixLength;
    }

    /// <summary>
    /// The host with the IPv6 address <paramref name="ipv6Address"/> (most significant byte first, <see cref="Ipv6Address"/>):
    /// answers come from <paramref name="mac"/> and that address. IPv6 has no broadcast, so no prefix is needed to tell whom not to answer.
    /// </summary>
    public HostPolicy(MacAddress mac, UInt128 ipv6Address)
    {
        if (ipv6Address == UInt128.Zero || Net.Ipv6Address.IsIpv4Mapped(ipv6Address))
            throw new ArgumentException($"{Net.Ipv6Address.ToIPAddress(ipv6Address)} is no IPv6 address a host has.", nameof(ipv6Address));
        Mac = mac;
        Ipv6Address = ipv6Address;
    }

    /// <summary>Our MAC: the only destination of a request we answer, and the source of every reply.</summary>
    public MacAddress Mac { get; }

    /// <summary>Our IPv4 address, most significant byte first (10.0.0.1 is 0x0A000001); 0 for a policy of an IPv6 address.</summary>
    public uint Address { get; }

    /// <summary>Our IPv6 address, most significant byte first (<see cref="Net.Ipv6Address"/>); 0 (::) for a policy of an IPv4 address.</summary>
    public UInt128 Ipv6Address { get; }

    /// <summary>The subnet's prefix length, 0 to 32; it places the subnet broadcast address.</summary>
    public int PrefixLength { get; }

    /// <summary>The subnet's directed broadcast (host bits all ones); 0 for /31 and /32, which have none (RFC 3021).</summary>
    public uint SubnetBroadcast { get; }

    /// <summary>The subnet's network address (host bits all zero, <see cref="ReplyRules.SubnetNetwork"/>); 0 for /31 and /32, which have none (RFC 3021).</summary>
    public uint SubnetNetwork { get; }

    /// <summary>
    /// Also accept a UDP checksum field that holds only the pseudo-header sum. That is what a sender
    /// on the same machine leaves when it offloads the checksum (CHECKSUM_PARTIAL) and its frame
    /// crosses a veth or tap device: the kernel trusts it, but AF_XDP does not pass on the flag. On a
    /// physical wire a field like that is a bad checksum, so this is on only for the devices that hand
    /// such frames over (the device layer's DeviceDriver.HandsOverPartialChecksums).
    /// </summary>
    public bool AcceptsPartialUdpChecksum { get; init; }

    /// <summary>True when <paramref name="source"/> names one unicast host we may answer (<see cref="ReplyRules.IsAnswerableSource(uint, uint, uint, uint)"/>).</summary>
    public bool IsAnswerableSource(uint source) => ReplyRules.IsAnswerableSource(source, Address, SubnetBroadcast, SubnetNetwork);

    /// <summary>True when the IPv6 <paramref name="source"/> names one unicast host we may answer (<see cref="ReplyRules.IsAnswerableSource(UInt128, UInt128)"/>).</summary>
    public bool IsAnswerableSource(UInt128 source) => ReplyRules.IsAnswerableSource(source, Ipv6Address);

    /// <summary>
    /// True for a UDP source port an echo-style responder never answers: a reflector (<see cref="ReplyRules.IsReflectorPort"/>)
    /// or an amplifier (<see cref="ReplyRules.IsAmplifierPort"/>), since what it sends back is what it received.
    /// </summary>
    public static bool IsRefusedSourcePort(ushort port) => ReplyRules.IsReflectorPort(port) || ReplyRules.IsAmplifierPort(port);

    /// <summary>
    /// An ARP request we answer: to our MAC or broadcast, from a unicast MAC, asking for our address,
    /// from an answerable sender address or 0.0.0.0 (an RFC 5227 probe, answered as Linux does).
    /// <paramref name="arp"/> is the packet when the verdict is <see cref="ReplyVerdict.Answer"/>.
    /// </summary>
    public ReplyVerdict CheckArpRequest(EthernetFrame frame, out ArpPacket arp)
    {
        arp = default;
        MacAddress destination = frame.Destination;
        if (destination != Mac && !destination.IsBroadcast)
            return ReplyVerdict.NotForUs;
        if (frame.EtherType != EtherType.Arp || !ArpPacket.TryCreate(frame.Payload, out arp))
            return ReplyVerdict.NotForUs;
        if (arp.Operation != ArpOperation.Request || arp.TargetIp != Address)
            return ReplyVerdict.NotForUs;
        if (!ReplyRules.IsAnswerableSourceMac(frame.Source) || !ReplyRules.IsAnswerableSourceMac(arp.SenderMac)
            || (arp.SenderIp != 0 && !IsAnswerableSource(arp.SenderIp)))
            return ReplyVerdict.BadSource;
        return ReplyVerdict.Answer;
    }

    /// <summary>
    /// An IPv4 datagram we may answer: to our MAC (a link-layer broadcast carrying a unicast address is
    /// discarded, RFC 1122 3.3.6) and address, from a unicast MAC and an answerable source, header
    /// checksum right, not a fragment. <paramref name="ip"/> is the datagram when the verdict is
    /// <see cref="ReplyVerdict.Answer"/>; check its payload next (<see cref="CheckIcmpEchoRequest"/>, <see cref="CheckUdp(Ipv4Packet, out UdpDatagram)"/>).
    /// </summary>
    public ReplyVerdict CheckIpv4(EthernetFrame frame, out Ipv4Packet ip)
    {
        ip = default;
        if (frame.Destination != Mac || frame.EtherType != EtherType.Ipv4)
            return ReplyVerdict.NotForUs;
        if (!Ipv4Packet.TryCreate(frame.Payload, out ip))
            return ReplyVerdict.Malformed;
        if (ip.Destination != Address || Address == 0)
            return ReplyVerdict.NotForUs;
        if (!ip.IsChecksumValid)
            return ReplyVerdict.BadChecksum;
        if (ip.IsFragment)
            return ReplyVerdict.NotForUs;
        if (!ReplyRules.IsAnswerableSourceMac(frame.Source) || !IsAnswerableSource(ip.Source))
            return ReplyVerdict.BadSource;
        return ReplyVerdict.Answer;
    }

    /// <summary>
    /// An IPv6 packet we may answer: to our MAC and IPv6 address, from a unicast MAC and an answerable source
    /// (<see cref="ReplyRules.IsAnswerableSource(UInt128, UInt128)"/>), lengths holding, not a fragment.
    /// <paramref name="ip"/> is the packet when the verdict is <see cref="ReplyVerdict.Answer"/>; check its payload next
    /// (<see cref="CheckUdp(Ipv6Packet, out UdpDatagram)"/>).
    /// </summary>
    public ReplyVerdict CheckIpv6(EthernetFrame frame, out Ipv6Packet ip)
    {
        ip = default;
        if (frame.Destination != Mac || frame.EtherType != EtherType.Ipv6)
            return ReplyVerdict.NotForUs;
        if (!Ipv6Packet.TryCreate(frame.Payload, out ip))
            return ReplyVerdict.Malformed;
        if (Ipv6Address == UInt128.Zero || BinaryPrimitives.ReadUInt128BigEndian(ip.Destination) != Ipv6Address)
            return ReplyVerdict.NotForUs;
        if (ip.IsFragment)
            return ReplyVerdict.NotForUs;
        if (!ReplyRules.IsAnswerableSourceMac(frame.Source) || !IsAnswerableSource(BinaryPrimitives.ReadUInt128BigEndian(ip.Source)))
            return ReplyVerdict.BadSource;
        return ReplyVerdict.Answer;
    }

    /// <summary>An ICMP echo request (RFC 792) whose checksum is right, in a datagram <see cref="CheckIpv4"/> accepted.</summary>
    public static ReplyVerdict CheckIcmpEchoRequest(Ipv4Packet ip, out IcmpV4Echo echo)
    {
        echo = default;
        if (ip.Protocol != IpProtocol.Icmp)
            return ReplyVerdict.NotForUs;
        if (!IcmpV4Echo.TryCreate(ip.Payload, out echo))
            return ip.Payload.Length < IcmpV4Echo.HeaderLength ? ReplyVerdict.Malformed : ReplyVerdict.NotForUs;
        if (echo.Type != IcmpV4Type.EchoRequest)
            return ReplyVerdict.NotForUs;
        return echo.IsChecksumValid ? ReplyVerdict.Answer : ReplyVerdict.BadChecksum;
    }

    /// <summary>
    /// A UDP datagram in a datagram <see cref="CheckIpv4"/> accepted, whose lengths and checksum hold: its
    /// length field within the IP payload (<paramref name="udp"/> then ends there, as Linux trims it; a length
    /// past the payload is malformed), its checksum right or absent (zero, RFC 768), or, with
    /// <see cref="AcceptsPartialUdpChecksum"/>, left for offload (<see cref="IsPartialChecksum(Ipv4Packet, UdpDatagram)"/>). Ports are the
    /// caller's: <paramref name="udp"/> is set whenever the lengths hold, so a caller can tell a partial checksum from a wrong one.
    /// </summary>
    public ReplyVerdict CheckUdp(Ipv4Packet ip, out UdpDatagram udp)
    {
        if (ip.Protocol != IpProtocol.Udp)
        {
            udp = default;
            return ReplyVerdict.NotForUs;
        }
        if (!UdpDatagram.TryCreate(ip.Payload, out udp))
            return ReplyVerdict.Malformed;
        if (udp.HasChecksum && !udp.IsChecksumValid(PseudoHeaderSum(ip, udp)) && !(AcceptsPartialUdpChecksum && IsPartialChecksum(ip, udp)))
            return ReplyVerdict.BadChecksum;
        return ReplyVerdict.Answer;
    }

    /// <summary>
    /// A UDP datagram in a packet <see cref="CheckIpv6"/> accepted, whose lengths and checksum hold, as
    /// <see cref="CheckUdp(Ipv4Packet, out UdpDatagram)"/> but for one rule: over IPv6 the checksum is mandatory, so a
    /// zero checksum is a bad one (RFC 8200 8.1: "IPv6 receivers must discard UDP packets containing a zero checksum").
    /// </summary>
    public ReplyVerdict CheckUdp(Ipv6Packet ip, out UdpDatagram udp)
    {
        if (ip.Protocol != IpProtocol.Udp)
        {
            udp = default;
            return ReplyVerdict.NotForUs;
        }
        if (!UdpDatagram.TryCreate(ip.Payload, out udp))
            return ReplyVerdict.Malformed;
        if (!udp.HasChecksum || !udp.IsChecksumValid(PseudoHeaderSum(ip, udp)) && !(AcceptsPartialUdpChecksum && IsPartialChecksum(ip, udp)))
            return ReplyVerdict.BadChecksum;
        return ReplyVerdict.Answer;
    }

    /// <summary>
    /// True when <paramref name="udp"/>'s checksum field holds only the pseudo-header sum, as a sender's stack leaves
    /// it for the NIC to finish (udp4_hwcsum: ~csum_tcpudp_magic(...)): not damage, but a checksum never computed.
    /// </summary>
    public static bool IsPartialChecksum(Ipv4Packet ip, UdpDatagram udp) => udp.Checksum == InternetChecksum.Sum([], PseudoHeaderSum(ip, udp));

    /// <summary>As <see cref="IsPartialChecksum(Ipv4Packet, UdpDatagram)"/> over IPv6 (udp6_set_csum: ~csum_ipv6_magic(...)).</summary>
    public static bool IsPartialChecksum(Ipv6Packet ip, UdpDatagram udp) => udp.Checksum == InternetChecksum.Sum([], PseudoHeaderSum(ip, udp));

    /// <summary>
    /// A UDP echo request to <paramref name="port"/> we may answer (<see cref="CheckUdp(Ipv4Packet, out UdpDatagram)"/>),
    /// whose source port is neither refused (<see cref="IsRefusedSourcePort"/>) nor <paramref name="port"/> itself,
    /// so two instances of one service never answer each other.
    /// </summary>
    public ReplyVerdict CheckUdp(Ipv4Packet ip, ushort port, out UdpDatagram udp)
    {
        ReplyVerdict verdict = CheckUdp(ip, out udp);
        if (verdict != ReplyVerdict.Answer)
            return verdict;
        if (udp.DestinationPort != port)
            return ReplyVerdict.NotForUs;
        ushort source = udp.SourcePort;
        return IsRefusedSourcePort(source) || source == port ? ReplyVerdict.ReflectorPort : ReplyVerdict.Answer;
    }

    // Over the UDP length, not the IP payload: bytes past it are not part of the datagram (RFC 768).
    static uint PseudoHeaderSum(Ipv4Packet ip, UdpDatagram udp) => InternetChecksum.PseudoHeaderSum(ip.Source, ip.Destination, IpProtocol.Udp, udp.Length);

    static uint PseudoHeaderSum(Ipv6Packet ip, UdpDatagram udp) => InternetChecksum.PseudoHeaderSum(ip.Source, ip.Destination, IpProtocol.Udp, udp.Length);
}
