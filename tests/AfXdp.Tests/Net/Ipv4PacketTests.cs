using System.Buffers.Binary;
using System.Net;
using AfXdp.Net;

namespace AfXdp.Tests.Net;

public class Ipv4PacketTests
{
    [Fact]
    public void Captured_ping_gives_ip_and_icmp_fields()
    {
        EthernetFrame.TryCreate(Captures.IcmpEchoRequest, out EthernetFrame frame);

        Assert.True(Ipv4Packet.TryCreate(frame.Payload, out Ipv4Packet ip));
        Assert.Equal(20, ip.HeaderLength);
        Assert.Equal(84, ip.TotalLength);
        Assert.Equal(40449, ip.Identification);
        Assert.True(ip.DontFragment);
        Assert.False(ip.MoreFragments);
        Assert.False(ip.IsFragment);
        Assert.Equal(0, ip.FragmentOffset);
        Assert.Equal(64, ip.Ttl);
        Assert.Equal(IpProtocol.Icmp, ip.Protocol);
        Assert.Equal(0x888F, ip.HeaderChecksum);
        Assert.True(ip.IsChecksumValid);
        Assert.Equal(0x0A0B0001u, ip.Source);
        Assert.Equal(0x0A0B0002u, ip.Destination);
        Assert.Equal(IPAddress.Parse("10.11.0.1"), ip.GetSourceIPAddress());
        Assert.Equal(IPAddress.Parse("10.11.0.2"), ip.GetDestinationIPAddress());
        Assert.True(ip.Options.IsEmpty);

        Assert.True(IcmpV4Echo.TryCreate(ip.Payload, out IcmpV4Echo echo));
        Assert.Equal(IcmpV4Type.EchoRequest, echo.Type);
        Assert.Equal(0, echo.Code);
        Assert.Equal(4802, echo.Identifier);
        Assert.Equal(1, echo.SequenceNumber);
        Assert.Equal(56, echo.Data.Length);
        Assert.Equal(0x37, echo.Data[^1]);
        Assert.True(echo.IsChecksumValid);
    }

    [Fact]
    public void Request_turned_around_in_place_carries_the_kernels_icmp_reply()
    {
        byte[] bytes = Captures.IcmpEchoRequest;
        EthernetFrame.TryCreate(bytes, out EthernetFrame frame);
        Ipv4Packet.TryCreate(frame.Payload, out Ipv4Packet ip);
        IcmpV4Echo.TryCreate(ip.Payload, out IcmpV4Echo echo);

        frame.SwapMacs();
        (ip.Source, ip.Destination) = (ip.Destination, ip.Source);
        echo.Type = IcmpV4Type.EchoReply;
        echo.Checksum = InternetChecksum.Update(echo.Checksum, (ushort)0x0800, (ushort)0x0000);

        byte[] reply = Captures.IcmpEchoReply;
        Assert.Equal(Convert.ToHexStringLower(reply, 0, 14), Convert.ToHexStringLower(bytes, 0, 14));
        Assert.Equal(Convert.ToHexStringLower(reply, 34, reply.Length - 34), Convert.ToHexStringLower(bytes, 34, bytes.Length - 34));
        Assert.True(ip.IsChecksumValid);
    }

    [Fact]
    public void Captured_udp_datagram_gives_ports_payload_and_a_valid_checksum()
    {
        EthernetFrame.TryCreate(Captures.Ipv4Udp, out EthernetFrame frame);
        Assert.True(Ipv4Packet.TryCreate(frame.Payload, out Ipv4Packet ip));
        Assert.Equal(IpProtocol.Udp, ip.Protocol);

        Assert.True(UdpDatagram.TryCreate(ip.Payload, out UdpDatagram udp));
        Assert.Equal(40000, udp.SourcePort);
        Assert.Equal(9000, udp.DestinationPort);
        Assert.Equal(18, udp.Length);
        Assert.Equal(0x6362, udp.Checksum);
        Assert.True(udp.HasChecksum);
        Assert.Equal("hello, xdp"u8.ToArray(), udp.Payload.ToArray());
        Assert.True(udp.IsChecksumValid(ip.PseudoHeaderSum()));
    }

