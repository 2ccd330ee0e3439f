using System.Diagnostics;
using AfXdp.Device;
using AfXdp.Testing;
using AfXdp.Xsk;

namespace AfXdp.KernelTests.Xsk;

/// <summary>XskAsyncReceiver: await batches; spin briefly, then wait on the epoll thread.</summary>
public sealed class AsyncReceiveTests
{
    static readonly XskSocketOptions RxOnly = new() { TxRingSize = 0 };

    [Fact]
    public async Task Bursts_after_pauses_wake_the_awaiting_receiver()
    {
        using var bed = new XskTestBed(XdpAttachMode.Drv, RxOnly);
        using var receiver = new XskAsyncReceiver(bed.Socket.Rx);
        var payloads = new List<string>();
        for (int burst = 0; burst < 3; burst++)
        {
            ValueTask<RxBatch> pending = receiver.ReceiveAsync(TestContext.Current.CancellationToken);
            Assert.False(pending.IsCompleted, "nothing was sent yet: the receive waits");
            await Task.Delay(200, TestContext.Current.CancellationToken);
            Assert.False(pending.IsCompleted);
            bed.SendFromA(10, port: 7200 + burst);
            RxBatch batch = await pending.AsTask().WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
            int taken = Take(bed, receiver, batch, payloads);
            while (taken < 10)
                taken += Take(bed, receiver, await receiver.ReceiveAsync(TestContext.Current.CancellationToken), payloads);
        }
        Assert.Equal(Enumerable.Range(0, 3).SelectMany(_ => Enumerable.Range(0, 10).Select(i => System.Text.Encoding.ASCII.GetString(XskTestBed.Payload(i)))), payloads);
        Assert.True(receiver.Waits >= 3);
        Assert.Equal(30, bed.Socket.Counters.RxPackets);
    }

    [Fact]
    public async Task Waiting_receives_allocate_nothing_in_steady_state()
    {
        using var bed = new XskTestBed(XdpAttachMode.Drv, RxOnly);
        using var receiver = new XskAsyncReceiver(bed.Socket.Rx, new XskAsyncReceiverOptions { SpinTime = TimeSpan.FromMicroseconds(20) });
        // ping, a process of its own, paces packets 2 ms apart: most receives have to wait for epoll. Measured until
        // 300 receives have waited, however many packets a loaded machine batches meanwhile.
        using Process ping = Process.Start(new ProcessStartInfo("ip", ["netns", "exec", bed.Lab.NamespaceA, "ping", "-q", "-i", "0.002", "-c", "30000", bed.Lab.AddressB.ToString()])
        {
            RedirectStandardOutput = true,
        })!;
        try
        {
            (long allocated, long waits) = await ReceiveAndMeasure(receiver, warmUp: 100, waits: 300);
            Assert.True(waits >= 300, $"only {waits} receives waited in 50 s: the test did not exercise the epoll path");
            Assert.Equal(0, allocated);
        }
        finally
        {
            ping.Kill();
        }
    }

    [Fact]
    public async Task A_cancelled_receive_ends_and_the_receiver_receives_afterwards()
    {
        using var bed = new XskTestBed(XdpAttachMode.Drv, RxOnly);
        using var receiver = new XskAsyncReceiver(bed.Socket.Rx);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await receiver.ReceiveAsync(cancel.Token));

        bed.SendFromA(5, port: 7210);
        RxBatch batch = await receiver.ReceiveAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        Assert.InRange(batch.Count, 1u, 5u);
        batch.Recycle();
    }

    [Fact]
    public async Task Misuse_is_refused_and_dispose_ends_a_pending_receive()
    {
        using var bed = new XskTestBed(XdpAttachMode.Drv, RxOnly);
        var receiver = new XskAsyncReceiver(bed.Socket.Rx);
        ValueTask<RxBatch> pending = receiver.ReceiveAsync(TestContext.Current.CancellationToken);
        Assert.Throws<InvalidOperationException>(() => receiver.ReceiveAsync(TestContext.Current.CancellationToken));
        receiver.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await pending);
        Assert.Throws<ObjectDisposedException>(() => receiver.ReceiveAsync(TestContext.Current.CancellationToken));
        receiver.Dispose();

        Assert.Contains("MaxBatch", Assert.Throws<ArgumentOutOfRangeException>(() => new XskAsyncReceiver(bed.Socket.Rx, new XskAsyncReceiverOptions { MaxBatch = 0 })).Message);
    }

    static int Take(XskTestBed bed, XskAsyncReceiver receiver, RxBatch batch, List<string> payloads)
    {
        for (uint i = 0; i < batch.Count; i++)
            payloads.Add(XskTestBed.UdpPayload(bed.Umem.GetFrame(batch[i]).ToArray(), out _)!);
        batch.Recycle();
        return (int)batch.Count;
    }

    /// <summary>
    /// One async method for warm-up and measurement, so that its state machine box exists before the
    /// measurement starts: <paramref name="warmUp"/> packets, then until <paramref name="waits"/> receives
    /// have waited for epoll (at most 50 s). The continuations hop between pool threads, so the whole process is measured.
    /// </summary>
    static async Task<(long Allocated, long Waits)> ReceiveAndMeasure(XskAsyncReceiver receiver, int warmUp, int waits)
    {
        var clock = Stopwatch.StartNew();
        long before = 0, waitsBefore = 0, received = 0;
        while (received < warmUp || (receiver.Waits - waitsBefore < waits && clock.Elapsed < TimeSpan.FromSeconds(50)))
        {
            if (received >= warmUp && before == 0)
                (before, waitsBefore) = (GC.GetTotalAllocatedBytes(precise: true), receiver.Waits);
            RxBatch batch = await receiver.ReceiveAsync(TestContext.Current.CancellationToken);
            received += batch.Count;
            batch.Recycle();
        }
        return (GC.GetTotalAllocatedBytes(precise: true) - before, receiver.Waits - waitsBefore);
    }
}
