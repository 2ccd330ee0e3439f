using System.Buffers.Binary;
using AfXdp.Net;
using CsCheck;

namespace AfXdp.Tests.Net;

/// <summary>Whatever the bytes, TryCreate answers and accessors of an accepted view stay inside it.</summary>
public class MalformedInputTests
{
    static readonly byte[][] Golden =
    [
        Captures.ArpRequest, Captures.IcmpEchoRequest, Captures.Ipv4Udp, Captures.Ipv6UdpWithHopByHop,
        Captures.NeighborSolicitation, Captures.NeighborAdvertisement, Captures.TcpSyn, Captures.VlanTaggedUdp,
    ];

    [Fact]
    public void Random_bytes_never_throw()
    {
        Gen.Byte.Array[0, 200].Sample(bytes =>
        {
            ParseEverything(bytes);
            ParseEveryLayer(bytes);
        }, iter: 20_000);
    }

    [Fact]
    public void Random_bytes_behind_valid_headers_never_throw()
    {
        Gen.Select(Gen.Int[0, Golden.Length - 1], Gen.Byte.Array[0, 120]).Sample((index, tail) =>
        {
            byte[] frame = Golden[index];
            int keep = Math.Min(frame.Length, 14 + tail.Length % 60);
            ParseEverything([.. frame.AsSpan(0, keep), .. tail]);
        }, iter: 20_000);
    }

    [Fact]
    public void Every_truncation_of_every_capture_never_throws_and_drops_the_cut_layer()
    {
        foreach (byte[] frame in Golden)
            for (int length = 0; length < frame.Length; length++)
            {
                byte[] cut = frame[..length];
                ParseEverything(cut);
                if (EthernetFrame.TryCreate(cut, out EthernetFrame ethernet))
                {
                    Assert.False(Ipv4Packet.TryCreate(ethernet.Payload, out _));
                    Assert.False(Ipv6Packet.TryCreate(ethernet.Payload, out _));
                }
            }
    }

    [Fact]
    public void Lying_lengths_are_rejected()
    {
        Gen.Int[1, ushort.MaxValue].Sample(excess =>
        {
            byte[] ipv4 = Captures.Ipv4Udp[14..];
            BinaryPrimitives.WriteUInt16BigEndian(ipv4.AsSpan(2), (ushort)Math.Min(ushort.MaxValue, ipv4.Length + excess));
            Assert.False(Ipv4Packet.TryCreate(ipv4, out _));

            byte[] udp = Captures.Ipv4Udp[34..];
            BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(4), (ushort)Math.Min(ushort.MaxValue, udp.Length + excess));
            Assert.False(UdpDatagram.TryCreate(udp, out _));

            byte[] ipv6 = Captures.Ipv6UdpWithHopByHop[14..];
            BinaryPrimitives.WriteUInt16BigEndian(ipv6.AsSpan(4), (ushort)Math.Min(ushort.MaxValue, ipv6.Length - 40 + excess));
            Assert.False(Ipv6Packet.TryCreate(ipv6, out _));

            byte[] hopByHop = Captures.Ipv6UdpWithHopByHop[14..];
            hopByHop[41] = (byte)Math.Min(255, 2 + excess); // 24 bytes or more where 25 remain, holding the UDP header
            Assert.False(Ipv6Packet.TryCreate(hopByHop, out _));
        });
    }

    [Fact]
    public void Udp_length_below_its_header_is_rejected()
    {
        byte[] udp = Captures.Ipv4Udp[34..];
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(4), 7);

        Assert.False(UdpDatagram.TryCreate(udp, out _));
    }

    static void ParseEverything(byte[] bytes)
    {
        if (!EthernetFrame.TryCreate(bytes, out EthernetFrame frame))
            return;
        _ = (frame.Destination, frame.Source, frame.HasVlan, frame.VlanId, frame.Pcp, frame.EtherType, frame.PayloadOffset);
        frame.SwapMacs();
        ParseEveryLayer(frame.Payload.ToArray());
    }

    // Tries every view on the same bytes, as a parser that misread the type would.
    static void ParseEveryLayer(byte[] bytes)
    {
        if (ArpPacket.TryCreate(bytes, out ArpPacket arp))
            _ = (arp.Operation, arp.SenderMac, arp.SenderIp, arp.TargetMac, arp.TargetIp);
        if (Ipv4Packet.TryCreate(bytes, out Ipv4Packet ipv4))
        {
            _ = (ipv4.HeaderLength, ipv4.TotalLength, ipv4.Identification, ipv4.IsFragment, ipv4.FragmentOffset, ipv4.Ttl,
                ipv4.Protocol, ipv4.Source, ipv4.Destination, ipv4.Options.Length, ipv4.Payload.Length, ipv4.IsChecksumValid,
                ipv4.PseudoHeaderSum());
            ParseTransport(ipv4.Payload.ToArray(), ipv4.PseudoHeaderSum());
        }
        if (Ipv6Packet.TryCreate(bytes, out Ipv6Packet ipv6))
        {
            _ = (ipv6.TrafficClass, ipv6.FlowLabel, ipv6.PayloadLength, ipv6.NextHeader, ipv6.HopLimit, ipv6.Source.Length,
                ipv6.Destination.Length, ipv6.Protocol, ipv6.HeaderLength, ipv6.IsFragment, ipv6.Payload.Length);
            ParseTransport(ipv6.Payload.ToArray(), ipv6.PseudoHeaderSum());
        }
        ParseTransport(bytes, 0);
    }

    static void ParseTransport(byte[] bytes, uint pseudoHeaderSum)
    {
        if (UdpDatagram.TryCreate(bytes, out UdpDatagram udp))
            _ = (udp.SourcePort, udp.DestinationPort, udp.Length, udp.Checksum, udp.Payload.Length, udp.IsChecksumValid(pseudoHeaderSum));
        if (TcpHeader.TryCreate(bytes, out TcpHeader tcp))
            _ = (tcp.SourcePort, tcp.DestinationPort, tcp.SequenceNumber, tcp.AcknowledgmentNumber, tcp.HeaderLength, tcp.Flags,
                tcp.WindowSize, tcp.Checksum, tcp.UrgentPointer, tcp.Options.Length);
        if (IcmpV4Echo.TryCreate(bytes, out IcmpV4Echo echo))
            _ = (echo.Type, echo.Code, echo.Checksum, echo.Identifier, echo.SequenceNumber, echo.Data.Length, echo.IsChecksumValid);
        if (IcmpV6.TryCreate(bytes, out IcmpV6 icmp))
        {
            _ = (icmp.Type, icmp.Code, icmp.Checksum, icmp.IsChecksumValid(pseudoHeaderSum));
            _ = icmp.IsEcho ? icmp.Identifier + icmp.SequenceNumber : icmp.TargetAddress.Length;
        }
    }
}
