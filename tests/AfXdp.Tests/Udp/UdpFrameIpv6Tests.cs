using System.Buffers.Binary;
using System.Net;
using AfXdp.Net;
using AfXdp.Udp;
using CsCheck;

namespace AfXdp.Tests.Udp;

/// <summary>IPv6 datagrams as the UDP service takes and answers them: layout, mandatory checksum, RFC 4291 sources, replies.</summary>
public class UdpFrameIpv6Tests
{
    static readonly MacAddress Us = MacAddress.Parse("02:00:00:00:0b:01"), Them = MacAddress.Parse("02:00:00:00:0a:01");
    static readonly UInt128 Server = Ipv6Address.ToUInt128(IPAddress.Parse("fd00:99::2")), Client = Ipv6Address.ToUInt128(IPAddress.Parse("fd00:99::1"));
    static readonly HostPolicy Host = new(Us, Server);
    static readonly UdpEndpoint[] Served = [new(Server, 53)];
    const int Ip = 14, Udp = 54;

    static byte[] Frame(string source = "fd00:99::1", int sourcePort = 40000, int payload = 20, int port = 53, MacAddress? to = null)
    {
        var frame = new byte[1514];
        int length = new UdpFrameBuilder(Them, to ?? Us, new IPEndPoint(IPAddress.Parse(source), sourcePort), new IPEndPoint(IPAddress.Parse("fd00:99::2"), port))
            .Write(frame, Enumerable.Range(1, payload).Select(i => (byte)i).ToArray());
        return frame[..length];
    }

    static UdpFrameCheck Check(byte[] frame, HostPolicy? host = null) => UdpFrame.Check(frame, [host ?? Host], Served, out _);

    [Fact]
    public void A_valid_ipv6_datagram_is_handed_over_with_its_payload_at_byte_62_and_both_endpoints()
    {
        byte[] frame = Frame(payload: 33);
        Assert.Equal(UdpFrameCheck.Ok, UdpFrame.Check(frame, [Host], Served, out int payload));
        Assert.Equal(33, payload);
        Assert.Equal(62, UdpFrame.HeadersLengthOf(frame));
        Assert.Equal(1, frame[UdpFrame.HeadersLengthOf(frame)]);
        Assert.Equal("[fd00:99::1]:40000", UdpFrame.Remote(frame).ToString());
        Assert.True(UdpFrame.Remote(frame).IsIpv6);
        Assert.Equal(new UdpEndpoint(Server, 53), UdpFrame.Local(frame));
    }

    [Fact]
    public void A_zero_udp_checksum_is_dropped_over_ipv6_as_RFC_8200_requires()
    {
        byte[] none = Frame();
        none[Udp + 6] = none[Udp + 7] = 0;
        Assert.Equal(UdpFrameCheck.BadChecksum, Check(none));
        Assert.Equal(UdpFrameCheck.BadChecksum, Check(none, Host with { AcceptsPartialUdpChecksum = true }));
    }

    [Fact]
    public void A_wrong_udp_checksum_is_dropped()
    {
        byte[] bad = Frame();
        bad[^1] ^= 0x40;
        Assert.Equal(UdpFrameCheck.BadChecksum, Check(bad));
        Assert.Equal(UdpFrameCheck.BadChecksum, Check(bad, Host with { AcceptsPartialUdpChecksum = true }));
    }

