using System.Buffers.Binary;
using AfXdp.Net;
using AfXdp.TestShared;
using CsCheck;

namespace AfXdp.Tests.Net;

/// <summary>Every rule of <see cref="HostPolicy"/>, through <see cref="EchoReply"/>: the probe table, then the rules one by one.</summary>
public class HostPolicyTests
{
    // The capture hosts: the peer 02:00:00:00:0a:01 10.11.0.1 asks 02:00:00:00:0a:02 10.11.0.2/24, echo port 7.
    static readonly EchoHosts Hosts = new(Captures.MacA, 0x0A0B0001, Captures.MacB, 0x0A0B0002, 24, 7);
    static readonly EchoIdentity Host = new(Hosts.Policy, Hosts.Port);

    public static TheoryData<string> Probes => [.. EchoProbes.All(Hosts).Select(p => p.Name)];

    [Fact]
    public void Probe_names_are_unique() =>
        Assert.Equal(EchoProbes.All(Hosts).Count(), EchoProbes.All(Hosts).Select(p => p.Name).Distinct().Count());

    [Theory]
    [MemberData(nameof(Probes))]
    public void Each_probe_gets_the_verdict_a_correct_host_gives(string name)
    {
        EchoProbe probe = EchoProbes.All(Hosts).Single(p => p.Name == name);
        byte[] frame = [.. probe.Frame];

        EchoOutcome outcome = EchoReply.TurnAround(frame, Host);

        Assert.Equal(probe.Verdict, outcome.Verdict);
        if (probe.Verdict == ReplyVerdict.Answer)
        {
            Assert.NotEqual(EchoReplyKind.None, outcome.Kind);
            Assert.InRange(outcome.Length, EthernetFrame.HeaderLength + 28, frame.Length);
            AssertReplyGoesBackToTheSender(probe.Frame, frame.AsSpan(0, outcome.Length));
        }
        else
        {
            Assert.Equal(EchoReplyKind.None, outcome.Kind);
            Assert.Equal(0, outcome.Length);
            Assert.Equal(probe.Frame, frame); // refused frames are left as they came
        }
    }

    [Theory]
    [InlineData(0x0000_0000u, false)]
    [InlineData(0x00FF_FFFFu, false)]
    [InlineData(0x0A0B_0001u, true)]
    [InlineData(0x0A0B_00FEu, true)]
    [InlineData(0x0A0B_00FFu, false)] // subnet broadcast of 10.11.0.0/24
    [InlineData(0x0A0B_0000u, false)] // its network address: the 4.2BSD form of its broadcast (RFC 1122 3.3.6)
    [InlineData(0x0A0C_0000u, true)]  // another subnet's .0 is a host here
    [InlineData(0x0A0B_0002u, false)] // ours
    [InlineData(0x0A0C_00FFu, true)]  // another subnet's .255 is a host here
    [InlineData(0x7F00_0001u, false)]
    [InlineData(0x7FFF_FFFFu, false)]
    [InlineData(0x8000_0001u, true)]
    [InlineData(0xDFFF_FFFEu, true)]
    [InlineData(0xE000_0000u, false)]
    [InlineData(0xEFFF_FFFFu, false)]
    [InlineData(0xF000_0000u, false)]
    [InlineData(0xFFFF_FFFEu, false)]
    [InlineData(0xFFFF_FFFFu, false)]
    public void Sources_are_answerable_only_when_they_name_one_unicast_host(uint source, bool answerable) =>
        Assert.Equal(answerable, Hosts.Policy.IsAnswerableSource(source));

    [Theory]
    [InlineData(31)]
    [InlineData(32)]
    public void Point_to_point_and_host_prefixes_have_no_subnet_broadcast(int prefix)
    {
        var policy = new HostPolicy(Captures.MacB, 0x0A0B0002, prefix);
        Assert.Equal(0u, policy.SubnetBroadcast);
        Assert.Equal(0u, policy.SubnetNetwork);
        Assert.True(policy.IsAnswerableSource(0x0A0B0003)); // the /31 peer, RFC 3021
        Assert.False(policy.IsAnswerableSource(0x0A0B0002));
    }

