using System.Buffers.Binary;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using AfXdp.Bpf;
using AfXdp.KernelTests.Samples;
using AfXdp.Net;
using AfXdp.Testing;
using AfXdp.Udp;
using AfXdp.Xsk;

namespace AfXdp.KernelTests.Udp;

/// <summary>The UDP service against kernel sockets in a lab: replies in place, checks, sends, queues, allocation, metrics, frames past the MTU, a throwing handler.</summary>
public sealed partial class UdpServiceTests
{
    const int Port = 7007;

    public UdpServiceTests() => KernelTest.RequireRoot();

    /// <summary>Prefixes "ok:" to each payload and records what it saw; optionally sends on its own from Idle.</summary>
    sealed class Prefixer : IUdpHandler
    {
        public UdpEndpoint LastRemote, LastLocal;
        public long Handled, AllocatedBefore = -1, AllocatedAfter = -1;
        public Action<UdpSender>? OnIdle;

        public void Handle(UdpBatch batch)
        {
            foreach (Datagram d in batch)
            {
                (LastRemote, LastLocal) = (d.Remote, d.Local);
                int length = d.Payload.Length;
                d.Payload.CopyTo(d.ReplyPayload[3..]);
                "ok:"u8.CopyTo(d.ReplyPayload);
                d.Reply(length + 3);
                // Allocation over datagrams 1,000 to 11,000, on the worker thread: engine loop, checks, handler.
                if (++Handled == 1_000)
                    AllocatedBefore = GC.GetAllocatedBytesForCurrentThread();
                else if (Handled == 11_000)
                    AllocatedAfter = GC.GetAllocatedBytesForCurrentThread();
            }
        }

        public void Idle(UdpSender sender)
        {
            OnIdle?.Invoke(sender);
            OnIdle = null;
        }
    }

    /// <summary>Echoes each payload as it is, or, for the payloads named here, throws (after replying, for "reply-then-throw").</summary>
    sealed class Thrower : IUdpHandler
    {
        public bool ThrowInIdle;

        public void Handle(UdpBatch batch)
        {
            foreach (Datagram d in batch)
            {
                string text = Encoding.ASCII.GetString(d.Payload);
                if (text == "throw-invalid")
                    throw new InvalidOperationException("told to");
                if (text == "throw-argument")
                    throw new ArgumentException("told to");
                d.Payload.CopyTo(d.ReplyPayload);
                d.Reply(d.Payload.Length);
                if (text == "reply-then-throw")
                    throw new InvalidOperationException("after the reply");
            }
        }

        public void Idle(UdpSender sender)
        {
            if (!ThrowInIdle)
                return;
            ThrowInIdle = false;
            throw new NotSupportedException("told to, in Idle");
        }
    }

    static UdpService Serve(VethLab lab, params int[] ports) => Serve(lab, null, ports);

    static UdpService Serve(VethLab lab, Action<UdpServiceReport>? log, params int[] ports) => lab.Run(VethSide.B, () => new UdpService(new UdpServiceOptions
    {
        Interface = lab.InterfaceB,
        Endpoints = [.. ports.Select(p => new IPEndPoint(lab.AddressB, p))],
        SpinTime = TimeSpan.Zero,
        Log = log,
    }));

    static void SetMtu(VethLab lab, VethSide side, int mtu)
    {
        CommandResult set = lab.Exec(side, "ip", "link", "set", "dev", lab.InterfaceOf(side), "mtu", mtu.ToString());
        Assert.True(set.Succeeded, $"{set.CommandLine}: {set.Error}");
    }

    /// <summary>No queue failed and Run has not returned (it returns within 100 ms of a queue's failure).</summary>
    static void AssertServing(UdpService service, Task running)
    {
        Assert.All(service.Engine.Queues, q => Assert.Null(q.Fault));
        Assert.False(running.IsCompleted, $"Run returned: {running.Exception?.InnerException?.Message}");
    }

