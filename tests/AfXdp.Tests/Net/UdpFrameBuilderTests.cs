using System.Net;
using AfXdp.Net;
using CsCheck;

namespace AfXdp.Tests.Net;

public class UdpFrameBuilderTests
{
    static readonly UdpFrameBuilder CaptureEndpoints = new(Captures.MacA, Captures.MacB,
        new IPEndPoint(IPAddress.Parse("10.11.0.1"), 40000), new IPEndPoint(IPAddress.Parse("10.11.0.2"), 9000));

    [Fact]
    public void Frame_of_64_bytes_has_22_zero_payload_bytes_and_valid_checksums()
    {
        byte[] frame = Enumerable.Repeat((byte)0xEE, 100).ToArray();

        Assert.Equal(64, CaptureEndpoints.WriteOfLength(frame, 64));

        Assert.True(EthernetFrame.TryCreate(frame.AsSpan(0, 64), out EthernetFrame ethernet));
        Assert.True(Ipv4Packet.TryCreate(ethernet.Payload, out Ipv4Packet ip));
        Assert.Equal(50, ip.TotalLength);
        Assert.Equal(64, ip.Ttl);
        Assert.True(ip.IsChecksumValid);
        Assert.True(UdpDatagram.TryCreate(ip.Payload, out UdpDatagram udp));
        Assert.Equal(30, udp.Length);
        Assert.Equal(new byte[22], udp.Payload.ToArray());
        Assert.True(udp.IsChecksumValid(ip.PseudoHeaderSum()));
        Assert.Equal(0xEE, frame[64]);
    }

    [Fact]
    public void Written_frame_matches_the_captured_one_but_for_ip_identification_and_flags()
    {
        byte[] frame = new byte[64];
        byte[] captured = Captures.Ipv4Udp;

        int length = CaptureEndpoints.Write(frame, "hello, xdp"u8);

        Assert.Equal(captured.Length, length);
        Ipv4Packet.TryCreate(frame.AsSpan(14, length - 14), out Ipv4Packet ip);
        Assert.Equal(0, ip.Identification);
        Assert.False(ip.DontFragment);
        captured.AsSpan(18, 4).CopyTo(frame.AsSpan(18)); // the kernel's identification 24541 and DF
        ip.UpdateChecksum();
        Assert.Equal(Convert.ToHexStringLower(captured), Convert.ToHexStringLower(frame, 0, length));
    }

    [Fact]
    public void Ipv6_frame_carries_the_same_udp_bytes_as_the_capture()
    {
        var builder = new UdpFrameBuilder(Captures.MacA, Captures.MacB,
            new IPEndPoint(IPAddress.Parse("fd00::1"), 40001), new IPEndPoint(IPAddress.Parse("fd00::2"), 9001));
        byte[] frame = new byte[128];

        int length = builder.Write(frame, "hello, v6"u8);

        Assert.Equal(62 + 9, length);
        Assert.Equal(62, builder.HeadersLength);
        Assert.True(EthernetFrame.TryCreate(frame.AsSpan(0, length), out EthernetFrame ethernet));
        Assert.Equal(EtherType.Ipv6, ethernet.EtherType);
        Assert.True(Ipv6Packet.TryCreate(ethernet.Payload, out Ipv6Packet ip));
        Assert.Equal(64, ip.HopLimit);
        Assert.Equal(IpProtocol.Udp, ip.Protocol);
        byte[] capturedUdp = Captures.Ipv6UdpWithHopByHop[(14 + 48)..];
        Assert.Equal(Convert.ToHexStringLower(capturedUdp), Convert.ToHexStringLower(ip.Payload));
    }

    [Fact]
    public void Sizes_below_the_headers_or_past_the_buffer_throw_naming_the_parameter()
    {
        byte[] frame = new byte[2048];

        Assert.Equal("frameLength", Assert.Throws<ArgumentOutOfRangeException>(() => CaptureEndpoints.WriteOfLength(frame, 41)).ParamName);
        Assert.Equal("frameLength", Assert.Throws<ArgumentOutOfRangeException>(() => CaptureEndpoints.WriteOfLength(new byte[70_000], 65_550)).ParamName);
        Assert.Equal("frame", Assert.Throws<ArgumentException>(() => CaptureEndpoints.WriteOfLength(frame.AsSpan(0, 63).ToArray(), 64)).ParamName);
        Assert.Equal("frame", Assert.Throws<ArgumentException>(() => CaptureEndpoints.Write(new byte[50], new byte[9])).ParamName);
        Assert.Equal("payload", Assert.Throws<ArgumentOutOfRangeException>(() => CaptureEndpoints.Write(new byte[70_000], new byte[65_508])).ParamName);
        Assert.Equal(42, CaptureEndpoints.WriteOfLength(frame, 42));
    }

