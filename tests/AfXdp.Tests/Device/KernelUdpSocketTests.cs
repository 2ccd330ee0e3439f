using System.Net;
using AfXdp.Device;

namespace AfXdp.Tests.Device;

/// <summary>Kernel UDP sockets from /proc/net/udp and udp6 tables as the kernel prints them, and which served endpoints each would take datagrams for.</summary>
public sealed class KernelUdpSocketTests
{
    // Captured from a 6.18 kernel: 127.0.0.1:5353 (udp); ::1:5000, [::]:5001 and ::ffff:127.0.0.1:5002 (udp6).
    const string Udp = """
           sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
        14882: 0100007F:14E9 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 270099 2 000000005f263f04 0

        """;

    const string Udp6 = """
          sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
        14529: 00000000000000000000000001000000:1388 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 270100 2 00000000b2faa4e0 0
        14530: 00000000000000000000000000000000:1389 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 270101 2 00000000c404c234 0
        14531: 0000000000000000FFFF00000100007F:138A 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 270102 2 00000000f546898a 0
        """;

    [Fact]
    public void Both_tables_give_each_sockets_address_port_and_inode()
    {
        Assert.Equal([new KernelUdpSocket(IPEndPoint.Parse("127.0.0.1:5353"), 270099)], KernelUdpSocket.Parse(Udp));
        Assert.Equal(
        [
            new KernelUdpSocket(IPEndPoint.Parse("[::1]:5000"), 270100),
            new KernelUdpSocket(IPEndPoint.Parse("[::]:5001"), 270101),
            new KernelUdpSocket(IPEndPoint.Parse("[::ffff:127.0.0.1]:5002"), 270102),
        ], KernelUdpSocket.Parse(Udp6));
    }

    [Fact]
    public void An_empty_table_or_a_header_alone_gives_no_socket()
    {
        Assert.Empty(KernelUdpSocket.Parse(""));
        Assert.Empty(KernelUdpSocket.Parse(Udp.Split('\n')[0]));
    }

    [Theory]
    [InlineData("192.0.2.1:53", "192.0.2.1:53", true)]
    [InlineData("0.0.0.0:53", "192.0.2.1:53", true)]
    [InlineData("[::]:53", "192.0.2.1:53", true)] // unless IPV6_V6ONLY, which /proc does not show
    [InlineData("[::ffff:192.0.2.1]:53", "192.0.2.1:53", true)]
    [InlineData("[::]:53", "[2001:db8::1]:53", true)]
    [InlineData("[2001:db8::1]:53", "[2001:db8::1]:53", true)]
    [InlineData("192.0.2.1:54", "192.0.2.1:53", false)]
    [InlineData("192.0.2.2:53", "192.0.2.1:53", false)]
    [InlineData("127.0.0.1:53", "192.0.2.1:53", false)]
    [InlineData("[::ffff:192.0.2.2]:53", "192.0.2.1:53", false)]
    [InlineData("0.0.0.0:53", "[2001:db8::1]:53", false)]
    [InlineData("[2001:db8::2]:53", "[2001:db8::1]:53", false)]
    public void A_socket_receives_for_a_served_endpoint_on_its_port_at_its_address_or_its_wildcard(string local, string served, bool receives) =>
        Assert.Equal(receives, new KernelUdpSocket(IPEndPoint.Parse(local), 1).Receives(IPEndPoint.Parse(served)));
}
