using AfXdp.Net;

namespace AfXdp.Tests.Net;

public class AllocationTests
{
    const int Iterations = 10_000;

    [Fact]
    public void Parsing_swapping_and_checksumming_a_frame_allocates_nothing()
    {
        byte[] frame = Captures.Ipv4Udp;
        ReflectAndCheck(frame, 100);

        long before = GC.GetAllocatedBytesForCurrentThread();
        int valid = ReflectAndCheck(frame, Iterations);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(Iterations, valid);
        Assert.Equal(0, allocated);
    }

    /// <summary>Every rule of the policy runs for a ping, a UDP datagram (reflector ports, checksum) and an ARP request.</summary>
    [Theory]
    [InlineData("ping")]
    [InlineData("udp")]
    [InlineData("arp")]
    public void Turning_a_request_around_allocates_nothing(string kind)
    {
        (byte[] request, ushort port) = kind switch
        {
            "ping" => (Captures.IcmpEchoRequest, (ushort)7),
            "udp" => (Captures.Ipv4Udp, (ushort)9000),
            _ => (Captures.ArpRequest, (ushort)7),
        };
        byte[] frame = new byte[request.Length];
        var us = new EchoIdentity(new HostPolicy(Captures.MacB, 0x0A0B0002, 24), port);
        TurnAround(request, frame, us, 100);

        long before = GC.GetAllocatedBytesForCurrentThread();
        int replies = TurnAround(request, frame, us, Iterations);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(Iterations, replies);
        Assert.Equal(0, allocated);
    }

    static int TurnAround(byte[] request, byte[] frame, in EchoIdentity us, int iterations)
    {
        int replies = 0;
        for (int i = 0; i < iterations; i++)
        {
            request.CopyTo(frame, 0);
            if (EchoReply.TurnAround(frame, us).Kind != EchoReplyKind.None)
                replies++;
        }
        return replies;
    }

    [Fact]
    public void Writing_pcap_records_allocates_nothing()
    {
        byte[] frame = Captures.Ipv4Udp;
        using var stream = new MemoryStream(capacity: 2 * (Iterations + 100) * (16 + frame.Length));
        using var writer = new PcapWriter(stream);
        for (int i = 0; i < 100; i++)
            writer.WritePacket(frame, i);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Iterations; i++)
            writer.WritePacket(frame, 1_000_000_000L * i, frame.Length);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
    }

    // What a reflector does per frame: parse every layer, verify checksums, turn the frame around.
    static int ReflectAndCheck(byte[] frame, int iterations)
    {
        int valid = 0;
        for (int i = 0; i < iterations; i++)
        {
            if (!EthernetFrame.TryCreate(frame, out EthernetFrame ethernet)
                || !Ipv4Packet.TryCreate(ethernet.Payload, out Ipv4Packet ip)
                || !UdpDatagram.TryCreate(ip.Payload, out UdpDatagram udp))
                continue;
            ethernet.SwapMacs();
            (ip.Source, ip.Destination) = (ip.Destination, ip.Source);
            (udp.SourcePort, udp.DestinationPort) = (udp.DestinationPort, udp.SourcePort);
            if (ip.IsChecksumValid && udp.IsChecksumValid(ip.PseudoHeaderSum()) && InternetChecksum.Sum(ethernet.Bytes) != 0)
                valid++;
        }
        return valid;
    }
}
