using System.Buffers.Binary;
using System.Diagnostics;
using System.Text.Json;
using AfXdp.Bpf;
using AfXdp.Device;
using AfXdp.Testing;
using AfXdp.Net;
using AfXdp.Xsk;

namespace AfXdp.KernelTests.Reliability;

/// <summary>
/// Frames through l2fwd, every one accounted for: end A sends numbered frames from its AF_XDP socket, end B
/// swaps the MACs and sends each back (the bench's l2fwd loop), A receives them. Both ends route every ring
/// verb through a <see cref="FrameLedger"/>, which throws at the first frame submitted twice or reused before
/// its completion. At the end: sent = received + the drops the kernel counted, the sequence numbers came back
/// in order, and every frame is back with its FILL ring or the application.
/// 10^6 frames in CI; AFXDP_SOAK_FRAMES=10000000 for the long run.
/// </summary>
public sealed class SoakTests
{
    const int FrameLength = 64;
    const int SequenceOffset = 16;
    const uint Half = 2048;
    const uint Batch = 64;

    static long FrameCount => long.TryParse(Environment.GetEnvironmentVariable("AFXDP_SOAK_FRAMES"), out long n) && n > 0 ? n : 1_000_000;

    /// <summary>One end: a UMEM of 2 x 2048 frames (the lower half for FILL, the upper half for TX), a socket, the redirect program and a ledger.</summary>
    sealed class End : IDisposable
    {
        public End(string interfaceName)
        {
            Umem = new Umem(new UmemOptions { FrameCount = 2 * Half, FillRingSize = Half, CompletionRingSize = Half });
            Socket = new RxTxSocket(Umem, interfaceName, 0, new XskSocketOptions { RxRingSize = Half, TxRingSize = Half, BindMode = XdpBindMode.Copy });
            Program = XskRedirectProgram.Attach(interfaceName, XdpAttachMode.Drv);
            Program.Register(Socket);
            Ledger = new FrameLedger(Umem.Options);
            Ledger.Watch(Socket);
            FillRing fill = Socket.Fill;
            fill.Reserve(Half, out uint index);
            for (uint i = 0; i < Half; i++)
                fill[index + i] = Umem.FrameAddress(i);
            Ledger.SubmitFill(fill, index, Half);
        }

        public Umem Umem { get; }
        public RxTxSocket Socket { get; }
        public XskRedirectProgram Program { get; }
        public FrameLedger Ledger { get; }

        /// <summary>Gives <paramref name="count"/> addresses back to the FILL ring, waiting for room (the kernel frees FILL slots just after it fills RX ones).</summary>
        public void Refill(ReadOnlySpan<ulong> addresses)
        {
            FillRing fill = Socket.Fill;
            uint count = (uint)addresses.Length, index;
            while (fill.Reserve(count, out index) != count)
            {
                if (fill.NeedsWakeup)
                    Socket.WakeupRx();
            }
            for (uint i = 0; i < count; i++)
                fill[index + i] = addresses[(int)i];
            Ledger.SubmitFill(fill, index, count);
        }

        public void Kick()
        {
            if (Socket.Tx.NeedsWakeup && Socket.Tx.Pending != 0)
                Socket.WakeupTx();
        }

        public void Dispose()
        {
            Program.Dispose();
            Socket.Dispose();
            Umem.Dispose();
        }
    }

    sealed record Generated(long Sent, long Received, long OutOfOrder, long Corrupt, double Seconds);

