using System.Net;
using AfXdp.Net;
using AfXdp.Udp;

namespace AfXdp.Tests.Udp;

public sealed class DropLogTests
{
    static byte[] Frame()
    {
        var frame = new byte[100];
        int length = new UdpFrameBuilder(MacAddress.Parse("02:00:00:00:0a:01"), MacAddress.Parse("02:00:00:00:0b:01"),
            IPEndPoint.Parse("10.99.0.1:40000"), IPEndPoint.Parse("10.99.0.2:53")).Write(frame, [1, 2, 3]);
        return frame[..length];
    }

    [Fact]
    public void Each_checksum_reason_is_told_once_with_the_sender_and_the_fix()
    {
        var lines = new List<string>();
        var log = new DropLog(r => { Assert.Equal(UdpServiceReportKind.ChecksumDrops, r.Kind); lines.Add(r.Message); }, "eth0", "e1000e");

        Assert.True(log.Report(UdpFrameCheck.PartialChecksum, Frame(), "UdpService(eth0) queue 0"));
        Assert.False(log.Report(UdpFrameCheck.PartialChecksum, Frame(), "UdpService(eth0) queue 1"));
        Assert.True(log.Report(UdpFrameCheck.BadChecksum, Frame(), "UdpService(eth0) queue 0"));
        Assert.False(log.Report(UdpFrameCheck.BadChecksum, Frame(), "UdpService(eth0) queue 0"));

        Assert.Equal(2, lines.Count);
        Assert.StartsWith("UdpService(eth0) queue 0: dropped a datagram from 10.99.0.1:40000 whose UDP checksum holds only the pseudo-header sum", lines[0]);
        Assert.Contains("eth0 (driver e1000e) is not a device known to hand such frames over", lines[0]);
        Assert.Contains("`ethtool -K IFACE tx off`", lines[0]);
        Assert.Contains("wrong IPv4 header or UDP checksum", lines[1]);
        Assert.Contains("`ethtool -S eth0`", lines[1]);
    }

    [Fact]
    public void Reasons_the_operator_cannot_fix_are_only_counted()
    {
        var lines = new List<string>();
        var log = new DropLog(r => lines.Add(r.Message), "eth0", "veth");
        Assert.False(log.Report(UdpFrameCheck.Unanswerable, Frame(), "s"));
        Assert.False(log.Report(UdpFrameCheck.Malformed, Frame(), "s"));
        Assert.Empty(lines);
    }
}
