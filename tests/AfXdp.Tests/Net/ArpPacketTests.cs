using AfXdp.Net;
using CsCheck;

namespace AfXdp.Tests.Net;

public class ArpPacketTests
{
    [Fact]
    public void Captured_request_gives_its_fields()
    {
        EthernetFrame.TryCreate(Captures.ArpRequest, out EthernetFrame frame);

        Assert.Equal(EtherType.Arp, frame.EtherType);
        Assert.True(frame.Destination.IsBroadcast);
        Assert.True(ArpPacket.TryCreate(frame.Payload, out ArpPacket arp));
        Assert.Equal(ArpOperation.Request, arp.Operation);
        Assert.Equal(Captures.MacA, arp.SenderMac);
        Assert.Equal(0x0A0B0001u, arp.SenderIp);
        Assert.Equal(MacAddress.Parse("00:00:00:00:00:00"), arp.TargetMac);
        Assert.Equal(0x0A0B0002u, arp.TargetIp);
    }

    [Fact]
    public void Request_converted_in_place_equals_the_kernels_reply()
    {
        byte[] bytes = Captures.ArpRequest;
        EthernetFrame.TryCreate(bytes, out EthernetFrame frame);
        ArpPacket.TryCreate(frame.Payload, out ArpPacket arp);

        frame.Destination = arp.SenderMac;
        frame.Source = Captures.MacB;
        arp.ConvertToReply(Captures.MacB);

        Assert.Equal(Convert.ToHexStringLower(Captures.ArpReply), Convert.ToHexStringLower(bytes));
    }

    [Fact]
    public void Written_packet_parses_back_to_the_same_fields()
    {
        Gen.Select(Gen.Byte.Array[6], Gen.UInt, Gen.Byte.Array[6], Gen.UInt, Gen.Int[1, 2]).Sample((senderMac, senderIp, targetMac, targetIp, operation) =>
        {
            var bytes = new byte[ArpPacket.Length];

            Assert.Equal(ArpPacket.Length, ArpPacket.Write(bytes, (ArpOperation)operation, new MacAddress(senderMac), senderIp, new MacAddress(targetMac), targetIp));

            Assert.True(ArpPacket.TryCreate(bytes, out ArpPacket arp));
            Assert.Equal((ArpOperation)operation, arp.Operation);
            Assert.Equal(new MacAddress(senderMac), arp.SenderMac);
            Assert.Equal(senderIp, arp.SenderIp);
            Assert.Equal(new MacAddress(targetMac), arp.TargetMac);
            Assert.Equal(targetIp, arp.TargetIp);
        });
    }

    [Theory]
    [InlineData(1, 6)] // hardware type 1 (Ethernet) -> 6 (IEEE 802)
    [InlineData(2, 0x86)] // protocol type 0x0800 -> 0x8600
    [InlineData(4, 8)] // hardware address length 6 -> 8
    [InlineData(5, 16)] // protocol address length 4 -> 16
    public void Other_than_ethernet_and_ipv4_is_rejected(int index, byte value)
    {
        byte[] arp = Captures.ArpRequest.AsSpan(14).ToArray();
        arp[index] = value;

        Assert.False(ArpPacket.TryCreate(arp, out _));
    }

    [Fact]
    public void Shorter_than_28_bytes_is_rejected() =>
        Assert.False(ArpPacket.TryCreate(Captures.ArpRequest.AsSpan(14, 27), out _));
}