    [Fact]
    public async Task Frames_through_l2fwd_are_all_sent_received_or_counted_as_dropped()
    {
        KernelTest.RequireRoot();
        long frames = FrameCount;
        using VethLab lab = VethLab.Create();
        using End a = lab.Run(VethSide.A, () => new End(lab.InterfaceA));
        using End b = lab.Run(VethSide.B, () => new End(lab.InterfaceB));
        (string Name, long Value)[] vethBefore = [.. VethCounters(lab, VethSide.A), .. VethCounters(lab, VethSide.B)];

        var stop = new CancellationTokenSource();
        Task<long> forwarding = Task.Factory.StartNew(() => Forward(b, stop.Token), TaskCreationOptions.LongRunning);
        Generated generated;
        try
        {
            generated = await Task.Factory.StartNew(() => Generate(a, frames, MacAddress.Parse(lab.MacA), MacAddress.Parse(lab.MacB)), TaskCreationOptions.LongRunning);
        }
        finally
        {
            stop.Cancel();
        }
        long forwarded = await forwarding;

        XdpStatistics sa = a.Socket.Statistics, sb = b.Socket.Statistics;
        (string Name, long Delta)[] veth = [.. VethCounters(lab, VethSide.A).Concat(VethCounters(lab, VethSide.B))
            .Zip(vethBefore, (now, before) => (now.Name, now.Value - before.Value)).Where(c => c.Item2 != 0)];
        long xskDrops = (long)(sa.RxDropped + sa.RxRingFull + sb.RxDropped + sb.RxRingFull);
        // veth drops a frame on transmit when the peer's ring is full (tx_dropped); a frame its XDP program could
        // not hand to the socket is the XSK's drop, which veth counts again on its receive queue.
        long Veth(string name) => veth.Where(c => c.Name == name).Sum(c => c.Delta);
        long vethDrops = Veth("A.tx_dropped") + Veth("B.tx_dropped");
        string figures = $"soak: {frames} frames in {generated.Seconds:0.0} s (A sent {frames / generated.Seconds:0} pps): " +
            $"received {generated.Received}, forwarded {forwarded}, XSK drops {xskDrops} (A {sa}, B {sb}), veth [{string.Join(", ", veth.Select(c => $"{c.Name}={c.Delta}"))}]";
        TestContext.Current.TestOutputHelper?.WriteLine(figures);
        Console.Error.WriteLine(figures);

        Assert.Equal(frames, generated.Sent);
        Assert.Equal(0, generated.OutOfOrder);
        Assert.Equal(0, generated.Corrupt);
        Assert.True(frames == generated.Received + xskDrops + vethDrops, figures);
        Assert.Equal((long)(sa.RxDropped + sa.RxRingFull), Veth("A.rx_queue_0_drops"));
        Assert.Equal((long)(sb.RxDropped + sb.RxRingFull), Veth("B.rx_queue_0_drops"));
        Assert.Equal(0UL, sa.TxInvalidDescriptors + sb.TxInvalidDescriptors + sa.RxInvalidDescriptors + sb.RxInvalidDescriptors);

        foreach (End end in (End[])[a, b])
        {
            FrameCensus census = end.Ledger.Census();
            Assert.True(census is { Held: 0, Tx: 0, Completion: 0, Free: Half } && census.Fill + census.Kernel + census.Rx == Half, census.ToString());
            end.Ledger.Dispose();
        }
    }

    /// <summary>
    /// End A: keeps up to half the UMEM in flight from its upper half, numbering every frame, until it has sent
    /// <paramref name="frames"/>; receives what comes back and checks order and content. Ends when everything
    /// sent came back or nothing arrived for a second.
    /// </summary>
    static Generated Generate(End a, long frames, MacAddress macA, MacAddress macB)
    {
        RxTxSocket socket = a.Socket;
        FrameLedger ledger = a.Ledger;
        RxRing rx = socket.Rx;
        TxRing tx = socket.Tx;
        CompletionRing completion = socket.Completion;
        var free = new Stack<ulong>();
        for (uint i = Half; i < 2 * Half; i++)
        {
            ulong address = a.Umem.FrameAddress(i);
            Span<byte> frame = a.Umem.GetFrame(address, FrameLength);
            frame.Clear();
            macB.WriteTo(frame);
            macA.WriteTo(frame[6..]);
            BinaryPrimitives.WriteUInt16BigEndian(frame[12..], 0x88B5);
            free.Push(address);
        }
        Span<ulong> recycled = stackalloc ulong[(int)Batch];
        long sent = 0, received = 0, outOfOrder = 0, corrupt = 0, last = -1;
        var clock = Stopwatch.StartNew();
        TimeSpan deadline = TimeSpan.FromSeconds(60 + frames / 50_000), lastArrival = TimeSpan.Zero;
        while (clock.Elapsed < deadline && (received < frames) && !(sent == frames && clock.Elapsed - lastArrival > TimeSpan.FromSeconds(1)))
        {
            uint n = ledger.PeekRx(rx, Batch, out uint rxIndex);
            if (n > 0)
            {
                for (uint i = 0; i < n; i++)
                {
                    XdpDescriptor d = rx[rxIndex + i];
                    Span<byte> frame = a.Umem.GetFrame(d);
                    long sequence = frame.Length == FrameLength ? (long)BinaryPrimitives.ReadUInt64BigEndian(frame[SequenceOffset..]) : -1;
                    if (frame.Length != FrameLength || new MacAddress(frame) != macA || new MacAddress(frame[6..]) != macB)
                        corrupt++;
                    else if (sequence <= last)
                        outOfOrder++;
                    last = Math.Max(last, sequence);
                    recycled[(int)i] = d.Address;
                }
                a.Refill(recycled[..(int)n]);
                ledger.ReleaseRx(rx, n);
                received += n;
                lastArrival = clock.Elapsed;
            }
            else if (socket.Fill.NeedsWakeup)
            {
                socket.WakeupRx();
            }

            uint done = ledger.PeekCompletion(completion, Half, out uint completionIndex);
            for (uint i = 0; i < done; i++)
                free.Push(completion[completionIndex + i]);
            ledger.ReleaseCompletion(completion, done);

            uint batch = (uint)Math.Min(Math.Min(Batch, free.Count), frames - sent);
            if (batch > 0 && tx.Reserve(batch, out uint txIndex) == batch)
            {
                for (uint i = 0; i < batch; i++)
                {
                    ulong address = free.Pop();
                    BinaryPrimitives.WriteUInt64BigEndian(a.Umem.GetFrame(address + SequenceOffset, 8), (ulong)sent++);
                    tx[txIndex + i] = new XdpDescriptor { Address = address, Length = FrameLength };
                }
                ledger.SubmitTx(tx, txIndex, batch);
            }
            a.Kick();
        }
        double seconds = clock.Elapsed.TotalSeconds;
        // Wait for the last completions, then every TX frame is the application's again.
        KernelTest.Eventually(() =>
        {
            a.Kick();
            uint done = ledger.PeekCompletion(completion, Half, out uint index);
            for (uint i = 0; i < done; i++)
                free.Push(completion[index + i]);
            ledger.ReleaseCompletion(completion, done);
            return free.Count == Half;
        }, TimeSpan.FromSeconds(5));
        foreach (ulong address in free)
            ledger.Free(address);
        return new Generated(sent, received, outOfOrder, corrupt, seconds);
    }

