using System.Net;
using System.Net.Sockets;
using AfXdp.Bpf;
using AfXdp.Device;
using AfXdp.KernelTests.Bpf;
using AfXdp.Testing;
using AfXdp.Xsk;

namespace AfXdp.KernelTests.Xsk;

/// <summary>
/// The steering program on live traffic: only the steered frames reach the AF_XDP socket, while
/// ping, TCP and other UDP keep reaching the kernel of end B, and every verdict is counted.
/// </summary>
public sealed class SteeringTests
{
    const int SteeredPort = 7001, OtherPort = 7002, TcpPort = 8080;

    [Theory]
    [InlineData(XdpAttachMode.Skb)]
    [InlineData(XdpAttachMode.Drv)]
    public async Task Only_the_steered_port_reaches_the_socket_while_ping_TCP_and_other_UDP_reach_the_kernel(XdpAttachMode mode)
    {
        using var bed = new XskTestBed(mode, new XskSocketOptions { TxRingSize = 0 }, filter: PacketFilter.Parse($"udp dst port {SteeredPort}"));
        XskRedirectProgram program = bed.Program!;
        Assert.Equal(SteeringProgram.ProgramName, program.Program.Name);
        CommandResult show = ExternalCommand.Run("bpftool", ["prog", "show", "id", program.Program.Id.ToString()]);
        Assert.Contains($"{program.Program.Id}: xdp  name {SteeringProgram.ProgramName}", show.Output);

        CommandResult ping = bed.Lab.Exec(VethSide.A, "ping", "-c", "3", "-i", "0.2", "-W", "1", bed.Lab.AddressB.ToString());
        Assert.True(ping.Succeeded, ping.Output + ping.Error);
        Assert.Equal("hello over TCP", TcpEcho(bed.Lab, "hello over TCP"));

        using Socket other = BindOnB(bed.Lab, OtherPort);
        Task<List<(byte[] Payload, EndPoint From)>> otherReceived = XskTestBed.ReceiveDatagrams(other, 50);
        bed.SendFromA(50, OtherPort);
        Assert.Equal(50, (await otherReceived).Count);

        bed.SendFromA(200, SteeredPort);
        List<byte[]> frames = XskTestBed.Receive(bed.Socket, 200, TimeSpan.FromSeconds(5));
        frames.AddRange(XskTestBed.Receive(bed.Socket, 1, TimeSpan.FromMilliseconds(300)));
        Assert.Equal(200, frames.Count);
        Assert.All(frames, f => Assert.True(XskTestBed.UdpPayload(f, out int port) is not null && port == SteeredPort, "only steered datagrams reach the socket"));

        SteeringCounters counters = program.ReadCounters();
        Assert.Equal(200UL, counters.Redirected);
        Assert.Equal(0UL, counters.NoSocket);
        // At least: 3 echo requests, the TCP handshake and data, 50 datagrams, ARP.
        Assert.InRange(counters.NotMatched, 3UL + 3 + 50 + 1, 1000UL);
    }

    [Fact]
    public async Task Matching_frames_without_a_socket_on_their_queue_pass_to_the_kernel_and_are_counted()
    {
        using var steered = new XskTestBed(XdpAttachMode.Drv, new XskSocketOptions { TxRingSize = 0 }, filter: PacketFilter.Parse($"udp dst port {SteeredPort}"));
        steered.Program!.Unregister(steered.Socket);
        using Socket kernel = BindOnB(steered.Lab, SteeredPort);
        Task<List<(byte[] Payload, EndPoint From)>> received = XskTestBed.ReceiveDatagrams(kernel, 20);
        steered.SendFromA(20, SteeredPort);
        Assert.Equal(20, (await received).Count);
        SteeringCounters counters = steered.Program.ReadCounters();
        Assert.Equal(20UL, counters.NoSocket);
        Assert.Equal(0UL, counters.Redirected);
        Assert.Empty(XskTestBed.Receive(steered.Socket, 1, TimeSpan.FromMilliseconds(200)));
    }