    [Fact]
    public void Endpoints_of_different_families_are_refused()
    {
        var exception = Assert.Throws<ArgumentException>(() => new UdpFrameBuilder(Captures.MacA, Captures.MacB,
            new IPEndPoint(IPAddress.Parse("10.11.0.1"), 1), new IPEndPoint(IPAddress.Parse("fd00::2"), 2)));

        Assert.Equal("destination", exception.ParamName);
    }

    [Fact]
    public void Any_ipv4_frame_parses_back_to_what_was_written()
    {
        Gen.Select(Gen.Byte.Array[6], Gen.Byte.Array[6], Gen.UInt, Gen.UInt, Gen.UShort, Gen.UShort, Gen.Byte.Array[0, 1472])
            .Sample((sourceMac, destinationMac, sourceIp, destinationIp, sourcePort, destinationPort, payload) =>
            {
                var builder = new UdpFrameBuilder(new MacAddress(sourceMac), new MacAddress(destinationMac),
                    new IPEndPoint(ToAddress(sourceIp), sourcePort), new IPEndPoint(ToAddress(destinationIp), destinationPort));
                byte[] frame = new byte[1514];

                int length = builder.Write(frame, payload);

                Assert.Equal(42 + payload.Length, length);
                Assert.True(EthernetFrame.TryCreate(frame.AsSpan(0, length), out EthernetFrame ethernet));
                Assert.Equal(new MacAddress(sourceMac), ethernet.Source);
                Assert.Equal(new MacAddress(destinationMac), ethernet.Destination);
                Assert.Equal(EtherType.Ipv4, ethernet.EtherType);
                Assert.True(Ipv4Packet.TryCreate(ethernet.Payload, out Ipv4Packet ip));
                Assert.Equal(sourceIp, ip.Source);
                Assert.Equal(destinationIp, ip.Destination);
                Assert.Equal(IpProtocol.Udp, ip.Protocol);
                Assert.True(ip.IsChecksumValid);
                Assert.True(UdpDatagram.TryCreate(ip.Payload, out UdpDatagram udp));
                Assert.Equal(sourcePort, udp.SourcePort);
                Assert.Equal(destinationPort, udp.DestinationPort);
                Assert.Equal(payload, udp.Payload.ToArray());
                Assert.True(udp.HasChecksum);
                Assert.True(udp.IsChecksumValid(ip.PseudoHeaderSum()));
            });
    }

    [Fact]
    public void Any_ipv6_frame_parses_back_to_what_was_written()
    {
        Gen.Select(Gen.Byte.Array[16], Gen.Byte.Array[16], Gen.UShort, Gen.UShort, Gen.Byte.Array[0, 1452])
            .Sample((sourceIp, destinationIp, sourcePort, destinationPort, payload) =>
            {
                var builder = new UdpFrameBuilder(Captures.MacA, Captures.MacB,
                    new IPEndPoint(new IPAddress(sourceIp), sourcePort), new IPEndPoint(new IPAddress(destinationIp), destinationPort));
                byte[] frame = new byte[1514];

                int length = builder.Write(frame, payload);

                Assert.True(EthernetFrame.TryCreate(frame.AsSpan(0, length), out EthernetFrame ethernet));
                Assert.True(Ipv6Packet.TryCreate(ethernet.Payload, out Ipv6Packet ip));
                Assert.Equal(sourceIp, ip.Source.ToArray());
                Assert.Equal(destinationIp, ip.Destination.ToArray());
                Assert.Equal(8 + payload.Length, ip.PayloadLength);
                Assert.True(UdpDatagram.TryCreate(ip.Payload, out UdpDatagram udp));
                Assert.Equal(sourcePort, udp.SourcePort);
                Assert.Equal(destinationPort, udp.DestinationPort);
                Assert.Equal(payload, udp.Payload.ToArray());
                Assert.True(udp.IsChecksumValid(ip.PseudoHeaderSum()));
            });
    }

    static IPAddress ToAddress(uint address) =>
        new([(byte)(address >> 24), (byte)(address >> 16), (byte)(address >> 8), (byte)address]);
}
