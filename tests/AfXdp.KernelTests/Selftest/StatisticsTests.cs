using AfXdp.Device;
using AfXdp.Xsk;

namespace AfXdp.KernelTests.Selftest;

/// <summary>
/// xskxceiver's statistics scenarios: each XDP_STATISTICS counter provoked on purpose and asserted exactly.
/// Every stream ends with a packet that arrives, so everything before it has been counted by then.
/// </summary>
public sealed class StatisticsTests
{
    const int Small = TestFrame.MinimumLength;

    /// <summary>
    /// The receiver's headroom leaves room for 512 bytes: every second packet is 1024 bytes, too long for a
    /// frame, and the kernel drops it (rx_dropped) while the short ones arrive.
    /// </summary>
    [Theory, AttachModes]
    public async Task Packets_longer_than_a_frame_count_in_rx_dropped(XdpAttachMode mode)
    {
        const uint room = 512;
        using var pair = new XskPair(mode, new XskPairOptions
        {
            ReceiverUmem = new UmemOptions { FrameCount = 4096, Headroom = 4096 - UmemOptions.KernelHeadroom - room },
        });
        const int count = 129;
        XdpDescriptor[] stream = pair.Stream(count, Small);
        for (int i = 1; i < count; i += 2)
            stream[i].Length = 2 * room;
        int[] even = [.. Enumerable.Range(0, count).Where(i => i % 2 == 0)];

        Task<List<ReceivedPacket>> receiving = pair.StartReceiving(even.Length);
        pair.Send(stream);
        pair.AssertPackets(await receiving, even, _ => Small);
        XdpStatistics statistics = pair.ReceiverStatisticsWhen(s => s.RxDropped >= count / 2);
        Assert.Equal(new XdpStatistics(RxDropped: count / 2, 0, 0, 0, 0, 0), statistics);
    }

    /// <summary>Every second descriptor is one byte longer than a frame: the kernel skips it and counts it in tx_invalid_descs.</summary>
    [Theory, AttachModes]
    public async Task Descriptors_longer_than_a_frame_count_in_tx_invalid_descs(XdpAttachMode mode)
    {
        using var pair = new XskPair(mode);
        const int count = 129;
        XdpDescriptor[] stream = pair.Stream(count, Small);
        for (int i = 1; i < count; i += 2)
            stream[i].Length = pair.SenderUmem.FrameSize + 1;
        int[] even = [.. Enumerable.Range(0, count).Where(i => i % 2 == 0)];

        Task<List<ReceivedPacket>> receiving = pair.StartReceiving(even.Length);
        pair.Send(stream, expectedCompletions: even.Length);
        pair.AssertPackets(await receiving, even, _ => Small);
        Assert.Equal((ulong)(count / 2), pair.Sender.Statistics.TxInvalidDescriptors);
        Assert.Equal(default, pair.Receiver.Statistics);
    }

    /// <summary>
    /// A 64-entry RX ring that the receiver reads but never releases, and 96 packets: the first 64 fill it,
    /// the other 32 find it full (rx_ring_full) although the FILL ring has frames to spare.
    /// </summary>
    [Theory, AttachModes]
    public async Task Packets_finding_the_RX_ring_full_count_in_rx_ring_full(XdpAttachMode mode)
    {
        using var pair = new XskPair(mode, new XskPairOptions
        {
            ReceiverSocket = new XskSocketOptions { RxRingSize = 64, TxRingSize = 0, BindMode = XdpBindMode.Copy },
            FillFrames = 256,
        });
        Task<List<ReceivedPacket>> receiving = pair.StartReceiving(64, release: false);
        pair.Send(pair.Stream(96, Small));
        pair.AssertPackets(await receiving, [.. Enumerable.Range(0, 64)], _ => Small);
        XdpStatistics statistics = pair.ReceiverStatisticsWhen(s => s.RxRingFull >= 32);
        Assert.Equal(new XdpStatistics(0, 0, 0, RxRingFull: 32, 0, 0), statistics);
    }

    /// <summary>
    /// 64 frames in the FILL ring and none given back, then 96 packets: 32 find no frame, each counted once in
    /// rx_fill_ring_empty_descs and once in rx_dropped.
    /// </summary>
    [Theory, AttachModes]
    public async Task Packets_finding_the_FILL_ring_empty_count_in_fill_ring_empty_descs(XdpAttachMode mode)
    {
        using var pair = new XskPair(mode, new XskPairOptions { FillFrames = 64 });
        Task<List<ReceivedPacket>> receiving = pair.StartReceiving(64, recycle: false);
        pair.Send(pair.Stream(96, Small));
        pair.AssertPackets(await receiving, [.. Enumerable.Range(0, 64)], _ => Small);
        XdpStatistics statistics = pair.ReceiverStatisticsWhen(s => s.RxFillRingEmptyDescriptors >= 32);
        Assert.Equal(new XdpStatistics(RxDropped: 32, 0, 0, 0, RxFillRingEmptyDescriptors: 32, 0), statistics);
    }
}
