using System.Diagnostics;
using System.Reflection;
using AfXdp.Bpf;
using AfXdp.Device;
using AfXdp.Interop;
using AfXdp.Testing;
using AfXdp.Net;
using AfXdp.Xsk;
using Xunit.Sdk;
using Xunit.v3;

namespace AfXdp.KernelTests.Selftest;

/// <summary>How an <see cref="XskPair"/> is built; the defaults are xskxceiver's (4 KiB frames, copy mode, need_wakeup).</summary>
internal sealed record XskPairOptions
{
    public UmemOptions SenderUmem { get; init; } = new() { FrameCount = 4096, FillRingSize = 2048, CompletionRingSize = 2048 };

    public UmemOptions ReceiverUmem { get; init; } = new() { FrameCount = 4096, FillRingSize = 2048, CompletionRingSize = 2048 };

    public XskSocketOptions SenderSocket { get; init; } = new() { RxRingSize = 0, BindMode = XdpBindMode.Copy };

    public XskSocketOptions ReceiverSocket { get; init; } = new() { TxRingSize = 0, BindMode = XdpBindMode.Copy };

    /// <summary>Frames the receiver hands to its FILL ring before traffic starts; null fills the whole ring.</summary>
    public uint? FillFrames { get; init; }

    /// <summary>MTU of both veth ends; null keeps 1500.</summary>
    public int? Mtu { get; init; }

    /// <summary>Attach the redirect program on B; false for a test that brings its own.</summary>
    public bool RedirectProgram { get; init; } = true;
}

/// <summary>One packet as the receiver saw it: its bytes (fragments joined), where its first fragment was, and how many fragments.</summary>
internal sealed record ReceivedPacket(byte[] Bytes, ulong FirstAddress, int Fragments);

