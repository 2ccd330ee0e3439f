using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AfXdp.Device;
using AfXdp.Engine;
using AfXdp.Testing;
using AfXdp.Xsk;

namespace AfXdp.KernelTests.Engine;

/// <summary>The multi-queue engine on a 4-queue veth pair, fed by many UDP flows from the peer's kernel.</summary>
public sealed class EngineTests
{
    const int Port = 7100;
    static readonly VethLabOptions FourQueues = new() { RxQueues = 4, TxQueues = 4 };

    public EngineTests() => KernelTest.RequireRoot();

    [Theory]
    [InlineData(UmemLayout.Shared)]
    [InlineData(UmemLayout.PerQueue)]
    public void Every_queue_receives_its_flows_and_echoes_them_back_on_pinned_workers(UmemLayout layout)
    {
        using VethLab lab = VethLab.Create(FourQueues);
        int[] cores = [1, 0, 1, 0];
        using XdpEngine engine = lab.Run(VethSide.B, () => new XdpEngine(Options(lab) with { Umem = layout, Cores = cores }));
        var affinity = new ConcurrentDictionary<int, List<int>>();
        engine.Start(queue => new RecordingReflector(affinity));

        (int sent, int[] echoed) = SendFlowsAndCollectEchoes(lab, flows: 64, perFlow: 20);

        Assert.Equal(sent, engine.Queues.Sum(q => q.Counters.RxPackets));
        Assert.All(engine.Queues, q => Assert.True(q.Counters.RxPackets > 0, $"{q} received nothing: the flows did not spread"));
        Assert.True(KernelTest.Eventually(() => engine.Queues.Sum(q => q.Counters.TxPackets) == sent, TimeSpan.FromSeconds(2)),
            $"sent {sent}, completed {engine.Queues.Sum(q => q.Counters.TxPackets)}, tx {engine.Queues.Sum(q => q.Counters.TxBytes)} bytes, {engine.Queues.Sum(q => q.Counters.TxDropped)} dropped, {engine.Queues.Sum(q => q.Counters.Wakeups)} wakeups");
        Assert.All(echoed, count => Assert.Equal(20, count));
        Assert.True(KernelTest.Eventually(() => engine.Queues.Sum(q => q.Counters.TxPackets) == sent, TimeSpan.FromSeconds(2)));
        Assert.All(engine.Queues, q => Assert.Equal(q.Counters.RxPackets, q.Counters.TxPackets));
        Assert.All(engine.Queues, q => Assert.Equal([cores[q.Index]], affinity[q.Index]));
        engine.Stop();
    }

    [Theory]
    [InlineData(UmemLayout.Shared)]
    [InlineData(UmemLayout.PerQueue)]
    public void Forwarded_packets_leave_through_the_next_queue(UmemLayout layout)
    {
        using VethLab lab = VethLab.Create(FourQueues);
        using XdpEngine engine = lab.Run(VethSide.B, () => new XdpEngine(Options(lab) with { Umem = layout }));
        engine.Start(queue => new ForwardToNext());

        (int sent, int[] echoed) = SendFlowsAndCollectEchoes(lab, flows: 64, perFlow: 20);

        Assert.All(echoed, count => Assert.Equal(20, count));
        IReadOnlyList<XdpQueue> queues = engine.Queues;
        Assert.True(KernelTest.Eventually(() => queues.Sum(q => q.Counters.TxPackets) == sent, TimeSpan.FromSeconds(2)));
        Assert.All(queues, q => Assert.Equal(queues[(q.Index + 3) % 4].Counters.RxPackets, q.Counters.TxPackets));
        Assert.All(queues, q => Assert.Equal(0, q.Counters.TxDropped));
        engine.Stop();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Held_packets_are_sent_later_from_the_next_batch_or_when_the_queue_idles(bool neverSleeps)
    {
        using VethLab lab = VethLab.Create();
        TimeSpan spin = neverSleeps ? Timeout.InfiniteTimeSpan : TimeSpan.FromMicroseconds(50);
        using XdpEngine engine = lab.Run(VethSide.B, () => new XdpEngine(Options(lab) with { SpinTime = spin }));
        engine.Start(queue => new HoldThenSend());

        (int sent, int[] echoed) = SendFlowsAndCollectEchoes(lab, flows: 32, perFlow: 10);

        Assert.All(echoed, count => Assert.Equal(10, count));
        Assert.Equal(sent, engine.Queues.Sum(q => q.Counters.RxPackets));
        engine.Stop();
    }

    /// <summary>
    /// A worker that sleeps at once and coalesces 10 ms (the most it may): 8 datagrams sent back to back wake it
    /// with the first, and it takes them in one batch after its wait, so the first answer comes no sooner
    /// than 10 ms after it was sent (event-based: only a 10 ms stall between two sends could split the batch).
    /// </summary>
    [Fact]
    public void A_coalescing_worker_takes_what_arrives_during_its_wait_in_one_batch()
    {
        using VethLab lab = VethLab.Create();
        var batches = new ConcurrentQueue<int>();
        using XdpEngine engine = lab.Run(VethSide.B, () => new XdpEngine(Options(lab) with { SpinTime = TimeSpan.Zero, Coalesce = TimeSpan.FromMilliseconds(10) }));
        engine.Start(_ => new BatchRecordingReflector(batches));
        UseFullChecksums(lab);

        TimeSpan firstAnswer = lab.Run(VethSide.A, () =>
        {
            using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 5000 };
            udp.Bind(new IPEndPoint(lab.AddressA, 0));
            var destination = new IPEndPoint(lab.AddressB, Port);
            byte[] buffer = new byte[2048];
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < 8; i++)
                udp.SendTo(new byte[32], destination);
            udp.Receive(buffer);
            TimeSpan first = Stopwatch.GetElapsedTime(start);
            for (int i = 0; i < 7; i++)
                udp.Receive(buffer);
            return first;
        });
        engine.Stop();

