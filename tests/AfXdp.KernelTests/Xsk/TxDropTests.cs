using System.Diagnostics;
using AfXdp.Device;
using AfXdp.Xsk;

namespace AfXdp.KernelTests.Xsk;

/// <summary>
/// A TX ring the kernel does not drain: frames turned around onto it wait <see cref="RingRetry.Limit"/>
/// (kicking the kernel meanwhile), then the ones that do not fit are counted in <see cref="XskCounters.TxDropped"/>
/// and their frames go back to the FILL ring.
/// </summary>
public sealed class TxDropTests
{
    const uint CompletionSize = 64, TxSize = 64;

    [Fact]
    public void Frames_that_find_the_TX_ring_full_for_1_ms_are_counted_as_dropped()
    {
        // The stall: the COMPLETION ring is never reaped, and the kernel takes a TX descriptor only when it can
        // reserve its completion slot (xsk_generic_xmit, net/xdp/xsk.c: "the backpressure mechanism for the Tx
        // path"). So 64 frames leave, 64 more wait on the TX ring, and every frame after them is dropped.
        using var bed = new XskTestBed(XdpAttachMode.Skb, new XskSocketOptions { TxRingSize = TxSize },
            umemConfig: new UmemOptions { FrameCount = 4096, FillRingSize = 1024, CompletionRingSize = CompletionSize });
        const int Sent = 400;
        bed.SendFromA(Sent, 9);

        XskCounters counters = bed.Socket.Counters;
        long received = 0;
        TimeSpan shortestDroppingCall = TimeSpan.MaxValue;
        var clock = Stopwatch.StartNew();
        while (received < Sent && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            RxBatch batch = bed.Socket.Rx.Receive(64, timeoutMs: 50);
            received += batch.Count;
            long droppedBefore = counters.TxDropped;
            long start = Stopwatch.GetTimestamp();
            batch.Transmit(bed.Socket.Tx);
            TimeSpan took = Stopwatch.GetElapsedTime(start);
            if (counters.TxDropped > droppedBefore && took < shortestDroppingCall)
                shortestDroppingCall = took;
        }

        Assert.True(received >= Sent, $"{received} of {Sent} frames arrived");
        Assert.Equal(received - CompletionSize - TxSize, counters.TxDropped);
        Assert.True(shortestDroppingCall >= RingRetry.Limit, $"a Transmit that dropped returned after {shortestDroppingCall.TotalMilliseconds:0.000} ms");
        Assert.Equal(CompletionSize, bed.Socket.Completion.Drain()); // what left: one full COMPLETION ring
    }
}
