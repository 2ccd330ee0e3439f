using System.Net;
using AfXdp.Engine;
using AfXdp.Net;

namespace AfXdp.Tests.Engine;

public sealed unsafe class PacketTests
{
    static readonly MacAddress MacA = MacAddress.Parse("02:00:00:00:0a:01");
    static readonly MacAddress MacB = MacAddress.Parse("02:00:00:00:0b:01");

    [Fact]
    public void A_reflected_UDP_frame_goes_back_to_its_sender_with_valid_checksums()
    {
        byte[] frame = new byte[128];
        int length = new UdpFrameBuilder(MacA, MacB, new IPEndPoint(IPAddress.Parse("10.99.0.1"), 40000), new IPEndPoint(IPAddress.Parse("10.99.0.2"), 7))
            .Write(frame, "ping"u8);

        Assert.True(PacketReflector.Reflect(frame.AsSpan(0, length)));

        Assert.True(EthernetFrame.TryCreate(frame.AsSpan(0, length), out EthernetFrame ethernet));
        Assert.Equal((MacA, MacB), (ethernet.Destination, ethernet.Source));
        Assert.True(Ipv4Packet.TryCreate(ethernet.Payload, out Ipv4Packet ip));
        Assert.Equal((IPAddress.Parse("10.99.0.2"), IPAddress.Parse("10.99.0.1")), (ip.GetSourceIPAddress(), ip.GetDestinationIPAddress()));
        Assert.True(ip.IsChecksumValid);
        Assert.True(UdpDatagram.TryCreate(ip.Payload, out UdpDatagram udp));
        Assert.Equal((7, 40000), (udp.SourcePort, udp.DestinationPort));
        Assert.True(udp.IsChecksumValid(ip.PseudoHeaderSum()));
        Assert.Equal("ping"u8.ToArray(), udp.Payload.ToArray());
    }

    [Fact]
    public void Non_ethernet_bytes_are_not_reflected() => Assert.False(PacketReflector.Reflect(new byte[10]));

    [Fact]
    public void Verdicts_and_length_changes_stay_within_the_frame()
    {
        byte* frame = stackalloc byte[256];
        var packet = new Packet(frame + 64, address: 4096 + 64, length: 100, capacity: 192);
        Assert.Equal(PacketVerdict.Drop, packet.Verdict);
        packet.Length = 192;
        Assert.Equal(192, packet.Data.Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => packet.Length = 193);
        Assert.Throws<ArgumentOutOfRangeException>(() => packet.Length = -1);
        packet.Transmit();
        Assert.Equal(PacketVerdict.Transmit, packet.Verdict);
        packet.Hold();
        Assert.Equal(PacketVerdict.Hold, packet.Verdict);
        Assert.Equal(4096ul + 64, packet.Address);
    }
}
