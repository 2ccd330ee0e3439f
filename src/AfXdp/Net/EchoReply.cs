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

/// <summary>The host an echo responder plays (<see cref="HostPolicy"/>: MAC, IPv4 address, prefix) and its UDP echo port.</summary>
public readonly record struct EchoIdentity(HostPolicy Host, ushort UdpPort)
{
    /// <summary>The MAC the replies come from.</summary>
    public MacAddress Mac => Host.Mac;
}

/// <summary>What <see cref="EchoReply.TurnAround"/> did: the reply's kind and length, or why there is none.</summary>
/// <param name="Kind">The reply made; <see cref="EchoReplyKind.None"/> when the frame was left alone.</param>
/// <param name="Verdict"><see cref="ReplyVerdict.Answer"/> for a reply, else why not.</param>
/// <param name="Length">The reply's length in bytes (at most the request's: padding and bytes past the UDP length are left out); 0 without a reply.</param>
public readonly record struct EchoOutcome(EchoReplyKind Kind, ReplyVerdict Verdict, int Length)
{
    /// <summary>A reply of <paramref name="kind"/> and <paramref name="length"/> when the verdict is to answer, else none.</summary>
    internal static EchoOutcome Of(ReplyVerdict verdict, EchoReplyKind kind, int length) =>
        verdict == ReplyVerdict.Answer ? new(kind, verdict, length) : new(EchoReplyKind.None, verdict, 0);
}

/// <summary>
/// Turns requests into replies in place, in the frame they arrived in, so a responder sends back the
/// very buffer it received: ARP (RFC 826), ICMP echo (RFC 792) and UDP echo (RFC 862), over IPv4,
/// untagged or behind one VLAN tag (the tag is kept). Only what <see cref="HostPolicy"/> says a
/// correct host answers is turned around; everything else is left unchanged. The IPv4 header and
/// ICMP checksums are updated incrementally; the UDP checksum is computed afresh. Allocates nothing.
/// </summary>
public static class EchoReply
{
    /// <summary>
    /// Rewrites <paramref name="frame"/> into the reply to it and says which kind and how long, or
    /// leaves it alone and says why (<see cref="EchoOutcome.Verdict"/>).
    /// </summary>
    public static EchoOutcome TurnAround(Span<byte> frame, in EchoIdentity us)
    {
        if (!EthernetFrame.TryCreate(frame, out EthernetFrame ethernet))
            return EchoOutcome.Of(ReplyVerdict.Malformed, EchoReplyKind.None, 0);
        EchoOutcome outcome = ethernet.EtherType switch
        {
            EtherType.Arp => TurnAroundArp(ethernet, us),
            EtherType.Ipv4 => TurnAroundIpv4(ethernet, us),
            _ => EchoOutcome.Of(ReplyVerdict.NotForUs, EchoReplyKind.None, 0),
        };
        if (outcome.Kind != EchoReplyKind.None)
        {
            ethernet.Destination = ethernet.Source;
            ethernet.Source = us.Mac;
        }
        return outcome;
    }

    static EchoOutcome TurnAroundArp(EthernetFrame ethernet, in EchoIdentity us)
    {
        ReplyVerdict verdict = us.Host.CheckArpRequest(ethernet, out ArpPacket arp);
        if (verdict == ReplyVerdict.Answer)
            arp.ConvertToReply(us.Mac);
        return EchoOutcome.Of(verdict, EchoReplyKind.Arp, ethernet.PayloadOffset + ArpPacket.Length);
    }

    static EchoOutcome TurnAroundIpv4(EthernetFrame ethernet, in EchoIdentity us)
    {
        ReplyVerdict verdict = us.Host.CheckIpv4(ethernet, out Ipv4Packet ip);
        if (verdict != ReplyVerdict.Answer)
            return EchoOutcome.Of(verdict, EchoReplyKind.None, 0);
        switch (ip.Protocol)
        {
            case IpProtocol.Icmp:
                verdict = HostPolicy.CheckIcmpEchoRequest(ip, out IcmpV4Echo echo);
                if (verdict != ReplyVerdict.Answer)
                    return EchoOutcome.Of(verdict, EchoReplyKind.None, 0);
                echo.ConvertToReply();
                ip.ConvertToReply();
                return EchoOutcome.Of(verdict, EchoReplyKind.IcmpEcho, ethernet.PayloadOffset + ip.TotalLength);
            case IpProtocol.Udp:
                verdict = us.Host.CheckUdp(ip, us.UdpPort, out UdpDatagram udp);
                if (verdict != ReplyVerdict.Answer)
                    return EchoOutcome.Of(verdict, EchoReplyKind.None, 0);
                // Bytes past the UDP length are not part of the datagram: the reply carries exactly the datagram.
                if (udp.Length < ip.Payload.Length)
                    ip = ip.Truncate(ip.HeaderLength + udp.Length);
                udp.SwapPorts();
                ip.ConvertToReply();
                // Recomputed, not kept: a partial checksum (see HostPolicy.AcceptsPartialUdpChecksum) becomes
                // a whole one. Zero means "no checksum" and stays (RFC 768).
                if (udp.HasChecksum)
                    udp.UpdateChecksum(InternetChecksum.PseudoHeaderSum(ip.Source, ip.Destination, IpProtocol.Udp, udp.Length));
                return EchoOutcome.Of(verdict, EchoReplyKind.UdpEcho, ethernet.PayloadOffset + ip.TotalLength);
            default:
                return EchoOutcome.Of(ReplyVerdict.NotForUs, EchoReplyKind.None, 0);
        }
    }
}