    static Socket Client(VethLab lab, int port = 0) => lab.Run(VethSide.A, () =>
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 5000 };
        socket.Bind(new IPEndPoint(lab.AddressA, port));
        return socket;
    });

    static string Exchange(Socket client, IPEndPoint to, string text)
    {
        client.SendTo(Encoding.ASCII.GetBytes(text), to);
        var buffer = new byte[2048];
        int n = client.Receive(buffer);
        return Encoding.ASCII.GetString(buffer, 0, n);
    }

    static void RunWhile(UdpService service, IUdpHandler handler, Action body, bool async = false) => RunWhile(service, handler, _ => body(), async);

    /// <summary>Runs <paramref name="body"/> while the service serves; the body gets the running Run (or RunAsync).</summary>
    static void RunWhile(UdpService service, IUdpHandler handler, Action<Task> body, bool async = false)
    {
        using var stop = new CancellationTokenSource();
        Task running = async ? service.RunAsync(handler, stop.Token) : Task.Run(() => service.Run(handler, stop.Token));
        try
        {
            body(running);
        }
        finally
        {
            stop.Cancel();
            Assert.True(running.Wait(TimeSpan.FromSeconds(10)), "the service did not stop within 10 s of its cancellation");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_datagram_is_answered_in_place_with_a_longer_reply_from_the_served_endpoint(bool async)
    {
        using VethLab lab = VethLab.Create();
        using var service = Serve(lab, Port, Port + 1);
        var handler = new Prefixer();
        using Socket client = Client(lab, 40001);
        RunWhile(service, handler, () =>
        {
            Assert.Equal("ok:hello", Exchange(client, new IPEndPoint(lab.AddressB, Port), "hello"));
            Assert.Equal($"{lab.AddressA}:40001", handler.LastRemote.ToString());
            Assert.Equal($"{lab.AddressB}:{Port}", handler.LastLocal.ToString());
            string big = new('x', 1400);
            Assert.Equal("ok:" + big, Exchange(client, new IPEndPoint(lab.AddressB, Port + 1), big));
            Assert.Equal($"{lab.AddressB}:{Port + 1}", handler.LastLocal.ToString());
        }, async);
        UdpServiceCounters counters = service.ReadCounters();
        Assert.Equal(2, counters.Received);
        Assert.Equal(2, counters.Sent);
    }

    [Fact]
    public void Bad_checksums_and_reflector_ports_are_counted_and_dropped_and_other_traffic_reaches_the_kernel()
    {
        using VethLab lab = VethLab.Create();
        using var service = Serve(lab, Port);
        var handler = new Prefixer();
        using Socket client = Client(lab);
        using Socket raw = lab.Run(VethSide.A, () => new Socket(AddressFamily.InterNetwork, SocketType.Raw, ProtocolType.Udp));
        using Socket echoPort = Client(lab, 7);
        RunWhile(service, handler, () =>
        {
            byte[] datagram = DamagedDatagram.WrongChecksum(lab.AddressA, 40002, lab.AddressB, Port, "ping"u8);
            for (int i = 0; i < 5; i++)
                raw.SendTo(datagram, new IPEndPoint(lab.AddressB, 0));
            // From the echo port: a reply could start a loop with an echo service.
            echoPort.SendTo("loop?"u8.ToArray(), new IPEndPoint(lab.AddressB, Port));
            Assert.Equal("ok:fine", Exchange(client, new IPEndPoint(lab.AddressB, Port), "fine"));
            Assert.True(KernelTest.Eventually(() => service.ReadCounters() is { BadChecksums: 5, Unanswerable: 1 }, TimeSpan.FromSeconds(5)), service.ReadCounters().ToString());
            echoPort.ReceiveTimeout = 500;
            Assert.Throws<SocketException>(() => echoPort.Receive(new byte[64]));
            // Ping still reaches the kernel, through the steering program's pass verdict.
            ulong passedBefore = service.ReadPassedToKernel();
            Assert.True(lab.Exec(VethSide.A, "ping", "-c", "2", "-i", "0.2", "-W", "2", lab.AddressB.ToString()).Succeeded);
            Assert.True(service.ReadPassedToKernel() >= passedBefore + 2);
        });
        Assert.Equal(1, service.ReadCounters().Received);
    }

    /// <summary>
    /// Someone else's program fills the XSKMAP the service registers in, and redirects every UDP datagram: one to the
    /// served address on another port reaches the service, which counts it unanswerable and neither answers nor hands it over.
    /// </summary>
    [Fact]
    public void With_a_foreign_xskmap_a_datagram_to_another_port_is_unanswerable()
    {
        using VethLab lab = VethLab.Create();
        using XskRedirectProgram foreign = lab.Run(VethSide.B, () => XskRedirectProgram.Attach(lab.InterfaceB, filter: PacketFilter.Parse("udp")));
        using var service = lab.Run(VethSide.B, () => new UdpService(new UdpServiceOptions
        {
            Interface = lab.InterfaceB,
            Endpoints = [new IPEndPoint(lab.AddressB, Port)],
            SpinTime = TimeSpan.Zero,
            XskMap = foreign.XskMap,
        }));
        var handler = new Prefixer();
        using Socket client = Client(lab);
        RunWhile(service, handler, () =>
        {
            client.SendTo("other"u8.ToArray(), new IPEndPoint(lab.AddressB, Port + 1));
            Assert.True(KernelTest.Eventually(() => service.ReadCounters().Unanswerable == 1, TimeSpan.FromSeconds(5)), service.ReadCounters().ToString());
            Assert.Equal("ok:served", Exchange(client, new IPEndPoint(lab.AddressB, Port), "served"));
            // The served datagram's answer is the only one: nothing came back for the other port.
            client.ReceiveTimeout = 500;
            Assert.Throws<SocketException>(() => client.Receive(new byte[64]));
        });
        Assert.Equal(new UdpServiceCounters { Received = 1, Sent = 1, Unanswerable = 1 }.ToString(), service.ReadCounters().ToString());
    }

    [Fact]
    public async Task RunAsync_serves_a_lambda_handler_as_the_readme_shows()
    {
        using VethLab lab = VethLab.Create();
        using var service = Serve(lab, Port);
        using var stop = new CancellationTokenSource();
        Task running = service.RunAsync(batch =>
        {
            foreach (Datagram d in batch)
            {
                d.Payload.CopyTo(d.ReplyPayload);
                d.Reply(d.Payload.Length);
            }
        }, stop.Token);
        using Socket client = Client(lab);
        Assert.Equal("lambda", Exchange(client, new IPEndPoint(lab.AddressB, Port), "lambda"));
        stop.Cancel();
        await running.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
    }

    [Fact]
    public void Zero_bytes_are_allocated_per_datagram_in_steady_state()
    {
        using VethLab lab = VethLab.Create();
        using var service = Serve(lab, Port);
        var handler = new Prefixer();
        RunWhile(service, handler, () =>
        {
            using Socket client = Client(lab);
            client.ReceiveTimeout = 2000;
            var buffer = new byte[64];
            var to = new IPEndPoint(lab.AddressB, Port);
            for (int i = 0; i < 12_000 && handler.AllocatedAfter < 0; i++)
            {
                client.SendTo("0123456789"u8.ToArray(), to);
                client.Receive(buffer);
            }
        });
        Assert.True(handler.AllocatedAfter >= 0, $"only {handler.Handled} datagrams were handled");
        Assert.Equal(0, handler.AllocatedAfter - handler.AllocatedBefore);
    }

    /// <summary>
    /// A veth takes frames up to its MTU + 18 (is_skb_forwardable), as many NICs take 1518 to 1522 bytes at MTU 1500:
    /// the client's end gets the larger MTU, so its kernel sends the datagram in one frame of that length.
    /// </summary>
    [Theory]
    [InlineData(1518, 1504, 1500)]
    [InlineData(1522, 1508, 1504)]
    public void A_datagram_in_a_frame_longer_than_the_mtu_allows_is_echoed_whole_and_the_service_goes_on(int frameLength, int clientMtu, int serviceMtu)
    {
        using VethLab lab = VethLab.Create();
        SetMtu(lab, VethSide.A, clientMtu);
        SetMtu(lab, VethSide.B, serviceMtu);
        var log = new List<string>();
        using var service = Serve(lab, report => { lock (log) log.Add(report.Message); }, Port);
        using Socket client = Client(lab);
        var to = new IPEndPoint(lab.AddressB, Port);
        RunWhile(service, new Thrower(), running =>
        {
            byte[] query = [.. Enumerable.Range(0, frameLength - UdpFrame.HeadersLength).Select(i => (byte)(i * 7))];
            client.SendTo(query, to);
            var buffer = new byte[2048];
            int n = client.Receive(buffer);
            Assert.Equal(query, buffer[..n]);
            // The frame that came in and the reply that went out, as the service's socket counted them.
            Assert.Equal(frameLength, service.Engine.Queues.Sum(q => q.Counters.RxBytes));
            Assert.True(KernelTest.Eventually(() => service.Engine.Queues.Sum(q => q.Counters.TxBytes) == frameLength, TimeSpan.FromSeconds(2)),
                $"{service.Engine.Queues.Sum(q => q.Counters.TxBytes)} bytes sent");
            Assert.Equal("after", Exchange(client, to, "after"));
            AssertServing(service, running);
        });
        Assert.Equal((2, 2, 0), (service.ReadCounters().Received, service.ReadCounters().Sent, service.ReadCounters().HandlerErrors));
        Assert.Empty(log);
    }

    [Fact]
    public void A_handler_that_throws_costs_its_batch_is_counted_and_told_once_per_type_and_the_service_goes_on()
    {
        using VethLab lab = VethLab.Create();
        var log = new List<string>();
        using var service = Serve(lab, report => { lock (log) log.Add(report.Message); }, Port);
        using Socket client = Client(lab);
        var to = new IPEndPoint(lab.AddressB, Port);
        var handler = new Thrower { ThrowInIdle = true };
        RunWhile(service, handler, running =>
        {
            // Idle throws first, at the worker's first sleep. Each datagram that throws is followed, once counted (so in a
            // batch of its own), by one that must be answered; a reply to the thrown one would come first and fail the match.
            Assert.True(KernelTest.Eventually(() => service.ReadCounters().HandlerErrors == 1, TimeSpan.FromSeconds(2)), service.ReadCounters().ToString());
            long errors = 1;
            foreach (string thrown in new[] { "throw-invalid", "throw-invalid", "throw-argument" })
            {
                client.SendTo(Encoding.ASCII.GetBytes(thrown), to);
                errors++;
                Assert.True(KernelTest.Eventually(() => service.ReadCounters().HandlerErrors == errors, TimeSpan.FromSeconds(2)), service.ReadCounters().ToString());
                Assert.Equal("fine", Exchange(client, to, "fine"));
            }
            // A reply made before the exception goes out.
            Assert.Equal("reply-then-throw", Exchange(client, to, "reply-then-throw"));
            Assert.Equal("fine", Exchange(client, to, "fine"));
            Assert.True(KernelTest.Eventually(() => service.ReadCounters().HandlerErrors == 5, TimeSpan.FromSeconds(2)), service.ReadCounters().ToString());
            AssertServing(service, running);
        });
        UdpServiceCounters counters = service.ReadCounters();
        Assert.Equal((8, 5, 5), (counters.Received, counters.Sent, counters.HandlerErrors));
        Assert.Equal(5, ReadMeter(lab.InterfaceB)["afxdp.udp.handler_errors"]);
        string queue = $"{service} queue 0: the handler's ";
        Assert.Collection(log.Order(),
            line => Assert.StartsWith(queue + "Handle threw; its batch's unanswered datagrams were dropped and the queue goes on; only the first ArgumentException is told", line),
            line => Assert.StartsWith(queue + "Handle threw; its batch's unanswered datagrams were dropped and the queue goes on; only the first InvalidOperationException is told", line),
            line => Assert.StartsWith(queue + "Idle threw; the queue goes on; only the first NotSupportedException is told", line));
    }

    [Fact]
    public void The_sender_reaches_any_endpoint_on_the_link_and_an_unresolved_one_is_a_typed_error()
    {
        using VethLab lab = VethLab.Create();
        using var service = Serve(lab, Port);
        using Socket client = Client(lab, 40003);
        var nobody = new UdpEndpoint(Ipv4Address.ToUInt32(lab.AddressA) + 70, 40003);
        UdpSendResult? toClient = null, toNobody = null;
        NeighbourUnresolvedException? unresolved = null;
        var handler = new Prefixer
        {
            OnIdle = sender =>
            {
                toClient = sender.TrySend(new UdpEndpoint(Ipv4Address.ToUInt32(lab.AddressA), 40003), "news"u8, sender.Source);
                toNobody = sender.TrySend(nobody, "news"u8, sender.Source);
                try
                {
                    sender.Send(nobody, "news"u8);
                }
                catch (NeighbourUnresolvedException e)
                {
                    unresolved = e;
                }
            },
        };
        RunWhile(service, handler, () =>
        {
            var buffer = new byte[64];
            EndPoint from = new IPEndPoint(IPAddress.Any, 0);
            int n = client.ReceiveFrom(buffer, ref from);
            Assert.Equal("news", Encoding.ASCII.GetString(buffer, 0, n));
            Assert.Equal(new IPEndPoint(lab.AddressB, Port), from);
        });
        Assert.Equal(UdpSendResult.Sent, toClient);
        Assert.Equal(UdpSendResult.Unresolved, toNobody);
        Assert.NotNull(unresolved);
        Assert.Equal(Ipv6Address.ToIPAddress(nobody.Address), unresolved.Address);
    }

    [Fact]
    public void Every_active_queue_of_a_multi_queue_veth_serves()
    {
        using VethLab lab = VethLab.Create(new VethLabOptions { RxQueues = 2, TxQueues = 2 });
        using var service = Serve(lab, Port);
        Assert.Equal(2, service.Engine.Queues.Count);
        var handler = new Prefixer();
        RunWhile(service, handler, () =>
        {
            // Each client socket is a flow; veth puts a flow on the receive queue its sender's transmit queue hashed it to.
            for (int i = 0; i < 64 && service.QueueCounters.Any(c => c.Received == 0); i++)
            {
                using Socket client = Client(lab);
                Assert.Equal("ok:" + i, Exchange(client, new IPEndPoint(lab.AddressB, Port), i.ToString()));
            }
        });
        Assert.All(service.QueueCounters, c => Assert.True(c.Received > 0, string.Join(" ", service.QueueCounters)));
    }

    [Fact]
    public void The_counters_are_in_the_AfXdp_meter()
    {
        using VethLab lab = VethLab.Create();
        using var service = Serve(lab, Port);
        var handler = new Prefixer();
        using Socket client = Client(lab);
        RunWhile(service, handler, () =>
        {
            for (int i = 0; i < 3; i++)
                Exchange(client, new IPEndPoint(lab.AddressB, Port), "m");
        });
        Dictionary<string, long> seen = ReadMeter(lab.InterfaceB);
        Assert.Equal(3, seen["afxdp.udp.datagrams.received"]);
        Assert.Equal(3, seen["afxdp.udp.datagrams.sent"]);
        Assert.Equal(0, seen["afxdp.udp.checksum_errors"]);
        Assert.Equal(0, seen["afxdp.udp.handler_errors"]);
        Assert.True(seen.ContainsKey("afxdp.udp.passed_to_kernel"));
    }

    /// <summary>The AfXdp meter's afxdp.udp.* instruments for one interface, summed over its queues.</summary>
    static Dictionary<string, long> ReadMeter(string interfaceName)
    {
        var seen = new Dictionary<string, long>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "AfXdp" && instrument.Name.StartsWith("afxdp.udp.", StringComparison.Ordinal))
                    l.EnableMeasurementEvents(instrument);
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            foreach (KeyValuePair<string, object?> tag in tags)
                if (tag.Key == "network.interface.name" && (string?)tag.Value == interfaceName)
                    seen[instrument.Name] = seen.GetValueOrDefault(instrument.Name) + value;
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return seen;
    }

    [Fact]
    public void An_address_the_interface_does_not_have_is_refused_with_the_fix()
    {
        using VethLab lab = VethLab.Create();
        var e = Assert.Throws<AfXdpException>(() => lab.Run(VethSide.B, () => new UdpService(new UdpServiceOptions
        {
            Interface = lab.InterfaceB,
            Endpoints = [new IPEndPoint(IPAddress.Parse("192.0.2.99"), 53)],
        })));
        Assert.Contains($"192.0.2.99 is not an address of {lab.InterfaceB}", e.Cause);
        Assert.Contains($"ip addr add 192.0.2.99/24 dev {lab.InterfaceB}", e.Fix);
        Assert.False(lab.Status(VethSide.B).Xdp.Any);
    }

}
