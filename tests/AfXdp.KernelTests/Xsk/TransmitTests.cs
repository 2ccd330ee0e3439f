using System.Net;
using System.Net.Sockets;
using AfXdp.Testing;
using AfXdp.Xsk;

namespace AfXdp.KernelTests.Xsk;

public sealed class TransmitTests
{
    [Theory]
    [InlineData(true, 0u)]
    [InlineData(false, 0u)]
    [InlineData(true, 2048u)] // XDP_MAX_TX_SKB_BUDGET: one wakeup may send the whole ring
    public async Task Frames_sent_from_the_TX_ring_reach_the_peer_kernel(bool needWakeup, uint txBudget)
    {
        if (txBudget != 0)
            Assert.SkipUnless(XskSocket.KernelHasTxBudget(), "the kernel lacks XDP_MAX_TX_SKB_BUDGET (Linux 6.17+)");
        // A send-only socket: no RX ring, no XDP program.
        using var bed = new XskTestBed(attach: null, new XskSocketOptions { RxRingSize = 0, NeedWakeup = needWakeup, TxBudget = txBudget, SendBufferSize = 4 << 20 });
        using Socket peer = bed.BindOnA(7002);
        var builder = bed.FramesToA(7002);

        const int count = 300;
        var receiving = XskTestBed.ReceiveDatagrams(peer, count);
        bed.Transmit(bed.Socket, count, (i, frame) => builder.Write(frame, XskTestBed.Payload(i)));

        var received = await receiving;
        Assert.Equal(Enumerable.Range(0, count).Select(XskTestBed.Payload), received.Select(r => r.Payload));
        Assert.All(received, r => Assert.Equal(new IPEndPoint(bed.Lab.AddressB, 40000), r.From));
        Assert.Equal(0UL, bed.Socket.Statistics.TxInvalidDescriptors);
    }
}