    /// <summary>End B: l2fwd through the ledger until <paramref name="stop"/>, then drains its completions. Returns the frames it forwarded.</summary>
    static long Forward(End b, CancellationToken stop)
    {
        RxTxSocket socket = b.Socket;
        FrameLedger ledger = b.Ledger;
        RxRing rx = socket.Rx;
        TxRing tx = socket.Tx;
        CompletionRing completion = socket.Completion;
        var recycled = new ulong[Half];
        long forwarded = 0, completed = 0;

        void Complete()
        {
            uint done = ledger.PeekCompletion(completion, Half, out uint index);
            if (done == 0)
                return;
            for (uint i = 0; i < done; i++)
                recycled[(int)i] = completion[index + i];
            b.Refill(recycled.AsSpan(0, (int)done));
            ledger.ReleaseCompletion(completion, done);
            completed += done;
        }

        while (!stop.IsCancellationRequested)
        {
            Complete();
            uint n = ledger.PeekRx(rx, Batch, out uint rxIndex);
            if (n == 0)
            {
                b.Kick();
                if (socket.Fill.NeedsWakeup)
                    socket.WakeupRx();
                continue;
            }
            uint txIndex;
            while (tx.Reserve(n, out txIndex) != n)
            {
                b.Kick();
                Complete();
            }
            for (uint i = 0; i < n; i++)
            {
                XdpDescriptor d = rx[rxIndex + i];
                if (EthernetFrame.TryCreate(b.Umem.GetFrame(d), out EthernetFrame frame))
                    frame.SwapMacs();
                tx[txIndex + i] = d;
            }
            ledger.SubmitTx(tx, txIndex, n);
            ledger.ReleaseRx(rx, n);
            forwarded += n;
            b.Kick();
        }
        KernelTest.Eventually(() =>
        {
            b.Kick();
            Complete();
            return completed == forwarded;
        }, TimeSpan.FromSeconds(5));
        return forwarded;
    }

    /// <summary>The veth end's drop and error counters (ip -s link, ethtool -S), for the books.</summary>
    static IEnumerable<(string Name, long Value)> VethCounters(VethLab lab, VethSide side)
    {
        string name = lab.InterfaceOf(side);
        using JsonDocument link = JsonDocument.Parse(lab.Exec(side, "ip", "-s", "-j", "link", "show", name).Output);
        JsonElement stats = link.RootElement[0].GetProperty("stats64");
        foreach (string direction in new[] { "rx", "tx" })
            foreach (JsonProperty counter in stats.GetProperty(direction).EnumerateObject())
                if (counter.Name is "dropped" or "errors")
                    yield return ($"{side}.{direction}_{counter.Name}", counter.Value.GetInt64());
        foreach (string line in lab.Exec(side, "ethtool", "-S", name).Output.Split('\n'))
        {
            string[] parts = line.Split(':', StringSplitOptions.TrimEntries);
            if (parts.Length == 2 && (parts[0].Contains("drop") || parts[0].Contains("err")) && long.TryParse(parts[1], out long value))
                yield return ($"{side}.{parts[0]}", value);
        }
    }
}