        Assert.Equal([8], batches.ToArray());
        Assert.True(firstAnswer >= TimeSpan.FromMilliseconds(9.5) && firstAnswer < TimeSpan.FromSeconds(3), $"the first answer came after {firstAnswer.TotalMilliseconds:F1} ms");
    }

    [Fact]
    public async Task The_worker_loop_allocates_nothing()
    {
        using VethLab lab = VethLab.Create();
        using XdpEngine engine = lab.Run(VethSide.B, () => new XdpEngine(Options(lab)));
        var measuring = new AllocationProbe(warmUp: 2_000, measured: 50_000);
        engine.Start(_ => measuring);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        Task sender = lab.RunAsync(VethSide.A, () =>
        {
            using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            var destination = new IPEndPoint(lab.AddressB, Port);
            byte[] payload = new byte[32];
            while (!stop.IsCancellationRequested && !measuring.Done.IsSet)
                udp.SendTo(payload, destination);
        });
        Assert.True(measuring.Done.Wait(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken), "fewer than 52,000 packets arrived in 20 s");
        stop.Cancel();
        await sender;
        engine.Stop();
        Assert.Equal(0, measuring.Allocated);
    }

    [Fact]
    public void A_queue_the_interface_lacks_is_named()
    {
        using VethLab lab = VethLab.Create();
        var e = Assert.Throws<AfXdpException>(() => lab.Run(VethSide.B, () => new XdpEngine(Options(lab) with { Queues = [0, 3] })));
        Assert.Contains($"queue 3 is not in use: {lab.InterfaceB} has 1 active queue (0)", e.Message);
    }

    internal static XdpEngineOptions Options(VethLab lab) => new()
    {
        Interface = lab.InterfaceB,
        AttachMode = XdpAttachMode.Drv,
        RingSize = 512,
        FramesPerQueue = 1024,
    };

    /// <summary>
    /// From A's kernel: <paramref name="flows"/> UDP sockets (own source ports, so A's kernel hashes them
    /// over its TX queues, and veth delivers each on B's RX queue of the same index) send
    /// <paramref name="perFlow"/> datagrams each to B; then every socket reads its echoes.
    /// </summary>
    internal static (int Sent, int[] Echoed) SendFlowsAndCollectEchoes(VethLab lab, int flows, int perFlow)
    {
        UseFullChecksums(lab);
        return lab.Run(VethSide.A, () => SendAndCollect(lab, flows, perFlow));
    }

    /// <summary>
    /// veth offloads TX checksums: A's kernel leaves only the pseudo-header sum in the UDP checksum field
    /// (CHECKSUM_PARTIAL) and the frame crosses the pair so. A reflected frame would then come back with a
    /// wrong checksum and A's UDP would drop it; a NIC's receive path never sees such frames.
    /// </summary>
    internal static void UseFullChecksums(VethLab lab)
    {
        CommandResult result = lab.Exec(VethSide.A, "ethtool", "-K", lab.InterfaceA, "tx", "off");
        Assert.True(result.Succeeded, result.Error);
    }

    static (int Sent, int[] Echoed) SendAndCollect(VethLab lab, int flows, int perFlow)
    {
        var sockets = Enumerable.Range(0, flows).Select(_ =>
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            s.Bind(new IPEndPoint(lab.AddressA, 0));
            return s;
        }).ToList();
        try
        {
            var destination = new IPEndPoint(lab.AddressB, Port);
            for (int i = 0; i < perFlow; i++)
                foreach (Socket s in sockets)
                    s.SendTo(System.Text.Encoding.ASCII.GetBytes($"flow {s.LocalEndPoint} #{i}"), destination);
            var echoed = new int[flows];
            byte[] buffer = new byte[2048];
            long deadline = Environment.TickCount64 + 5000;
            for (int f = 0; f < flows; f++)
            {
                try
                {
                    while (echoed[f] < perFlow)
                    {
                        sockets[f].ReceiveTimeout = (int)Math.Max(1, deadline - Environment.TickCount64);
                        EndPoint from = new IPEndPoint(IPAddress.Any, 0);
                        int n = sockets[f].ReceiveFrom(buffer, ref from);
                        Assert.Equal(new IPEndPoint(lab.AddressB, Port), from);
                        Assert.StartsWith($"flow {sockets[f].LocalEndPoint} #", System.Text.Encoding.ASCII.GetString(buffer, 0, n));
                        echoed[f]++;
                    }
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
                {
                }
            }
            return (flows * perFlow, echoed);
        }
        finally
        {
            sockets.ForEach(s => s.Dispose());
        }
    }

    sealed class RecordingReflector(ConcurrentDictionary<int, List<int>> affinity) : IPacketHandler
    {
        readonly PacketReflector _reflector = new();

        public void Handle(XdpQueue queue, Span<Packet> packets)
        {
            affinity.TryAdd(queue.Index, AfXdp.Interop.Affinity.CurrentThreadCpus());
            _reflector.Handle(queue, packets);
        }
    }

    sealed class BatchRecordingReflector(ConcurrentQueue<int> batches) : IPacketHandler
    {
        readonly PacketReflector _reflector = new();

        /// <summary>Records how many UDP datagrams to <see cref="Port"/> each batch holds (other frames may share it).</summary>
        public void Handle(XdpQueue queue, Span<Packet> packets)
        {
            int datagrams = 0;
            foreach (ref Packet p in packets)
            {
                ReadOnlySpan<byte> f = p.Data;
                if (f.Length >= 42 && f[12] == 0x08 && f[13] == 0x00 && f[23] == 17
                    && System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(f[(14 + (f[14] & 0xF) * 4 + 2)..]) == Port)
                    datagrams++;
            }
            if (datagrams != 0)
                batches.Enqueue(datagrams);
            _reflector.Handle(queue, packets);
        }
    }

    sealed class ForwardToNext : IPacketHandler
    {
        public void Handle(XdpQueue queue, Span<Packet> packets)
        {
            XdpQueue next = queue.Engine.Queues[(queue.Index + 1) % queue.Engine.Queues.Count];
            foreach (ref Packet p in packets)
            {
                PacketReflector.Reflect(p.Data);
                p.Forward(next);
            }
        }
    }

    /// <summary>Holds each batch and sends it when the next batch comes, or when the queue idles.</summary>
    sealed class HoldThenSend : IPacketHandler
    {
        readonly List<Packet> _held = [];

        public void Handle(XdpQueue queue, Span<Packet> packets)
        {
            Flush(queue);
            foreach (ref Packet p in packets)
            {
                PacketReflector.Reflect(p.Data);
                p.Hold();
                _held.Add(p);
            }
        }

        public void Idle(XdpQueue queue) => Flush(queue);

        void Flush(XdpQueue queue)
        {
            foreach (Packet p in _held)
                Assert.True(queue.Transmit(p));
            _held.Clear();
        }
    }

    /// <summary>Drops everything and measures what the worker thread allocated between two packet counts.</summary>
    sealed class AllocationProbe(long warmUp, long measured) : IPacketHandler
    {
        long _seen;
        long _before;

        public ManualResetEventSlim Done { get; } = new();

        public long Allocated { get; private set; } = -1;

        public void Handle(XdpQueue queue, Span<Packet> packets)
        {
            long seen = _seen;
            _seen += packets.Length;
            if (seen < warmUp && _seen >= warmUp)
                _before = GC.GetAllocatedBytesForCurrentThread();
            else if (seen < warmUp + measured && _seen >= warmUp + measured)
            {
                Allocated = GC.GetAllocatedBytesForCurrentThread() - _before;
                Done.Set();
            }
        }
    }
}
