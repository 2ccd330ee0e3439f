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
        using var bed = new XskTestBed(XdpAttachMode.Drv, new XskSocketConfig { TxRingSize = 0 });
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        Task sender = bed.Lab.RunAsync(VethSide.A, () =>
        {
            using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            var destination = new IPEndPoint(bed.Lab.AddressB, 7010);
            byte[] payload = new byte[32];
            for (int i = 0; i < 2_000_000 && !stop.IsCancellationRequested; i++)
                udp.SendTo(payload, destination);
        });
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
        using var bed = new XskTestBed(attach: null, new XskSocketConfig { RxRingSize = 0 });
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

    /// <summary>rxdrop: peek, recycle the addresses to the FILL ring, release. Bounded by 15 s.</summary>
    static long ReceiveLoop(RxTxSocket socket, long count)
    {
        RxRing rx = socket.Rx;
        FillRing fill = socket.Fill;
        long received = 0, deadline = Stopwatch.GetTimestamp() + 15 * Stopwatch.Frequency;
        while (received < count && Stopwatch.GetTimestamp() < deadline)
        {
            uint n = rx.Peek((uint)Math.Min(64, count - received), out uint rxIndex);
            if (n == 0)
                continue;
            uint fillIndex;
            while (fill.Reserve(n, out fillIndex) != n) { }
            for (uint i = 0; i < n; i++)
                fill[fillIndex + i] = rx[rxIndex + i].Address;
            fill.Submit(n);
            rx.Release(n);
            received += n;
        }
        return received;
    }

    /// <summary>txonly: reserve, describe prebuilt frames, submit, wake the kernel, reap completions. Bounded by 15 s.</summary>
    static long TransmitLoop(XskTestBed bed, long count)
    {
        TxRing tx = bed.Socket.Tx;
        CompletionRing completion = bed.Socket.Completion;
        long submitted = 0, completed = 0, deadline = Stopwatch.GetTimestamp() + 15 * Stopwatch.Frequency;
        ulong frameSize = bed.Umem.FrameSize;
        while (completed < count && Stopwatch.GetTimestamp() < deadline)
        {
            uint batch = (uint)Math.Min(32, count - submitted);
            if (batch > 0 && submitted - completed + batch <= 1024 && tx.Reserve(batch, out uint index) == batch)
            {
                for (uint i = 0; i < batch; i++)
                    tx[index + i] = new XdpDescriptor { Address = (XskTestBed.FirstTxFrame + (ulong)((submitted + i) & 1023)) * frameSize, Length = 64 };
                tx.Submit(batch);
                submitted += batch;
            }
            if (tx.NeedsWakeup)
                bed.Socket.WakeupTx();
            uint done = completion.Peek(64, out _);
            completion.Release(done);
            completed += done;
        }
        return completed;
    }
}
