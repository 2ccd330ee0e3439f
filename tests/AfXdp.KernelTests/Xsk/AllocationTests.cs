using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AfXdp.Device;
using AfXdp.Testing;
using AfXdp.Xsk;

namespace AfXdp.KernelTests.Xsk;

/// <summary>The steady-state data path allocates nothing (GC.GetAllocatedBytesForCurrentThread).</summary>
public sealed class AllocationTests
{
    [Fact]
    public async Task The_RX_loop_allocates_nothing()
    {
        using var bed = new XskTestBed(XdpAttachMode.Drv, new XskSocketOptions { TxRingSize = 0 });
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        Task sender = Flood(bed, 7010, stop.Token);
        try
        {
            Assert.Equal(2_000, ReceiveLoop(bed.Socket, 2_000)); // warm-up: JIT, tiering
            long before = GC.GetAllocatedBytesForCurrentThread();
            long received = ReceiveLoop(bed.Socket, 50_000);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Equal(50_000, received);
            Assert.Equal(0, allocated);
        }
        finally
        {
            stop.Cancel();
            await sender;
        }
    }

    [Fact]
    public void The_TX_loop_allocates_nothing()
    {
        using var bed = new XskTestBed(attach: null, new XskSocketOptions { RxRingSize = 0 });
        var builder = bed.FramesToA(7011);
        for (uint i = 0; i < 1024; i++)
            builder.WriteOfLength(bed.Umem.GetFrame(bed.Umem.FrameAddress(XskTestBed.FirstTxFrame + i), (int)bed.Umem.FrameSize), 64);

        Assert.Equal(2_000, TransmitLoop(bed, 2_000));
        long before = GC.GetAllocatedBytesForCurrentThread();
        long sent = TransmitLoop(bed, 50_000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(50_000, sent);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public async Task The_turn_around_loop_allocates_nothing()
    {
        using var bed = new XskTestBed(XdpAttachMode.Drv);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        Task sender = Flood(bed, 7012, stop.Token);
        try
        {
            Assert.Equal(2_000, TurnAroundLoop(bed.Socket, 2_000));
            long before = GC.GetAllocatedBytesForCurrentThread();
            long forwarded = TurnAroundLoop(bed.Socket, 50_000);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Equal(50_000, forwarded);
            Assert.Equal(0, allocated);
            Assert.True(bed.Socket.Counters.TxPackets > 0, "no sent frame came back on the COMPLETION ring");
        }
        finally
        {
            stop.Cancel();
            await sender;
        }
    }

    /// <summary>l2fwd through the verbs: completions back to FILL, receive, swap MACs in place, transmit. Bounded by 15 s.</summary>
    static long TurnAroundLoop(RxTxSocket socket, long count)
    {
        long received = 0, deadline = Stopwatch.GetTimestamp() + 15 * Stopwatch.Frequency;
        while (received < count && Stopwatch.GetTimestamp() < deadline)
        {
            socket.Completion.Recycle();
            RxBatch batch = socket.Rx.Receive((uint)Math.Min(64, count - received));
            foreach (RxFrame frame in batch)
            {
                if (AfXdp.Net.EthernetFrame.TryCreate(frame.Data, out AfXdp.Net.EthernetFrame ethernet))
                    ethernet.SwapMacs();
            }
            batch.Transmit(socket.Tx);
            received += batch.Count;
        }
        return received;
    }

    /// <summary>The syscalls of an idle loop (poll timing out, wakeups) allocate nothing either, nor do the checks behind them.</summary>
    [Fact]
    public void Polls_and_wakeups_allocate_nothing()
    {
        using var bed = new XskTestBed(XdpAttachMode.Skb);
        void Idle()
        {
            bed.Socket.PollRx(0);
            bed.Socket.PollTx(0);
            bed.Socket.WakeupRx();
            bed.Socket.WakeupTx();
        }
        Idle();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
            Idle();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    /// <summary>A's kernel sends 32-byte datagrams to B's <paramref name="port"/> as fast as it can, at most 2 million, until stopped.</summary>
    static Task Flood(XskTestBed bed, int port, CancellationToken stop) => bed.Lab.RunAsync(VethSide.A, () =>
    {
        using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var destination = new IPEndPoint(bed.Lab.AddressB, port);
        byte[] payload = new byte[32];
        for (int i = 0; i < 2_000_000 && !stop.IsCancellationRequested; i++)
            udp.SendTo(payload, destination);
    });

    /// <summary>rxdrop through the verbs: receive a batch, walk it, recycle it to the FILL ring. Bounded by 15 s.</summary>
    static long ReceiveLoop(RxTxSocket socket, long count)
    {
        long received = 0, bytes = 0, deadline = Stopwatch.GetTimestamp() + 15 * Stopwatch.Frequency;
        while (received < count && Stopwatch.GetTimestamp() < deadline)
        {
            RxBatch batch = socket.Rx.Receive((uint)Math.Min(64, count - received));
            foreach (RxFrame frame in batch)
                bytes += frame.Data.Length;
            batch.Recycle();
            received += batch.Count;
        }
        if (bytes < received * 42)
            Assert.Fail($"{bytes} bytes in {received} frames: frames shorter than Ethernet + IPv4 + UDP headers");
        return received;
    }

    /// <summary>txonly through the verbs: send prebuilt frames from a descriptor table, kick, drain completions. Bounded by 15 s.</summary>
    static long TransmitLoop(XskTestBed bed, long count)
    {
        TxRing tx = bed.Socket.Tx;
        CompletionRing completion = bed.Socket.Completion;
        Span<XdpDescriptor> frames = stackalloc XdpDescriptor[1024];
        for (int i = 0; i < frames.Length; i++)
            frames[i] = new XdpDescriptor { Address = bed.Umem.FrameAddress(XskTestBed.FirstTxFrame + (uint)i), Length = 64 };
        long submitted = 0, completed = 0, deadline = Stopwatch.GetTimestamp() + 15 * Stopwatch.Frequency;
        while (completed < count && Stopwatch.GetTimestamp() < deadline)
        {
            int batch = (int)Math.Min(32, count - submitted);
            if (batch > 0 && submitted - completed + batch <= 1024)
                submitted += tx.Send(frames.Slice((int)(submitted & 1023), Math.Min(batch, 1024 - (int)(submitted & 1023))));
            tx.Kick();
            completed += completion.Drain();
        }
        return completed;
    }
}
