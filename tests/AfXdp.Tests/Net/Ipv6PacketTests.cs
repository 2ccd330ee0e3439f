using System.Net;
using AfXdp.Net;

namespace AfXdp.Tests.Net;

public class Ipv6PacketTests
{
    static readonly byte[] Fd00_1 = IPAddress.Parse("fd00::1").GetAddressBytes();
    static readonly byte[] Fd00_2 = IPAddress.Parse("fd00::2").GetAddressBytes();

    [Fact]
    public void Captured_udp_behind_a_hop_by_hop_header_gives_the_upper_layer()
    {
        EthernetFrame.TryCreate(Captures.Ipv6UdpWithHopByHop, out EthernetFrame frame);
        Assert.Equal(EtherType.Ipv6, frame.EtherType);

        Assert.True(Ipv6Packet.TryCreate(frame.Payload, out Ipv6Packet ip));
        Assert.Equal(0, ip.TrafficClass);
        Assert.Equal(0x20D6Du, ip.FlowLabel);
        Assert.Equal(25, ip.PayloadLength);
        Assert.Equal(IpProtocol.Ipv6HopByHopOptions, ip.NextHeader);
        Assert.Equal(64, ip.HopLimit);
        Assert.Equal(Fd00_1, ip.Source.ToArray());
        Assert.Equal(Fd00_2, ip.Destination.ToArray());
        Assert.Equal(IPAddress.Parse("fd00::1"), ip.GetSourceIPAddress());
        Assert.Equal(IPAddress.Parse("fd00::2"), ip.GetDestinationIPAddress());
        Assert.Equal(IpProtocol.Udp, ip.Protocol);
        Assert.Equal(48, ip.HeaderLength);
        Assert.False(ip.IsFragment);

        Assert.True(UdpDatagram.TryCreate(ip.Payload, out UdpDatagram udp));
        Assert.Equal(40001, udp.SourcePort);
        Assert.Equal(9001, udp.DestinationPort);
        Assert.Equal("hello, v6"u8.ToArray(), udp.Payload.ToArray());
        Assert.True(udp.IsChecksumValid(ip.PseudoHeaderSum()));
    }

    [Fact]
    public void Captured_neighbor_solicitation_gives_its_target()
    {
        EthernetFrame.TryCreate(Captures.NeighborSolicitation, out EthernetFrame frame);
        Assert.True(Ipv6Packet.TryCreate(frame.Payload, out Ipv6Packet ip));
        Assert.Equal(IpProtocol.IcmpV6, ip.Protocol);
        Assert.Equal(255, ip.HopLimit);

        Assert.True(IcmpV6.TryCreate(ip.Payload, out IcmpV6 icmp));
        Assert.Equal(IcmpV6Type.NeighborSolicitation, icmp.Type);
        Assert.Equal(0, icmp.Code);
        Assert.Equal(0x7397, icmp.Checksum);
        Assert.True(icmp.IsNeighborMessage);
        Assert.Equal(Fd00_2, icmp.TargetAddress.ToArray());
        Assert.True(icmp.IsChecksumValid(ip.PseudoHeaderSum()));
    }

    [Fact]
    public void Captured_neighbor_advertisement_gives_its_target_and_checksum()
    {
        byte[] bytes = Captures.NeighborAdvertisement;
        EthernetFrame.TryCreate(bytes, out EthernetFrame frame);
        Ipv6Packet.TryCreate(frame.Payload, out Ipv6Packet ip);

        Assert.True(IcmpV6.TryCreate(ip.Payload, out IcmpV6 icmp));
        Assert.Equal(IcmpV6Type.NeighborAdvertisement, icmp.Type);
        Assert.Equal(Fd00_2, icmp.TargetAddress.ToArray());

        bytes[56] = 0;
        bytes[57] = 0;
        icmp.UpdateChecksum(ip.PseudoHeaderSum());
        Assert.Equal(0x129A, icmp.Checksum);
    }