    /// <summary>
    /// A VLAN filter on tagged traffic. End A writes the tagged frames itself, from an AF_XDP socket
    /// (no VLAN interfaces here: 8021q is a module). A tag stripped into metadata by a NIC's VLAN
    /// offload would be invisible to XDP; in the frame, the program sees it.
    /// </summary>
    [Theory]
    [InlineData(XdpAttachMode.Skb)]
    [InlineData(XdpAttachMode.Drv)]
    public void A_VLAN_filter_steers_tagged_frames_of_its_VLAN(XdpAttachMode mode)
    {
        using var bed = new XskTestBed(mode, new XskSocketOptions { TxRingSize = 0 }, filter: PacketFilter.Parse("vlan 100 and udp dst port 9"));
        byte[][] frames =
        [
            TestFrames.Udp4("10.99.0.2", 9, tci: 100),
            TestFrames.Udp4("10.99.0.2", 9, tci: 101),
            TestFrames.Udp4("10.99.0.2", 9),
            TestFrames.Udp4("10.99.0.2", 10, tci: 100),
        ];
        (Umem umem, TxSocket sender) = bed.Lab.Run(VethSide.A, () =>
        {
            var u = new Umem(new UmemOptions { FrameCount = 4096 });
            return (u, new TxSocket(u, bed.Lab.InterfaceA, 0, new XskSocketOptions()));
        });
        using (umem)
        using (sender)
            bed.Transmit(sender, 40, (i, frame) =>
            {
                frames[i % 4].CopyTo(frame);
                return frames[i % 4].Length;
            });

        List<byte[]> received = XskTestBed.Receive(bed.Socket, 10, TimeSpan.FromSeconds(5));
        received.AddRange(XskTestBed.Receive(bed.Socket, 1, TimeSpan.FromMilliseconds(300)));
        Assert.Equal(10, received.Count);
        Assert.All(received, f => Assert.Equal(frames[0], f));
        SteeringCounters counters = bed.Program!.ReadCounters();
        Assert.Equal(10UL, counters.Redirected);
        Assert.Equal(30UL, counters.NotMatched);
    }

    static Socket BindOnB(VethLab lab, int port) => lab.Run(VethSide.B, () =>
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 2000 };
        socket.Bind(new IPEndPoint(lab.AddressB, port));
        return socket;
    });

    /// <summary>A TCP connection from A to an echo server on B: the reply it reads back.</summary>
    static string TcpEcho(VethLab lab, string message)
    {
        using TcpListener listener = lab.Run(VethSide.B, () =>
        {
            var l = new TcpListener(lab.AddressB, TcpPort);
            l.Start();
            return l;
        });
        Task server = lab.RunAsync(VethSide.B, () =>
        {
            listener.Server.ReceiveTimeout = 5000;
            using Socket accepted = listener.Server.Poll(5_000_000, SelectMode.SelectRead) ? listener.AcceptSocket() : throw new TimeoutException("no TCP connection from A");
            accepted.ReceiveTimeout = 5000;
            var buffer = new byte[256];
            int n = accepted.Receive(buffer);
            accepted.Send(buffer.AsSpan(0, n));
        });
        string reply = lab.Run(VethSide.A, () =>
        {
            using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 5000 };
            Assert.True(client.ConnectAsync(lab.AddressB, TcpPort).Wait(TimeSpan.FromSeconds(5)), "TCP connect from A to B timed out");
            client.Send(System.Text.Encoding.ASCII.GetBytes(message));
            var buffer = new byte[256];
            return System.Text.Encoding.ASCII.GetString(buffer, 0, client.Receive(buffer));
        });
        server.WaitAsync(TimeSpan.FromSeconds(5)).GetAwaiter().GetResult();
        return reply;
    }
}