    [Fact]
    public void Ethernet_padding_after_the_total_length_is_not_payload()
    {
        byte[] padded = [.. Captures.Ipv4Udp, .. new byte[8]];
        EthernetFrame.TryCreate(padded, out EthernetFrame frame);

        Assert.True(Ipv4Packet.TryCreate(frame.Payload, out Ipv4Packet ip));
        Assert.Equal(38, ip.Bytes.Length);
        Assert.Equal(18, ip.Payload.Length);
    }

    [Fact]
    public void Fragment_fields_are_read_from_flags_and_offset()
    {
        byte[] packet = Ipv4Bytes(Captures.Ipv4Udp);

        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(6), 0x2000);
        Assert.True(Ipv4Packet.TryCreate(packet, out Ipv4Packet first));
        Assert.True(first.MoreFragments);
        Assert.True(first.IsFragment);

        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(6), 185);
        Assert.True(Ipv4Packet.TryCreate(packet, out Ipv4Packet last));
        Assert.False(last.MoreFragments);
        Assert.Equal(1480, last.FragmentOffset);
        Assert.True(last.IsFragment);
    }

    [Fact]
    public void Options_lengthen_the_header_and_move_the_payload()
    {
        // Header of IHL 6: one NOP, one NOP, one NOP, end of options (RFC 791 3.1).
        byte[] packet = Convert.FromHexString("4600001c000000004011000001020304050607080101010000000000");
        Assert.True(Ipv4Packet.TryCreate(packet, out Ipv4Packet ip));
        ip.UpdateChecksum();

        Assert.Equal(24, ip.HeaderLength);
        Assert.Equal([1, 1, 1, 0], ip.Options.ToArray());
        Assert.Equal(4, ip.Payload.Length);
        Assert.True(ip.IsChecksumValid);
    }

    [Fact]
    public void UpdateChecksum_restores_the_captured_checksum()
    {
        byte[] packet = Ipv4Bytes(Captures.IcmpEchoRequest);
        Ipv4Packet.TryCreate(packet, out Ipv4Packet ip);
        packet[10] ^= 0x5A;
        Assert.False(ip.IsChecksumValid);

        ip.UpdateChecksum();

        Assert.Equal(0x888F, ip.HeaderChecksum);
    }

    [Fact]
    public void Decremented_ttl_with_an_incremental_checksum_equals_a_full_recompute()
    {
        byte[] packet = Ipv4Bytes(Captures.IcmpEchoRequest);
        Ipv4Packet.TryCreate(packet, out Ipv4Packet ip);
        ushort oldWord = BinaryPrimitives.ReadUInt16BigEndian(packet.AsSpan(8));

        ip.Ttl--;
        ushort incremental = InternetChecksum.Update(ip.HeaderChecksum, oldWord, BinaryPrimitives.ReadUInt16BigEndian(packet.AsSpan(8)));
        ip.UpdateChecksum();

        Assert.Equal(ip.HeaderChecksum, incremental);
    }

    [Theory]
    [InlineData(0, 0x65)] // version 6
    [InlineData(0, 0x44)] // IHL 4
    [InlineData(0, 0x4F)] // IHL 15: 60 bytes of header in a 38-byte datagram
    [InlineData(3, 39)] // total length one past the buffer
    [InlineData(3, 19)] // total length shorter than the header
    public void Lying_version_or_lengths_are_rejected(int index, byte value)
    {
        byte[] packet = Ipv4Bytes(Captures.Ipv4Udp);
        packet[index] = value;

        Assert.False(Ipv4Packet.TryCreate(packet, out _));
    }

    [Fact]
    public void A_datagram_cut_short_is_rejected()
    {
        byte[] packet = Ipv4Bytes(Captures.Ipv4Udp);
        for (int length = 0; length < packet.Length; length++)
            Assert.False(Ipv4Packet.TryCreate(packet.AsSpan(0, length), out _));
    }

    [Fact]
    public void Icmp_other_than_echo_is_not_an_echo()
    {
        byte[] icmp = Ipv4Bytes(Captures.IcmpEchoRequest)[20..];
        icmp[0] = 3;

        Assert.False(IcmpV4Echo.TryCreate(icmp, out _));
        Assert.False(IcmpV4Echo.TryCreate(Ipv4Bytes(Captures.IcmpEchoRequest).AsSpan(20, 7), out _));
    }

    static byte[] Ipv4Bytes(byte[] frame) => frame[EthernetFrame.HeaderLength..];
}