    [Fact]
    public void Echo_fields_of_a_neighbor_message_and_the_target_of_an_echo_throw()
    {
        Assert.Throws<InvalidOperationException>(() =>
        {
            IcmpV6.TryCreate(Captures.NeighborSolicitation.AsSpan(54), out IcmpV6 icmp);
            return icmp.Identifier;
        });
        byte[] echo = Convert.FromHexString("80000000abcd0007");
        Assert.True(IcmpV6.TryCreate(echo, out IcmpV6 request));
        Assert.Equal(IcmpV6Type.EchoRequest, request.Type);
        Assert.Equal(0xABCD, request.Identifier);
        Assert.Equal(7, request.SequenceNumber);
        Assert.Throws<InvalidOperationException>(() =>
        {
            IcmpV6.TryCreate(echo, out IcmpV6 icmp);
            return icmp.TargetAddress.Length;
        });
    }

    [Theory]
    [InlineData("8100000000000000", true)] // echo reply, header only
    [InlineData("87000000000000000000", false)] // solicitation without its 16-byte target
    [InlineData("85000000000000000000", false)] // router solicitation: not understood
    [InlineData("8000000000", false)] // echo request cut short
    public void Icmpv6_needs_a_known_type_and_its_fields(string hex, bool accepted) =>
        Assert.Equal(accepted, IcmpV6.TryCreate(Convert.FromHexString(hex), out _));

    [Fact]
    public void A_chain_of_extension_headers_is_walked_to_the_upper_layer()
    {
        byte[] packet = Packet(IpProtocol.Ipv6HopByHopOptions,
            "2b00010400000000" + // hop-by-hop, 8 bytes, next: routing
            "3c01000000000000" + "0000000000000000" + // routing, 16 bytes, next: destination options
            "2c00010400000000" + // destination options, 8 bytes, next: fragment
            "1100000112345678" + // fragment, offset 0, M set, next: UDP
            "9c4123290008ffff");

        Assert.True(Ipv6Packet.TryCreate(packet, out Ipv6Packet ip));
        Assert.Equal(IpProtocol.Udp, ip.Protocol);
        Assert.Equal(40 + 8 + 16 + 8 + 8, ip.HeaderLength);
        Assert.True(ip.IsFragment);
        Assert.Equal(8, ip.Payload.Length);
    }

    [Fact]
    public void An_atomic_fragment_header_is_not_a_fragment()
    {
        Assert.True(Ipv6Packet.TryCreate(Packet(IpProtocol.Ipv6Fragment, "1100000012345678" + "9c4123290008ffff"), out Ipv6Packet ip));
        Assert.Equal(IpProtocol.Udp, ip.Protocol);
        Assert.False(ip.IsFragment);
    }

    [Fact]
    public void No_next_header_ends_the_walk()
    {
        Assert.True(Ipv6Packet.TryCreate(Packet(IpProtocol.Ipv6NoNextHeader, ""), out Ipv6Packet ip));
        Assert.Equal(IpProtocol.Ipv6NoNextHeader, ip.Protocol);
        Assert.True(ip.Payload.IsEmpty);
    }

    [Theory]
    [InlineData(IpProtocol.Ipv6Routing, "0000010400000000" + "0000000000000000")] // hop-by-hop after routing
    [InlineData(IpProtocol.Ipv6HopByHopOptions, "1101010400000000")] // says 16 bytes, has 8
    [InlineData(IpProtocol.Ipv6DestinationOptions, "110001")] // cut inside the header
    [InlineData(IpProtocol.Ipv6Fragment, "11000000")] // fragment header cut short
    public void Extension_headers_that_do_not_fit_or_come_out_of_order_are_rejected(IpProtocol first, string extensionHeaders) =>
        Assert.False(Ipv6Packet.TryCreate(Packet(first, extensionHeaders), out _));

    [Fact]
    public void Payload_length_past_the_buffer_or_a_wrong_version_is_rejected()
    {
        byte[] packet = Captures.Ipv6UdpWithHopByHop[14..];
        Assert.False(Ipv6Packet.TryCreate(packet.AsSpan(0, packet.Length - 1), out _));

        packet[0] = 0x40;
        Assert.False(Ipv6Packet.TryCreate(packet, out _));
    }

    // fd00::1 -> fd00::2 with the given first next header and the bytes after the fixed header.
    static byte[] Packet(IpProtocol nextHeader, string payloadHex)
    {
        byte[] payload = Convert.FromHexString(payloadHex);
        byte[] header = Convert.FromHexString($"60000000{payload.Length:x4}{(byte)nextHeader:x2}40");
        return [.. header, .. Fd00_1, .. Fd00_2, .. payload];
    }
}
