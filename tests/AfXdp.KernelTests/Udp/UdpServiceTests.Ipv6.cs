using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using AfXdp.Net;
using AfXdp.Testing;
using AfXdp.Udp;

namespace AfXdp.KernelTests.Udp;

/// <summary>The UDP service over IPv6: answers and sends, the kernel keeps ICMPv6 and neighbour discovery, bad datagrams, allocation, address checks.</summary>
public sealed partial class UdpServiceTests
{
    static readonly IPAddress V6A = Ipv6Lab.AddressA, V6B = Ipv6Lab.AddressB;
    // in6.h: the hop-by-hop options a socket sends with each datagram.
    const int IPPROTO_IPV6 = 41, IPV6_HOPOPTS = 54;

    static UdpService ServeBothFamilies(VethLab lab) => lab.Run(VethSide.B, () => new UdpService(new UdpServiceOptions
    {
        Interface = lab.InterfaceB,
        Endpoints = [new IPEndPoint(V6B, Port), new IPEndPoint(lab.AddressB, Port)],
        SpinTime = TimeSpan.Zero,
    }));

    static Socket Ipv6Client(VethLab lab, int port = 0) => lab.Run(VethSide.A, () =>
    {
        var socket = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 5000 };
        socket.Bind(new IPEndPoint(V6A, port));
        return socket;
    });

    [Fact]
    public void Over_ipv6_a_datagram_is_answered_in_place_and_one_sent_anew_while_ping6_and_neighbour_discovery_go_to_the_kernel()
    {
        using VethLab lab = Ipv6Lab.Create();
        using var service = ServeBothFamilies(lab);
        var handler = new Prefixer();
        using Socket client = Ipv6Client(lab, 40006);
        using Socket client4 = Client(lab, 40004);
        UdpSendResult? sent = null;
        RunWhile(service, handler, () =>
        {
            Assert.Equal("ok:hello six", Exchange(client, new IPEndPoint(V6B, Port), "hello six"));
            Assert.Equal(new UdpEndpoint(Ipv6Address.ToUInt128(V6A), 40006), handler.LastRemote);
            Assert.Equal(new UdpEndpoint(Ipv6Address.ToUInt128(V6B), Port), handler.LastLocal);
            Assert.Equal("ok:hello four", Exchange(client4, new IPEndPoint(lab.AddressB, Port), "hello four"));

            // Sent anew from Idle: the client's MAC comes from B's neighbour table, filled by A's neighbour solicitation.
            handler.OnIdle = sender => sent = sender.TrySend(new UdpEndpoint(Ipv6Address.ToUInt128(V6A), 40006), "news"u8, new UdpEndpoint(Ipv6Address.ToUInt128(V6B), Port));
            var buffer = new byte[64];
            EndPoint from = new IPEndPoint(IPAddress.IPv6Any, 0);
            int n = client.ReceiveFrom(buffer, ref from);
            Assert.Equal("news", Encoding.ASCII.GetString(buffer, 0, n));
            Assert.Equal(new IPEndPoint(V6B, Port), from);

            // ICMPv6 echo and neighbour discovery reach B's kernel: with A's entry for B gone, ping -6 resolves it anew.
            CommandResult flush = lab.Exec(VethSide.A, "ip", "-6", "neigh", "flush", "dev", lab.InterfaceA);
            Assert.True(flush.Succeeded, flush.Error);
            CommandResult ping = lab.Exec(VethSide.A, "ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", V6B.ToString());
            Assert.True(ping.Succeeded, ping.Output + ping.Error);
            Assert.Contains("3 received", ping.Output);
            CommandResult neighbours = lab.Exec(VethSide.A, "ip", "-6", "neigh", "show", "dev", lab.InterfaceA, V6B.ToString());
            Assert.Contains($"lladdr {lab.MacB}", neighbours.Output, StringComparison.OrdinalIgnoreCase);
        });
        // Read once the workers have stopped: the datagram can reach the client before the worker stores the result.
        Assert.Equal(UdpSendResult.Sent, sent);
        UdpServiceCounters counters = service.ReadCounters();
        Assert.Equal(2, counters.Received);
        Assert.Equal(0, counters.BadChecksums);
    }

    [Fact]
    public void Over_ipv6_a_wrong_or_zero_checksum_gets_no_answer_and_a_hop_by_hop_header_goes_to_the_kernel()
    {
        using VethLab lab = Ipv6Lab.Create();
        using var service = ServeBothFamilies(lab);
        var handler = new Prefixer();
        // A kernel socket on the served endpoint: what the steering program passes reaches it, what the service takes does not.
        using Socket kernel = lab.Run(VethSide.B, () =>
        {
            var socket = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 2000 };
            socket.Bind(new IPEndPoint(V6B, Port));
            return socket;
        });
        using Socket listener = Ipv6Client(lab, 40053);
        listener.ReceiveTimeout = 1000;
        RunWhile(service, handler, () =>
        {
            using Socket raw = lab.Run(VethSide.A, () => new Socket(AddressFamily.InterNetworkV6, SocketType.Raw, ProtocolType.Udp));
            byte[] wrong = DamagedDatagram.WrongChecksum(V6A, 40053, V6B, Port, "wrong"u8);
            raw.SendTo(wrong, new IPEndPoint(V6B, 0));
            byte[] zero = DamagedDatagram.WrongChecksum(V6A, 40053, V6B, Port, "zero"u8);
            zero[6] = zero[7] = 0;
            raw.SendTo(zero, new IPEndPoint(V6B, 0));
            Assert.Throws<SocketException>(() => listener.Receive(new byte[512]));

            // A hop-by-hop options header (PadN to 8 bytes) in front of UDP, set on an ordinary socket: the kernel builds and checksums it.
            using Socket hopByHop = Ipv6Client(lab, 40054);
            hopByHop.SetRawSocketOption(IPPROTO_IPV6, IPV6_HOPOPTS, new byte[] { 0, 0, 1, 4, 0, 0, 0, 0 });
            hopByHop.SendTo("options"u8.ToArray(), new IPEndPoint(V6B, Port));
            var buffer = new byte[64];
            int n = kernel.Receive(buffer);
            Assert.Equal("options", Encoding.ASCII.GetString(buffer, 0, n));
            hopByHop.ReceiveTimeout = 1000;
            Assert.Throws<SocketException>(() => hopByHop.Receive(buffer));
        });
        UdpServiceCounters counters = service.ReadCounters();
        Assert.Equal(0, counters.Received);
        Assert.Equal(2, counters.BadChecksums);
    }

    [Fact]
    public void Zero_bytes_are_allocated_per_ipv6_datagram_in_steady_state()
    {
        using VethLab lab = Ipv6Lab.Create();
        using var service = ServeBothFamilies(lab);
        var handler = new Prefixer();
        RunWhile(service, handler, () =>
        {
            using Socket client = Ipv6Client(lab);
            client.ReceiveTimeout = 2000;
            var buffer = new byte[64];
            var to = new IPEndPoint(V6B, Port);
            for (int i = 0; i < 12_000 && handler.AllocatedAfter < 0; i++)
            {
                client.SendTo("0123456789"u8.ToArray(), to);
                client.Receive(buffer);
            }
        });
        Assert.True(handler.AllocatedAfter >= 0, $"only {handler.Handled} datagrams were handled");
        Assert.Equal(0, handler.AllocatedAfter - handler.AllocatedBefore);
    }

    [Fact]
    public void An_ipv6_address_the_interface_lacks_or_a_link_local_one_without_its_interface_is_refused_with_the_fix()
    {
        using VethLab lab = Ipv6Lab.Create();
        AfXdpException missing = Assert.Throws<AfXdpException>(() => lab.Run(VethSide.B, () => new UdpService(new UdpServiceOptions
        {
            Interface = lab.InterfaceB,
            Endpoints = [new IPEndPoint(IPAddress.Parse("fd00:99::77"), Port)],
        })));
        Assert.Contains("fd00:99::77 is not an IPv6 address of " + lab.InterfaceB, missing.Message);
        Assert.Contains($"ip -6 addr add fd00:99::77/64 dev {lab.InterfaceB}", missing.Message);
        Assert.DoesNotContain("\n", missing.Message);

        AfXdpException unscoped = Assert.Throws<AfXdpException>(() => lab.Run(VethSide.B, () => new UdpService(new UdpServiceOptions
        {
            Interface = lab.InterfaceB,
            Endpoints = [new IPEndPoint(IPAddress.Parse("fe80::99"), Port)],
        })));
        Assert.Contains("fe80::99 is link-local (fe80::/10): it names a host only together with its interface, and none is given.", unscoped.Message);
        Assert.Contains($"[fe80::99%{lab.InterfaceB}]:{Port}", unscoped.Message);
        Assert.Equal(0, lab.Exec(VethSide.B, "ip", "link", "show", "dev", lab.InterfaceB).Output.Split("xdp").Length - 1);
    }
}
