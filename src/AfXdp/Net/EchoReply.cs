namespace AfXdp.Net;

/// <summary>What <see cref="EchoReply.TurnAround"/> made of a frame.</summary>
public enum EchoReplyKind
{
    /// <summary>Not a request this host answers; the frame is unchanged.</summary>
    None,
    /// <summary>An ARP request for our address, now the reply.</summary>
    Arp,
    /// <summary>An ICMP echo request (ping) to our address, now the echo reply.</summary>
    IcmpEcho,
    /// <summary>A UDP datagram to our address and echo port, now going back to its sender.</summary>
    UdpEcho,
}

/// <summary>The host an echo responder plays: its MAC, its IPv4 address (most significant byte first) and its UDP echo port.</summary>
public readonly record struct EchoIdentity(MacAddress Mac, uint Address, ushort UdpPort);

/// <summary>
/// Turns requests into replies in place, in the frame they arrived in, so a responder sends back the
/// very buffer it received: ARP (RFC 826), ICMP echo (RFC 792) and UDP echo (RFC 862), over IPv4,
/// untagged or behind one VLAN tag (the tag is kept). The IPv4 header and ICMP checksums are
/// updated incrementally (a ping whose checksum was wrong gets a reply wrong the same way, which the
/// sender then drops); the UDP checksum is computed afresh. Allocates nothing.
/// </summary>
public static class EchoReply
{
    /// <summary>
    /// Rewrites <paramref name="frame"/> into the reply to it and says which kind, or returns
    /// <see cref="EchoReplyKind.None"/> and leaves it alone. The reply has the request's length.
    /// </summary>
    public static EchoReplyKind TurnAround(Span<byte> frame, in EchoIdentity us)
    {
        if (!EthernetFrame.TryCreate(frame, out EthernetFrame ethernet))
            return EchoReplyKind.None;
        EchoReplyKind kind = ethernet.EtherType switch
        {
            EtherType.Arp => TurnAroundArp(ethernet.Payload, us),
            EtherType.Ipv4 => TurnAroundIpv4(ethernet.Payload, us),
            _ => EchoReplyKind.None,
        };
        if (kind != EchoReplyKind.None)
        {
            ethernet.Destination = ethernet.Source;
            ethernet.Source = us.Mac;
        }
        return kind;
    }

    static EchoReplyKind TurnAroundArp(Span<byte> payload, in EchoIdentity us)
    {
        if (!ArpPacket.TryCreate(payload, out ArpPacket arp) || arp.Operation != ArpOperation.Request || arp.TargetIp != us.Address)
            return EchoReplyKind.None;
        arp.ConvertToReply(us.Mac);
        return EchoReplyKind.Arp;
    }

    static EchoReplyKind TurnAroundIpv4(Span<byte> payload, in EchoIdentity us)
    {
        // A fragment is not the whole request; the header checksum is the one this host must check (RFC 1122 3.2.1.2).
        if (!Ipv4Packet.TryCreate(payload, out Ipv4Packet ip) || ip.Destination != us.Address || ip.IsFragment || !ip.IsChecksumValid)
            return EchoReplyKind.None;
        switch (ip.Protocol)
        {
            case IpProtocol.Icmp when IcmpV4Echo.TryCreate(ip.Payload, out IcmpV4Echo echo) && echo.Type == IcmpV4Type.EchoRequest:
                echo.ConvertToReply();
                ip.ConvertToReply();
                return EchoReplyKind.IcmpEcho;
            case IpProtocol.Udp when UdpDatagram.TryCreate(ip.Payload, out UdpDatagram udp) && udp.DestinationPort == us.UdpPort:
                udp.SwapPorts();
                ip.ConvertToReply();
                // Recomputed, not kept: a frame from a virtual device (veth, tap, virtio) whose sender
                // offloaded the checksum carries only the pseudo-header part (CHECKSUM_PARTIAL), and
                // AF_XDP does not say so. Zero means "no checksum" and stays (RFC 768).
                if (udp.HasChecksum)
                    udp.UpdateChecksum(InternetChecksum.PseudoHeaderSum(ip.Source, ip.Destination, IpProtocol.Udp, udp.Length));
                return EchoReplyKind.UdpEcho;
            default:
                return EchoReplyKind.None;
        }
    }
}