    /// <summary>A /31 whose host bits are 1: its peer, with host bits 0, is a host (RFC 3021), not a network address.</summary>
    [Fact]
    public void The_peer_of_a_point_to_point_link_whose_host_bit_is_zero_is_answered()
    {
        var policy = new HostPolicy(Captures.MacB, 0x0A0B0003, 31);
        Assert.True(policy.IsAnswerableSource(0x0A0B0002));
    }

    [Theory]
    [InlineData(8, 0x0AFF_FFFFu, 0x0A00_0000u)]
    [InlineData(16, 0x0A0B_FFFFu, 0x0A0B_0000u)]
    [InlineData(30, 0x0A0B_0003u, 0x0A0B_0000u)]
    [InlineData(0, 0xFFFF_FFFFu, 0u)] // 0.0.0.0 is refused as "this network" anyway
    public void The_subnet_broadcast_and_network_address_follow_the_prefix(int prefix, uint broadcast, uint network)
    {
        var policy = new HostPolicy(Captures.MacB, 0x0A0B0002, prefix);
        Assert.Equal(broadcast, policy.SubnetBroadcast);
        Assert.Equal(network, policy.SubnetNetwork);
        Assert.False(policy.IsAnswerableSource(broadcast));
        Assert.False(policy.IsAnswerableSource(network));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(33)]
    public void A_prefix_outside_0_to_32_is_refused(int prefix) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new HostPolicy(Captures.MacB, 0x0A0B0002, prefix));

    [Theory]
    [InlineData(0, true, false)]
    [InlineData(7, true, false)]
    [InlineData(19, true, false)]
    [InlineData(69, true, false)]
    [InlineData(53, false, true)]
    [InlineData(123, false, true)]
    [InlineData(11211, false, true)]
    [InlineData(1024, false, false)]
    [InlineData(40000, false, false)]
    public void Echo_refuses_reflector_and_amplifier_ports_the_UDP_service_only_reflectors(ushort port, bool reflector, bool amplifier)
    {
        Assert.Equal(reflector, ReplyRules.IsReflectorPort(port));
        Assert.Equal(amplifier, ReplyRules.IsAmplifierPort(port));
        Assert.Equal(reflector || amplifier, HostPolicy.IsRefusedSourcePort(port));
    }

    [Fact]
    public void A_partial_UDP_checksum_is_accepted_only_when_the_policy_says_so()
    {
        byte[] request = EchoProbes.Udp(Hosts);
        // What veth delivers when the sender offloads the checksum (CHECKSUM_PARTIAL): the pseudo-header sum alone.
        uint pseudoHeader = InternetChecksum.PseudoHeaderSum(Hosts.PeerIp, Hosts.HostIp, IpProtocol.Udp, 8 + EchoProbes.Payload.Length);
        EchoProbes.WithUdpChecksum(request, InternetChecksum.Sum([], pseudoHeader));

        Assert.Equal(ReplyVerdict.BadChecksum, EchoReply.TurnAround([.. request], Host).Verdict);

        byte[] frame = [.. request];
        EchoOutcome outcome = EchoReply.TurnAround(frame, Host with { Host = Hosts.Policy with { AcceptsPartialUdpChecksum = true } });
        Assert.Equal(EchoReplyKind.UdpEcho, outcome.Kind);
        Assert.True(UdpOf(frame.AsSpan(0, outcome.Length), out Ipv4Packet ip, out UdpDatagram udp));
        Assert.True(udp.IsChecksumValid(ip.PseudoHeaderSum()), "the reply's checksum is a whole one");
    }

    [Fact]
    public void Bytes_past_the_UDP_length_are_not_echoed()
    {
        byte[] frame = EchoProbes.UdpWithTrailer(Hosts);

        EchoOutcome outcome = EchoReply.TurnAround(frame, Host);

        Assert.Equal(EchoReplyKind.UdpEcho, outcome.Kind);
        Assert.Equal(14 + 20 + 8 + EchoProbes.Payload.Length, outcome.Length);
        Assert.True(UdpOf(frame.AsSpan(0, outcome.Length), out Ipv4Packet ip, out UdpDatagram udp));
        Assert.Equal(20 + udp.Length, ip.TotalLength);
        Assert.True(ip.IsChecksumValid);
        Assert.True(udp.IsChecksumValid(ip.PseudoHeaderSum()));
        Assert.Equal(EchoProbes.Payload.ToArray(), udp.Payload.ToArray());
    }

    [Fact]
    public void Ethernet_padding_is_not_echoed()
    {
        byte[] arp = EchoProbes.Arp(Hosts), ping = EchoProbes.Ping(Hosts);
        byte[] paddedArp = [.. arp, .. new byte[60 - arp.Length]], paddedPing = [.. ping, .. new byte[18]];

        Assert.Equal(arp.Length, EchoReply.TurnAround(paddedArp, Host).Length);
        Assert.Equal(ping.Length, EchoReply.TurnAround(paddedPing, Host).Length);
    }

    /// <summary>Whatever the bytes, a reply goes from us to the one unicast host that asked, never from or to a reflector port.</summary>
    [Fact]
    public void No_mutation_of_a_request_makes_a_reply_to_a_group_or_a_reflector()
    {
        byte[][] requests = [.. EchoProbes.Valid(Hosts).Select(p => p.Frame)];
        Gen.Select(Gen.Int[0, requests.Length - 1], Gen.Int[0, 63], Gen.Byte, Gen.Int[0, 63], Gen.Byte).Sample((which, i, a, j, b) =>
        {
            byte[] request = [.. requests[which]];
            request[i % request.Length] = a;
            request[j % request.Length] = b;
            byte[] frame = [.. request];

            EchoOutcome outcome = EchoReply.TurnAround(frame, Host);

            if (outcome.Kind == EchoReplyKind.None)
                Assert.Equal(request, frame);
            else
                AssertReplyGoesBackToTheSender(request, frame.AsSpan(0, outcome.Length));
        }, iter: 20_000);
    }

    static void AssertReplyGoesBackToTheSender(byte[] request, Span<byte> reply)
    {
        Assert.True(EthernetFrame.TryCreate(request, out EthernetFrame asked));
        Assert.True(EthernetFrame.TryCreate(reply, out EthernetFrame answer));
        Assert.Equal(Hosts.HostMac, answer.Source);
        Assert.Equal(asked.Source, answer.Destination);
        Assert.False(answer.Destination.IsMulticast, "a reply to a group MAC");
        if (answer.EtherType != EtherType.Ipv4)
            return;
        Assert.True(Ipv4Packet.TryCreate(answer.Payload, out Ipv4Packet ip));
        Assert.Equal(Hosts.HostIp, ip.Source);
        Assert.True(Hosts.Policy.IsAnswerableSource(ip.Destination), $"a reply to {ip.GetDestinationIPAddress()}");
        Assert.True(ip.IsChecksumValid);
        if (ip.Protocol == IpProtocol.Icmp)
        {
            Assert.True(IcmpV4Echo.TryCreate(ip.Payload, out IcmpV4Echo echo));
            Assert.True(echo.IsChecksumValid);
        }
        else if (UdpOf(reply, out _, out UdpDatagram udp))
        {
            Assert.Equal(Hosts.Port, udp.SourcePort);
            Assert.False(HostPolicy.IsRefusedSourcePort(udp.DestinationPort) || udp.DestinationPort == Hosts.Port, $"a reply to port {udp.DestinationPort}");
            Assert.True(!udp.HasChecksum || udp.IsChecksumValid(ip.PseudoHeaderSum()));
        }
    }

    static bool UdpOf(Span<byte> frame, out Ipv4Packet ip, out UdpDatagram udp)
    {
        udp = default;
        ip = default;
        return EthernetFrame.TryCreate(frame, out EthernetFrame ethernet) && Ipv4Packet.TryCreate(ethernet.Payload, out ip)
            && ip.Protocol == IpProtocol.Udp && UdpDatagram.TryCreate(ip.Payload, out udp);
    }

    [Fact]
    public void Truncating_a_datagram_keeps_its_header_checksum_valid()
    {
        byte[] frame = EchoProbes.UdpWithTrailer(Hosts);
        Assert.True(Ipv4Packet.TryCreate(frame.AsSpan(14), out Ipv4Packet ip));

        Ipv4Packet shorter = ip.Truncate(ip.TotalLength - 12);

        Assert.Equal(ip.TotalLength - 12, shorter.TotalLength);
        Assert.Equal(shorter.TotalLength, BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(14 + 2)));
        Assert.True(shorter.IsChecksumValid);
        Assert.Throws<ArgumentOutOfRangeException>(() =>
        {
            Ipv4Packet.TryCreate(frame.AsSpan(14), out Ipv4Packet again);
            again.Truncate(19);
        });
    }
}
