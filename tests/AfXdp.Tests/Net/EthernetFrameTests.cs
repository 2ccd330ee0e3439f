using AfXdp.Net;

namespace AfXdp.Tests.Net;

public class EthernetFrameTests
{
    [Fact]
    public void Untagged_capture_gives_addresses_type_and_payload()
    {
        byte[] bytes = Captures.Ipv4Udp;

        Assert.True(EthernetFrame.TryCreate(bytes, out EthernetFrame frame));
        Assert.Equal(Captures.MacB, frame.Destination);
        Assert.Equal(Captures.MacA, frame.Source);
        Assert.Equal(EtherType.Ipv4, frame.EtherType);
        Assert.False(frame.HasVlan);
        Assert.Equal(0, frame.VlanId);
        Assert.Equal(0, frame.Pcp);
        Assert.Equal(EthernetFrame.HeaderLength, frame.PayloadOffset);
        Assert.Equal(bytes.Length - 14, frame.Payload.Length);
    }

    [Fact]
    public void Vlan_tagged_capture_gives_tag_fields_and_the_inner_type()
    {
        byte[] bytes = Captures.VlanTaggedUdp;

        Assert.True(EthernetFrame.TryCreate(bytes, out EthernetFrame frame));
        Assert.True(frame.HasVlan);
        Assert.Equal(100, frame.VlanId);
        Assert.Equal(5, frame.Pcp);
        Assert.Equal(EtherType.Ipv4, frame.EtherType);
        Assert.Equal(18, frame.PayloadOffset);

        Assert.True(Ipv4Packet.TryCreate(frame.Payload, out Ipv4Packet ip));
        Assert.Equal(0x0A0C0001u, ip.Source);
        Assert.True(UdpDatagram.TryCreate(ip.Payload, out UdpDatagram udp));
        Assert.Equal(40002, udp.SourcePort);
        Assert.Equal(9002, udp.DestinationPort);
        Assert.Equal("tagged"u8.ToArray(), udp.Payload.ToArray());
        Assert.True(udp.IsChecksumValid(ip.PseudoHeaderSum()));
    }

    [Fact]
    public void An_802_1ad_service_tag_is_a_vlan_tag_too()
    {
        byte[] bytes = Captures.VlanTaggedUdp;
        bytes[12] = 0x88;
        bytes[13] = 0xA8;

        Assert.True(EthernetFrame.TryCreate(bytes, out EthernetFrame frame));
        Assert.True(frame.HasVlan);
        Assert.Equal(100, frame.VlanId);
        Assert.Equal(EtherType.Ipv4, frame.EtherType);
    }

    [Fact]
    public void SwapMacs_exchanges_the_addresses_and_nothing_else()
    {
        byte[] bytes = Captures.IcmpEchoRequest;
        EthernetFrame.TryCreate(bytes, out EthernetFrame frame);

        frame.SwapMacs();

        Assert.Equal(Captures.MacA, frame.Destination);
        Assert.Equal(Captures.MacB, frame.Source);
        Assert.Equal(Captures.IcmpEchoRequest.AsSpan(12).ToArray(), bytes.AsSpan(12).ToArray());
    }

    [Fact]
    public void Address_setters_write_in_place()
    {
        byte[] bytes = Captures.ArpRequest;
        EthernetFrame.TryCreate(bytes, out EthernetFrame frame);

        frame.Destination = Captures.MacA;
        frame.Source = MacAddress.Parse("02:00:00:00:0a:09");

        Assert.Equal("020000000a01020000000a090806", Convert.ToHexStringLower(bytes, 0, 14));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(13)]
    public void Shorter_than_a_header_is_rejected(int length) =>
        Assert.False(EthernetFrame.TryCreate(Captures.Ipv4Udp.AsSpan(0, length), out _));

    [Theory]
    [InlineData(14)]
    [InlineData(17)]
    public void A_tag_type_without_the_whole_tag_is_rejected(int length) =>
        Assert.False(EthernetFrame.TryCreate(Captures.VlanTaggedUdp.AsSpan(0, length), out _));
}
