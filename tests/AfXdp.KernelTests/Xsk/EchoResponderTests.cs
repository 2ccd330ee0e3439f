using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using AfXdp.Cli.Apps;
using AfXdp.Device;
using AfXdp.Testing;
using AfXdp.Xsk;

namespace AfXdp.KernelTests.Xsk;

/// <summary>
/// <see cref="EchoResponder"/> on end B answers for 10.99.N.3, an address no kernel in the lab has;
/// the peer's real tools (ping, UDP and TCP sockets) talk to it. No static neighbour entry for .3:
/// the peer learns its MAC from our ARP replies.
/// </summary>
public sealed class EchoResponderTests
{
    [Theory]
    [InlineData(XdpAttachMode.Skb)]
    [InlineData(XdpAttachMode.Drv)]
    public void Ping_from_the_peer_is_answered_after_ARP_resolves_through_our_reply(XdpAttachMode mode)
    {
        using var bed = new EchoBed(mode);
        bed.StartLoop();
        Assert.DoesNotContain(bed.Address.ToString(), bed.Lab.Exec(VethSide.A, "ip", "neigh", "show").Output);

        CommandResult ping = bed.Lab.Exec(VethSide.A, "ping", "-c", "5", "-i", "0.2", "-W", "2", bed.Address.ToString());

        Assert.True(ping.Succeeded, ping.Output + ping.Error);
        Assert.Contains("5 packets transmitted, 5 received, 0% packet loss", ping.Output);
        Assert.Matches($@"64 bytes from {Regex.Escape(bed.Address.ToString())}: icmp_seq=5 ttl=64", ping.Output);
        string neighbour = bed.Lab.Exec(VethSide.A, "ip", "neigh", "show", bed.Address.ToString()).Output;
        Assert.Matches($"lladdr {bed.Lab.MacB} (REACHABLE|STALE|DELAY)", neighbour);
        EchoCounters counters = bed.StopLoop();
        Assert.True(counters.ArpReplies >= 1, counters.ToString());
        Assert.Equal(5, counters.IcmpEchoReplies);
        Assert.Equal(0, counters.Ignored);
    }

    [Fact]
    public void A_ping_flood_of_thousands_loses_nothing()
    {
        using var bed = new EchoBed(XdpAttachMode.Drv);
        bed.StartLoop();

        // ping -f sends on each reply or every 10 ms: on a loaded machine 3000 can take 30 s, so the deadline is 120 s;
        // the run ends as soon as all 3000 replies are in, and any lost one shows as a count below 3000.
        CommandResult ping = bed.Lab.Exec(VethSide.A, "ping", "-f", "-c", "3000", "-w", "120", bed.Address.ToString());

        Assert.True(ping.Succeeded, ping.Output + ping.Error);
        Assert.Contains("3000 packets transmitted, 3000 received, 0% packet loss", ping.Output);
        Assert.Equal(3000, bed.StopLoop().IcmpEchoReplies);
    }

    [Fact]
    public void UDP_datagrams_come_back_byte_for_byte()
    {
        using var bed = new EchoBed(XdpAttachMode.Drv);
        bed.StartLoop();
        // Resolved first: datagrams queued while ARP is pending may leave after later ones, out of order.
        Assert.True(bed.Lab.Exec(VethSide.A, "ping", "-c", "1", "-W", "2", bed.Address.ToString()).Succeeded);
        const int Bursts = 50, PerBurst = 100;
        var random = new Random(6);
        byte[][] sent = Enumerable.Range(0, Bursts * PerBurst).Select(i =>
        {
            var payload = new byte[random.Next(1, 1473)]; // 1472: the largest payload in a 1500-byte MTU
            random.NextBytes(payload);
            BitConverter.TryWriteBytes(payload, i);
            return payload;
        }).ToArray();

        List<byte[]> received = bed.Lab.Run(VethSide.A, () =>
        {
            using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 2000 };
            udp.SetRawSocketOption(1, 33, BitConverter.GetBytes(8 << 20)); // SO_RCVBUFFORCE: a whole burst fits
            udp.Connect(new IPEndPoint(bed.Address, 7));
            var back = new List<byte[]>();
            var buffer = new byte[2048];
            for (int burst = 0; burst < Bursts; burst++)
            {
                for (int i = 0; i < PerBurst; i++)
                    udp.Send(sent[burst * PerBurst + i]);
                for (int i = 0; i < PerBurst; i++)
                    back.Add(buffer[..udp.Receive(buffer)]);
            }
            return back;
        });