    [Fact]
    public void A_checksum_left_for_offload_is_accepted_only_by_a_host_that_accepts_partial_checksums()
    {
        byte[] frame = Frame();
        int udpLength = BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(Udp + 4));
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(Udp + 6),
            InternetChecksum.Sum([], InternetChecksum.PseudoHeaderSum(frame.AsSpan(Ip + 8, 16), frame.AsSpan(Ip + 24, 16), IpProtocol.Udp, udpLength)));
        Assert.Equal(UdpFrameCheck.PartialChecksum, Check(frame));
        Assert.Equal(UdpFrameCheck.Ok, Check(frame, Host with { AcceptsPartialUdpChecksum = true }));
    }

    [Theory]
    [InlineData("::")]              // unspecified
    [InlineData("::1")]             // loopback
    [InlineData("ff02::1")]         // multicast
    [InlineData("::ffff:10.99.0.1")] // IPv4-mapped
    [InlineData("fd00:99::2")]      // our own address
    public void Sources_a_host_must_not_answer_are_refused(string source) => Assert.Equal(UdpFrameCheck.Unanswerable, Check(Frame(source)));

    [Theory]
    [InlineData("fe80::1")]
    [InlineData("2001:db8::7")]
    [InlineData("fd00:99::1")]
    public void Unicast_sources_are_answered(string source) => Assert.Equal(UdpFrameCheck.Ok, Check(Frame(source)));

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    [InlineData(19)]
    public void Reflector_ports_are_refused_over_ipv6_too(int port) => Assert.Equal(UdpFrameCheck.Unanswerable, Check(Frame(sourcePort: port)));

    [Fact]
    public void Another_mac_another_port_or_an_ipv4_policy_does_not_take_an_ipv6_datagram()
    {
        Assert.Equal(UdpFrameCheck.Unanswerable, Check(Frame(to: MacAddress.Parse("02:00:00:00:0c:01"))));
        Assert.Equal(UdpFrameCheck.Unanswerable, Check(Frame(port: 54)));
        Assert.Equal(UdpFrameCheck.Unanswerable, UdpFrame.Check(Frame(), [new HostPolicy(Us, 0x0A63_0002, 24)], Served, out _));
    }

    [Fact]
    public void An_extension_header_or_a_length_that_does_not_hold_is_not_handed_over()
    {
        byte[] hopByHop = Frame();
        hopByHop[Ip + 6] = 0; // next header: hop-by-hop options instead of UDP
        Assert.Equal(UdpFrameCheck.Unanswerable, Check(hopByHop));
        byte[] longer = Frame();
        BinaryPrimitives.WriteUInt16BigEndian(longer.AsSpan(Ip + 4), 2000); // payload length past the frame
        Assert.Equal(UdpFrameCheck.Malformed, Check(longer));
        byte[] udpLonger = Frame();
        BinaryPrimitives.WriteUInt16BigEndian(udpLonger.AsSpan(Udp + 4), 200);
        Assert.Equal(UdpFrameCheck.Malformed, Check(udpLonger));
        Assert.Equal(UdpFrameCheck.Malformed, Check(Frame()[..61]));
    }

    [Fact]
    public void A_reply_goes_back_to_the_sender_with_addresses_swapped_and_a_valid_checksum()
    {
        byte[] frame = new byte[2048];
        Frame(payload: 10, port: 7007).CopyTo(frame, 0);
        Enumerable.Repeat((byte)0xAB, 300).ToArray().CopyTo(frame, UdpFrame.Ipv6HeadersLength);
        int length = UdpFrame.WriteReply(frame, 300);
        Assert.Equal(62 + 300, length);
        // Seen from the sender: for its MAC, from ours, with a checksum that verifies.
        Assert.Equal(UdpFrameCheck.Ok, UdpFrame.Check(frame.AsSpan(0, length), [new HostPolicy(Them, Client)], [new(Client, 40000)], out int payload));
        Assert.Equal(300, payload);
        Assert.Equal(Us, new MacAddress(frame.AsSpan(6)));
        Assert.Equal(new UdpEndpoint(Server, 7007), UdpFrame.Remote(frame));
        Assert.Equal(0x60, frame[Ip]);  // version 6, class and flow 0
        Assert.Equal(64, frame[Ip + 7]); // hop limit
    }

    [Fact]
    public void A_new_datagram_is_written_as_the_kernel_would_parse_it()
    {
        byte[] frame = new byte[200];
        "hello"u8.CopyTo(frame.AsSpan(UdpFrame.Ipv6HeadersLength));
        int length = UdpFrame.WriteHeaders(frame, Us, Them, new UdpEndpoint(Server, 53), new UdpEndpoint(Client, 40000), 5);
        Assert.Equal(67, length);
        Assert.True(EthernetFrame.TryCreate(frame.AsSpan(0, length), out EthernetFrame ethernet));
        Assert.Equal(EtherType.Ipv6, ethernet.EtherType);
        Assert.True(Ipv6Packet.TryCreate(ethernet.Payload, out Ipv6Packet ip));
        Assert.Equal(IpProtocol.Udp, ip.NextHeader);
        Assert.Equal(IPAddress.Parse("fd00:99::2"), ip.GetSourceIPAddress());
        Assert.True(UdpDatagram.TryCreate(ip.Payload, out UdpDatagram udp));
        Assert.True(udp.IsChecksumValid(ip.PseudoHeaderSum()));
        Assert.Equal("hello"u8.ToArray(), udp.Payload.ToArray());
    }

    [Fact]
    public void Any_bytes_after_an_ipv6_ethertype_are_checked_without_an_exception() =>
        Gen.Byte.Array[0, 200].Sample(bytes =>
        {
            if (bytes.Length >= 14)
                (bytes[12], bytes[13]) = (0x86, 0xDD);
            UdpFrameCheck check = UdpFrame.Check(bytes, [Host], Served, out int payload);
            Assert.True(check != UdpFrameCheck.Ok || payload <= bytes.Length - 62);
        });

    [Fact]
    public void Endpoints_hold_ipv4_mapped_and_ipv6_addresses_and_convert_back()
    {
        UdpEndpoint v4 = UdpEndpoint.From(IPEndPoint.Parse("10.99.0.2:53")), v6 = UdpEndpoint.From(IPEndPoint.Parse("[fd00:99::2]:53"));
        Assert.False(v4.IsIpv6);
        Assert.Equal(new UdpEndpoint(0x0A63_0002, 53), v4);
        Assert.Equal("10.99.0.2:53", v4.ToString());
        Assert.Equal(IPEndPoint.Parse("10.99.0.2:53"), v4.ToIPEndPoint());
        Assert.True(v6.IsIpv6);
        Assert.Equal(new UdpEndpoint(Server, 53), v6);
        Assert.Equal("[fd00:99::2]:53", v6.ToString());
        Assert.True(Ipv6Address.IsLinkLocal(Ipv6Address.ToUInt128(IPAddress.Parse("fe80::1"))));
        Assert.False(Ipv6Address.IsLinkLocal(Server));
    }
}
