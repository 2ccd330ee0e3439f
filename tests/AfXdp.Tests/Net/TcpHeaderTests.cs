using AfXdp.Net;

namespace AfXdp.Tests.Net;

public class TcpHeaderTests
{
    [Fact]
    public void Captured_syn_gives_its_fields_and_options()
    {
        EthernetFrame.TryCreate(Captures.TcpSyn, out EthernetFrame frame);
        Ipv4Packet.TryCreate(frame.Payload, out Ipv4Packet ip);
        Assert.Equal(IpProtocol.Tcp, ip.Protocol);

        Assert.True(TcpHeader.TryCreate(ip.Payload, out TcpHeader tcp));
        Assert.Equal(46186, tcp.SourcePort);
        Assert.Equal(9003, tcp.DestinationPort);
        Assert.Equal(2694305726u, tcp.SequenceNumber);
        Assert.Equal(0u, tcp.AcknowledgmentNumber);
        Assert.Equal(40, tcp.HeaderLength);
        Assert.Equal(TcpFlags.Syn, tcp.Flags);
        Assert.Equal(64240, tcp.WindowSize);
        Assert.Equal(0xE1F7, tcp.Checksum);
        Assert.Equal(0, tcp.UrgentPointer);
        Assert.Equal("020405b4", Convert.ToHexStringLower(tcp.Options[..4])); // MSS 1460
        Assert.Equal(0xFFFF, InternetChecksum.Sum(ip.Payload, ip.PseudoHeaderSum()));
    }

    [Theory]
    [InlineData(0x40)] // data offset 4: shorter than the fixed header
    [InlineData(0xB0)] // data offset 11: 44 bytes in a 40-byte segment
    public void Data_offset_outside_the_segment_is_rejected(byte dataOffset)
    {
        byte[] segment = Captures.TcpSyn[34..];
        segment[12] = dataOffset;

        Assert.False(TcpHeader.TryCreate(segment, out _));
    }

    [Fact]
    public void Shorter_than_20_bytes_is_rejected() =>
        Assert.False(TcpHeader.TryCreate(Captures.TcpSyn.AsSpan(34, 19), out _));
}
