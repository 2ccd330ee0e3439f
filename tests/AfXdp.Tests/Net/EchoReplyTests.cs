using System.Buffers.Binary;
using System.Net;
using AfXdp.Net;
using CsCheck;

namespace AfXdp.Tests.Net;

public class EchoReplyTests
{
    // The capture host's second end: 02:00:00:00:0a:02, 10.11.0.2/24, echo port 9000 (the captured datagram's).
    static readonly EchoIdentity CaptureHostB = new(new HostPolicy(Captures.MacB, 0x0A0B0002, 24), 9000);

    [Fact]
    public void ARP_request_becomes_exactly_the_reply_the_kernel_sent()
    {
        byte[] frame = Captures.ArpRequest;

        Assert.Equal(EchoReplyKind.Arp, EchoReply.TurnAround(frame, CaptureHostB).Kind);

        Assert.Equal(Captures.ArpReply, frame);
    }

    [Fact]
    public void Ping_becomes_the_kernel_reply_but_for_the_IPv4_identification_and_flags_it_keeps()
    {
        byte[] frame = Captures.IcmpEchoRequest;
        byte[] kernel = Captures.IcmpEchoReply;

        Assert.Equal(EchoReplyKind.IcmpEcho, EchoReply.TurnAround(frame, CaptureHostB).Kind);

        // Identification, flags and fragment offset (IPv4 bytes 4-7) and so the header checksum (10-11) differ; all else is equal.
        int[] differing = [14 + 4, 14 + 5, 14 + 6, 14 + 7, 14 + 10, 14 + 11];
        Assert.Equal(kernel.Length, frame.Length);
        for (int i = 0; i < frame.Length; i++)
            if (!differing.Contains(i))
                Assert.True(kernel[i] == frame[i], $"byte {i}: kernel 0x{kernel[i]:x2}, ours 0x{frame[i]:x2}");
        Assert.True(EthernetFrame.TryCreate(frame, out EthernetFrame ethernet));
        Assert.True(Ipv4Packet.TryCreate(ethernet.Payload, out Ipv4Packet ip));
        Assert.True(ip.IsChecksumValid);
        Assert.Equal(0x9e01, ip.Identification);
    }

    [Fact]
    public void UDP_datagram_goes_back_with_ports_and_addresses_swapped_and_a_valid_checksum()
    {
        byte[] frame = Captures.Ipv4Udp;

        Assert.Equal(EchoReplyKind.UdpEcho, EchoReply.TurnAround(frame, CaptureHostB).Kind);

        Assert.True(EthernetFrame.TryCreate(frame, out EthernetFrame ethernet));
        Assert.Equal(Captures.MacA, ethernet.Destination);
        Assert.Equal(Captures.MacB, ethernet.Source);
        Assert.True(Ipv4Packet.TryCreate(ethernet.Payload, out Ipv4Packet ip));
        Assert.Equal(IPAddress.Parse("10.11.0.1"), ip.GetDestinationIPAddress());
        Assert.Equal(IPAddress.Parse("10.11.0.2"), ip.GetSourceIPAddress());
        Assert.True(ip.IsChecksumValid);
        Assert.True(UdpDatagram.TryCreate(ip.Payload, out UdpDatagram udp));
        Assert.Equal(9000, udp.SourcePort);
        Assert.Equal(40000, udp.DestinationPort);
        Assert.True(udp.IsChecksumValid(ip.PseudoHeaderSum()));
        Assert.Equal("hello, xdp"u8.ToArray(), udp.Payload.ToArray());
    }