        Assert.Equal(sent.Length, received.Count);
        for (int i = 0; i < sent.Length; i++)
            Assert.Equal(sent[i], received[i]);
        Assert.Equal(sent.Length, bed.StopLoop().UdpEchoReplies);
    }

    [Fact]
    public async Task Everything_else_still_reaches_the_kernel()
    {
        using var bed = new EchoBed(XdpAttachMode.Drv);
        bed.StartLoop();
        using Socket listener = bed.Lab.Run(VethSide.B, () =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(bed.Lab.AddressB, 7));
            socket.Listen();
            return socket;
        });
        Task<string> server = Task.Run(() =>
        {
            using Socket connection = listener.Accept();
            var buffer = new byte[64];
            int n = connection.Receive(buffer);
            connection.Send(buffer.AsSpan(0, n));
            return System.Text.Encoding.ASCII.GetString(buffer, 0, n);
        }, TestContext.Current.CancellationToken);

        string reply = bed.Lab.Run(VethSide.A, () =>
        {
            using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 2000 };
            tcp.Connect(new IPEndPoint(bed.Lab.AddressB, 7));
            tcp.Send("to the kernel"u8);
            var buffer = new byte[64];
            return System.Text.Encoding.ASCII.GetString(buffer, 0, tcp.Receive(buffer));
        });
        CommandResult ping = bed.Lab.Exec(VethSide.A, "ping", "-c", "3", "-i", "0.2", "-W", "2", bed.Lab.AddressB.ToString());

        Assert.Equal("to the kernel", reply);
        Assert.Equal("to the kernel", await server.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken));
        Assert.Contains("3 packets transmitted, 3 received", ping.Output);
        EchoCounters counters = bed.StopLoop();
        Assert.Equal(0, counters.Replies + counters.Ignored);
    }

    [Fact]
    public async Task The_echo_loop_allocates_nothing()
    {
        using var bed = new EchoBed(XdpAttachMode.Drv);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Task client = bed.Lab.RunAsync(VethSide.A, () =>
        {
            using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 200 };
            udp.Connect(new IPEndPoint(bed.Address, 7));
            var buffer = new byte[64];
            while (!stop.IsCancellationRequested)
            {
                udp.Send(buffer.AsSpan(0, 32));
                try
                {
                    udp.Receive(buffer);
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
                {
                }
            }
        });
        try
        {
            long allocated = await bed.Lab.RunAsync(VethSide.B, () =>
            {
                Answer(bed.Responder, 2_000); // warm-up: JIT, tiering
                long before = GC.GetAllocatedBytesForCurrentThread();
                Answer(bed.Responder, 20_000);
                return GC.GetAllocatedBytesForCurrentThread() - before;
            });
            Assert.True(bed.Responder.Counters.Replies >= 22_000, bed.Responder.Counters.ToString());
            Assert.Equal(0, allocated);
        }
        finally
        {
            stop.Cancel();
            await client;
        }
    }

    static void Answer(EchoResponder responder, long replies)
    {
        long target = responder.Counters.Replies + replies, deadline = Stopwatch.GetTimestamp() + 20 * Stopwatch.Frequency;
        while (responder.Counters.Replies < target && Stopwatch.GetTimestamp() < deadline)
            responder.ProcessBatch(timeoutMs: 10);
    }

    /// <summary>A fresh lab with an <see cref="EchoResponder"/> for 10.99.N.3 on end B.</summary>
    sealed class EchoBed : IDisposable
    {
        readonly CancellationTokenSource _stop = new();
        Task? _loop;

        public EchoBed(XdpAttachMode mode)
        {
            KernelTest.RequireRoot();
            Lab = VethLab.Create();
            byte[] spare = Lab.AddressB.GetAddressBytes();
            spare[3] = 3;
            Address = new IPAddress(spare);
            try
            {
                Responder = Lab.Run(VethSide.B, () => new EchoResponder(new EchoResponderOptions { Interface = Lab.InterfaceB, Address = Address, AttachMode = mode }));
            }
            catch
            {
                Lab.Dispose();
                throw;
            }
        }

        public VethLab Lab { get; }
        public IPAddress Address { get; }
        public EchoResponder Responder { get; }

        public void StartLoop() => _loop = Lab.RunAsync(VethSide.B, () => Responder.Run(_stop.Token));

        public EchoCounters StopLoop()
        {
            _stop.Cancel();
            _loop?.Wait(TimeSpan.FromSeconds(5));
            return Responder.Counters;
        }

        public void Dispose()
        {
            StopLoop();
            Responder.Dispose();
            Lab.Dispose();
            _stop.Dispose();
        }
    }
}