/// <summary>
/// xskxceiver's topology over the library, in a fresh lab: a sending AF_XDP socket on end A and a
/// receiving one on end B, each with its own UMEM and created inside its own namespace, and the redirect
/// program on B in the mode under test. Frames go A's TX ring → veth → B's XDP program → B's RX ring.
/// </summary>
internal sealed class XskPair : IDisposable
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    readonly List<Task> _loops = [];
    volatile bool _disposing;

    public XskPair(XdpAttachMode mode, XskPairOptions? options = null)
    {
        KernelTest.RequireRoot();
        Options = options ?? new XskPairOptions();
        Mode = mode;
        Lab = VethLab.Create(new VethLabOptions { Mtu = Options.Mtu });
        try
        {
            (SenderUmem, Sender) = Lab.Run(VethSide.A, () => Open(Lab.InterfaceA, Options.SenderUmem, (umem, name) => new TxSocket(umem, name, 0, Options.SenderSocket)));
            (ReceiverUmem, Receiver) = Lab.Run(VethSide.B, () => Open(Lab.InterfaceB, Options.ReceiverUmem, (umem, name) => new RxSocket(umem, name, 0, Options.ReceiverSocket)));
            Program = Options.RedirectProgram ? AttachProgram(mode) : null;
            Fill(0, Options.FillFrames ?? Receiver.Fill.Size);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public XskPairOptions Options { get; }

    public XdpAttachMode Mode { get; }

    public VethLab Lab { get; }

    public Umem SenderUmem { get; }

    public TxSocket Sender { get; }

    public Umem ReceiverUmem { get; }

    public RxSocket Receiver { get; }

    /// <summary>The redirect program on B; replaced by <see cref="ReplaceProgram"/>.</summary>
    public XskRedirectProgram? Program { get; private set; }

    public MacAddress SenderMac => MacAddress.Parse(Lab.MacA);

    public MacAddress ReceiverMac => MacAddress.Parse(Lab.MacB);

    /// <summary>Detaches the redirect program and attaches a new one, with the sockets left bound; returns the old program's id.</summary>
    public uint ReplaceProgram()
    {
        uint old = Program!.Program.Id;
        Program.Dispose();
        Program = null;
        Program = AttachProgram(Mode);
        return old;
    }

    /// <summary>Hands receiver frames first .. first+count-1 to its FILL ring.</summary>
    public void Fill(uint first, uint count) => Receiver.Fill.Populate(first, count);

    /// <summary>
    /// Puts <paramref name="descriptors"/> on the sender's TX ring in order, kicks the kernel until it has
    /// consumed them all and waits for <paramref name="expectedCompletions"/> (default: one per descriptor).
    /// A packet is a run of descriptors ending with one without XDP_PKT_CONTD; packet k carries sequence k,
    /// written into those of its fragments that lie inside the UMEM. Returns the completed addresses in order.
    /// With <paramref name="poll"/>, waits in poll(POLLOUT) whenever the TX ring is full.
    /// </summary>
    public List<ulong> Send(IReadOnlyList<XdpDescriptor> descriptors, int? expectedCompletions = null, bool poll = false, uint batch = 64)
    {
        WritePackets(descriptors);
        return SendAsWritten(descriptors, expectedCompletions, poll, batch);
    }

    /// <summary><see cref="Send"/> without writing the packets: for frames the test wrote itself.</summary>
    public List<ulong> SendAsWritten(IReadOnlyList<XdpDescriptor> descriptors, int? expectedCompletions = null, bool poll = false, uint batch = 64)
    {
        TxRing tx = Sender.Tx;
        XdpDescriptor[] all = [.. descriptors];
        Span<ulong> done = stackalloc ulong[64];
        int submitted = 0, expected = expectedCompletions ?? descriptors.Count;
        var completed = new List<ulong>();
        var clock = Stopwatch.StartNew();
        while ((submitted < descriptors.Count || tx.Pending != 0 || completed.Count < expected) && clock.Elapsed < Deadline && !_disposing)
        {
            int wanted = Math.Min((int)batch, descriptors.Count - submitted);
            int sent = wanted > 0 ? tx.Send(all.AsSpan(submitted, wanted)) : 0;
            submitted += sent;
            if (sent < wanted && poll)
                Sender.PollTx(100);
            tx.Kick();
            for (int n; (n = Sender.Completion.Take(done)) != 0;)
                completed.AddRange(done[..n].ToArray());
        }
        Assert.True(submitted == descriptors.Count && tx.Pending == 0,
            $"the kernel took {submitted - tx.Pending} of {descriptors.Count} descriptors within {Deadline.TotalSeconds} s");
        return completed;
    }

    /// <summary>Descriptors for <paramref name="count"/> single-frame packets of <paramref name="length"/> bytes in successive sender frames.</summary>
    public XdpDescriptor[] Stream(int count, int length) =>
        [.. Enumerable.Range(0, count).Select(i => new XdpDescriptor { Address = SenderUmem.FrameAddress((uint)(i % SenderUmem.FrameCount)), Length = (uint)length })];

    /// <summary>
    /// Receives until <paramref name="packets"/> whole packets arrived or the deadline passed. Frames go back to the
    /// FILL ring unless <paramref name="recycle"/> is false; the RX ring is released unless <paramref name="release"/>
    /// is false. With <paramref name="poll"/> the loop waits in poll(POLLIN), else it spins, waking the kernel
    /// (recvfrom) when the FILL ring asks for it.
    /// </summary>
    public List<ReceivedPacket> Receive(int packets, bool poll = false, bool recycle = true, bool release = true, TimeSpan? timeout = null)
    {
        var received = new List<ReceivedPacket>();
        var partial = new List<byte>();
        ulong first = 0;
        int fragments = 0;
        var clock = Stopwatch.StartNew();
        while (received.Count < packets && clock.Elapsed < (timeout ?? Deadline) && !_disposing)
        {
            RxBatch batch = Receiver.Rx.Receive(64, poll ? 50 : 0);
            if (batch.IsEmpty)
            {
                Thread.Yield();
                continue;
            }
            foreach (RxFrame frame in batch)
            {
                if (fragments++ == 0)
                    first = frame.Address;
                partial.AddRange(frame.Data.ToArray());
                if ((frame.Descriptor.Options & IfXdp.XDP_PKT_CONTD) == 0)
                {
                    received.Add(new ReceivedPacket([.. partial], first, fragments));
                    partial.Clear();
                    fragments = 0;
                }
            }
            // Not released: the RX ring fills up (rx_ring_full); released without recycling: the FILL ring runs dry.
            if (recycle && release)
                batch.Recycle();
            else if (release)
                batch.Release();
        }
        return received;
    }

    /// <summary><see cref="Receive"/> on a thread of its own, started before the sender, as xskxceiver's two threads run.</summary>
    public Task<List<ReceivedPacket>> StartReceiving(int packets, bool poll = false, bool recycle = true, bool release = true, TimeSpan? timeout = null)
    {
        Task<List<ReceivedPacket>> receiving = Task.Factory.StartNew(() => Receive(packets, poll, recycle, release, timeout), TaskCreationOptions.LongRunning);
        _loops.Add(receiving);
        return receiving;
    }

    /// <summary><see cref="Send"/> on a thread of its own, for a test that changes the world while frames wait.</summary>
    public Task<List<ulong>> StartSending(IReadOnlyList<XdpDescriptor> descriptors)
    {
        Task<List<ulong>> sending = Task.Factory.StartNew(() => Send(descriptors), TaskCreationOptions.LongRunning);
        _loops.Add(sending);
        return sending;
    }

    /// <summary>Asserts that <paramref name="received"/> are exactly the packets of <paramref name="sequences"/>, in order, of <paramref name="length"/> bytes.</summary>
    public void AssertPackets(IReadOnlyList<ReceivedPacket> received, IReadOnlyList<int> sequences, Func<int, int> length)
    {
        Assert.True(received.Count == sequences.Count,
            $"received {received.Count} packets ({string.Join(",", received.Select(p => TestFrame.SequenceOf(p.Bytes)))}), expected {sequences.Count} ({string.Join(",", sequences)})");
        for (int i = 0; i < sequences.Count; i++)
            TestFrame.AssertIs(received[i].Bytes, sequences[i], length(sequences[i]), SenderMac, ReceiverMac);
    }

    /// <summary>Waits until the receiver's statistics satisfy <paramref name="condition"/> (the kernel updates them as it processes), then returns them.</summary>
    public XdpStatistics ReceiverStatisticsWhen(Func<XdpStatistics, bool> condition)
    {
        KernelTest.Eventually(() => condition(Receiver.Statistics), TimeSpan.FromSeconds(3));
        return Receiver.Statistics;
    }

    public void Dispose()
    {
        // A ring used after its socket is disposed is unmapped memory: stop the loops first.
        _disposing = true;
        Task.WaitAny([Task.WhenAll(_loops)], Deadline);
        Program?.Dispose();
        Receiver?.Dispose();
        ReceiverUmem?.Dispose();
        Sender?.Dispose();
        SenderUmem?.Dispose();
        Lab.Dispose();
    }

    static (Umem, TSocket) Open<TSocket>(string interfaceName, UmemOptions umemConfig, Func<Umem, string, TSocket> open)
    {
        var umem = new Umem(umemConfig);
        try
        {
            return (umem, open(umem, interfaceName));
        }
        catch
        {
            umem.Dispose();
            throw;
        }
    }

    XskRedirectProgram AttachProgram(XdpAttachMode mode) => Lab.Run(VethSide.B, () =>
    {
        XskRedirectProgram program = XskRedirectProgram.Attach(Lab.InterfaceB, mode);
        program.Register(Receiver);
        return program;
    });

    void WritePackets(IReadOnlyList<XdpDescriptor> descriptors)
    {
        int sequence = 0;
        for (int start = 0; start < descriptors.Count; sequence++)
        {
            int end = start;
            while (end < descriptors.Count - 1 && (descriptors[end].Options & IfXdp.XDP_PKT_CONTD) != 0)
                end++;
            WritePacket(sequence, [.. descriptors.Skip(start).Take(end - start + 1)]);
            start = end + 1;
        }
    }

    /// <summary>Writes the packet carrying <paramref name="sequence"/> across <paramref name="fragments"/>, skipping those outside the UMEM.</summary>
    public void WritePacket(int sequence, ReadOnlySpan<XdpDescriptor> fragments)
    {
        long length = 0;
        foreach (XdpDescriptor d in fragments)
            length += d.Length;
        byte[] packet = TestFrame.Create(sequence, (int)Math.Min(length, 1 << 20), SenderMac, ReceiverMac);
        long offset = 0;
        foreach (XdpDescriptor d in fragments)
        {
            if (InsideUmem(SenderUmem, d.Address, d.Length) && offset + d.Length <= packet.Length)
                packet.AsSpan((int)offset, (int)d.Length).CopyTo(SenderUmem.GetFrame(d));
            offset += d.Length;
        }
    }

    static bool InsideUmem(Umem umem, ulong address, uint length)
    {
        ulong start = (address & IfXdp.XSK_UNALIGNED_BUF_ADDR_MASK) + (address >> IfXdp.XSK_UNALIGNED_BUF_OFFSET_SHIFT);
        return start < umem.Options.Size && umem.Options.Size - start >= length;
    }


}

/// <summary>A theory over the two XDP attach modes veth supports: generic (skb) and native (drv).</summary>
internal sealed class AttachModesAttribute : DataAttribute
{
    public override ValueTask<IReadOnlyCollection<ITheoryDataRow>> GetData(MethodInfo testMethod, DisposalTracker disposalTracker) =>
        new([new TheoryDataRow<XdpAttachMode>(XdpAttachMode.Skb), new TheoryDataRow<XdpAttachMode>(XdpAttachMode.Drv)]);

    public override bool SupportsDiscoveryEnumeration() => true;
}