    [Fact]
    public void UDP_without_a_checksum_goes_back_without_one()
    {
        byte[] frame = Captures.Ipv4Udp;
        frame[14 + 20 + 6] = frame[14 + 20 + 7] = 0;

        Assert.Equal(EchoReplyKind.UdpEcho, EchoReply.TurnAround(frame, CaptureHostB).Kind);

        Assert.Equal(0, BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(14 + 20 + 6)));
    }

    public static TheoryData<string, byte[]> NotOurs => new()
    {
        { "ARP for another address", Captures.ArpRequest.With(14 + 27, 9) },
        { "ARP reply", Captures.ArpReply },
        { "ping to another address", Captures.IcmpEchoRequest.WithIpv4HeaderByte(19, 9) },
        { "echo reply", Captures.IcmpEchoReply },
        { "UDP to another port", Captures.Ipv4Udp.With(14 + 20 + 3, 0x29) },
        { "IPv4 fragment", Captures.Ipv4Udp.WithIpv4HeaderByte(6, 0x20) },
        { "bad IPv4 header checksum", Captures.Ipv4Udp.With(14 + 10, 0) },
        { "TCP", Captures.TcpSyn },
        { "IPv6", Captures.Ipv6UdpWithHopByHop },
        { "runt", Captures.ArpRequest[..13] },
    };

    [Theory]
    [MemberData(nameof(NotOurs))]
    public void Frames_that_are_not_our_requests_are_left_alone(string what, byte[] frame)
    {
        byte[] before = [.. frame];

        Assert.True(EchoReply.TurnAround(frame, CaptureHostB).Kind == EchoReplyKind.None, what);

        Assert.Equal(before, frame);
    }

    [Fact]
    public void Incremental_checksum_updates_equal_recomputing_them()
    {
        Gen.Select(Gen.Byte.Array[0, 1400], Gen.Byte, Gen.UShort, Gen.UShort).Sample((data, ttl, identifier, sequence) =>
        {
            byte[] frame = PingFrame(data, ttl, identifier, sequence);

            Assert.Equal(EchoReplyKind.IcmpEcho, EchoReply.TurnAround(frame, CaptureHostB).Kind);

            Assert.True(EthernetFrame.TryCreate(frame, out EthernetFrame ethernet));
            Assert.True(Ipv4Packet.TryCreate(ethernet.Payload, out Ipv4Packet ip));
            Assert.True(ip.IsChecksumValid);
            Assert.Equal(Ipv4Packet.DefaultTtl, ip.Ttl);
            Assert.True(IcmpV4Echo.TryCreate(ip.Payload, out IcmpV4Echo echo));
            Assert.Equal(IcmpV4Type.EchoReply, echo.Type);
            Assert.True(echo.IsChecksumValid);
            Assert.Equal(identifier, echo.Identifier);
            Assert.Equal(sequence, echo.SequenceNumber);
            Assert.Equal(data, echo.Data.ToArray());
        });
    }

    /// <summary>An echo request from 10.11.0.1 to 10.11.0.2 with valid checksums.</summary>
    static byte[] PingFrame(byte[] data, byte ttl, ushort identifier, ushort sequence)
    {
        byte[] frame = new byte[14 + 20 + 8 + data.Length];
        EthernetFrame.WriteHeader(frame, Captures.MacB, Captures.MacA, EtherType.Ipv4);
        Ipv4Packet.WriteHeader(frame.AsSpan(14), IpProtocol.Icmp, 0x0A0B0001, 0x0A0B0002, 8 + data.Length);
        Assert.True(Ipv4Packet.TryCreate(frame.AsSpan(14), out Ipv4Packet ip));
        ip.Ttl = ttl;
        ip.UpdateChecksum();
        Span<byte> icmp = ip.Payload;
        icmp[0] = (byte)IcmpV4Type.EchoRequest;
        BinaryPrimitives.WriteUInt16BigEndian(icmp[4..], identifier);
        BinaryPrimitives.WriteUInt16BigEndian(icmp[6..], sequence);
        data.CopyTo(icmp[8..]);
        Assert.True(IcmpV4Echo.TryCreate(icmp, out IcmpV4Echo echo));
        echo.UpdateChecksum();
        return frame;
    }
}

static class ByteArrayExtensions
{
    /// <summary>A copy with one byte changed.</summary>
    public static byte[] With(this byte[] bytes, int index, byte value)
    {
        byte[] copy = [.. bytes];
        copy[index] = value;
        return copy;
    }

    /// <summary>A copy of an untagged IPv4 frame with one header byte changed and the header checksum made valid again.</summary>
    public static byte[] WithIpv4HeaderByte(this byte[] frame, int index, byte value)
    {
        byte[] copy = frame.With(14 + index, value);
        Assert.True(Ipv4Packet.TryCreate(copy.AsSpan(14), out Ipv4Packet ip));
        ip.UpdateChecksum();
        return copy;
    }
}
