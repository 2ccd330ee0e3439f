using System.Diagnostics;
using AfXdp.Device;
using AfXdp.Xsk;

namespace AfXdp.KernelTests.Selftest;

/// <summary>xskxceiver's traffic scenarios: our TX on one end, our RX on the other, every byte and sequence number checked.</summary>
public sealed class SendReceiveTests
{
    const int Count = 2048;

    static readonly int[] All = [.. Enumerable.Range(0, Count)];

    [Theory, AttachModes]
    public async Task Packets_arrive_whole_and_in_order(XdpAttachMode mode)
    {
        using var pair = new XskPair(mode);
        Task<List<ReceivedPacket>> receiving = pair.StartReceiving(Count);
        Assert.Equal(Count, pair.Send(pair.Stream(Count, TestFrame.MinimumLength)).Count);
        List<ReceivedPacket> received = await receiving;
        pair.AssertPackets(received, All, _ => TestFrame.MinimumLength);
        Assert.All(received, p => Assert.Equal(UmemOptions.KernelHeadroom, p.FirstAddress % pair.ReceiverUmem.FrameSize));
        Assert.Equal(default, pair.Receiver.Statistics);
        Assert.Equal(0UL, pair.Sender.Statistics.TxInvalidDescriptors);
    }

    [Theory, AttachModes]
    public async Task Packets_arrive_in_2K_frames(XdpAttachMode mode)
    {
        var umem = new UmemOptions { FrameCount = 4096, FrameSize = 2048 };
        using var pair = new XskPair(mode, new XskPairOptions { SenderUmem = umem, ReceiverUmem = umem });
        Task<List<ReceivedPacket>> receiving = pair.StartReceiving(Count);
        Assert.Equal(Count, pair.Send(pair.Stream(Count, 1500)).Count);
        pair.AssertPackets(await receiving, All, _ => 1500);
    }

    [Theory, AttachModes]
    public async Task The_receiver_waits_in_poll(XdpAttachMode mode)
    {
        using var pair = new XskPair(mode);
        Task<List<ReceivedPacket>> receiving = pair.StartReceiving(Count, poll: true);
        Assert.Equal(Count, pair.Send(pair.Stream(Count, TestFrame.MinimumLength)).Count);
        pair.AssertPackets(await receiving, All, _ => TestFrame.MinimumLength);
    }

    /// <summary>A 64-entry TX ring for 2048 packets: the sender waits in poll(POLLOUT) until the kernel has room again.</summary>
    [Theory, AttachModes]
    public async Task The_sender_waits_in_poll_when_its_ring_is_full(XdpAttachMode mode)
    {
        using var pair = new XskPair(mode, new XskPairOptions { SenderSocket = new XskSocketOptions { RxRingSize = 0, TxRingSize = 64, BindMode = XdpBindMode.Copy } });
        Task<List<ReceivedPacket>> receiving = pair.StartReceiving(Count);
        Assert.Equal(Count, pair.Send(pair.Stream(Count, TestFrame.MinimumLength), poll: true, batch: 16).Count);
        pair.AssertPackets(await receiving, All, _ => TestFrame.MinimumLength);
    }

    [Theory, AttachModes]
    public void Poll_for_RX_without_traffic_times_out(XdpAttachMode mode)
    {
        using var pair = new XskPair(mode);
        var clock = Stopwatch.StartNew();
        Assert.False(pair.Receiver.PollRx(200));
        // The kernel never ends a poll before its timeout (and a thread in a native call takes no GC signal); the upper
        // bound only guards against a hang, with the margin a loaded 2-core machine needs.
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(195), TimeSpan.FromSeconds(10));
    }

    /// <summary>
    /// The COMPLETION ring is never reaped: once it is full the kernel stops taking descriptors, the TX ring
    /// stays more than half full, and poll(POLLOUT) times out instead of reporting room. Reaping resumes sending.
    /// </summary>
    [Theory, AttachModes]
    public async Task Poll_for_TX_times_out_while_completions_are_not_reaped(XdpAttachMode mode)
    {
        using var pair = new XskPair(mode, new XskPairOptions
        {
            SenderUmem = new UmemOptions { FrameCount = 256, CompletionRingSize = 64, FillRingSize = 64 },
            SenderSocket = new XskSocketOptions { RxRingSize = 0, TxRingSize = 64, BindMode = XdpBindMode.Copy },
        });
        Task<List<ReceivedPacket>> receiving = pair.StartReceiving(128);
        XdpDescriptor[] stream = pair.Stream(128, TestFrame.MinimumLength);
        TxRing tx = pair.Sender.Tx;
        Assert.Equal(64u, tx.Reserve(64, out uint index));
        for (uint i = 0; i < 64; i++)
            tx[index + i] = stream[i];
        tx.Submit(64);
        Assert.True(KernelTest.Eventually(() => { pair.Sender.WakeupTx(); return tx.Pending == 0; }, TimeSpan.FromSeconds(5)));
        Assert.True(KernelTest.Eventually(() => pair.Sender.Completion.Available == 64, TimeSpan.FromSeconds(5)));

        Assert.Equal(64u, tx.Reserve(64, out index));
        for (uint i = 0; i < 64; i++)
            tx[index + i] = stream[64 + i];
        tx.Submit(64);
        var clock = Stopwatch.StartNew();
        Assert.False(pair.Sender.PollTx(200));
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(195), TimeSpan.FromSeconds(10)); // as for RX above
        Assert.Equal(64u, tx.Pending);

        Assert.Equal(64u, pair.Sender.Completion.Peek(64, out _));
        pair.Sender.Completion.Release(64);
        Assert.True(KernelTest.Eventually(() => { pair.Sender.PollTx(50); return tx.Pending == 0; }, TimeSpan.FromSeconds(5)));
        Assert.Equal(128, (await receiving).Count);
    }

    /// <summary>UmemOptions.Headroom: the kernel leaves its own 256 bytes plus ours in front of every received packet.</summary>
    [Theory, AttachModes]
    public async Task Received_data_starts_after_the_kernel_headroom_and_ours(XdpAttachMode mode)
    {
        using var pair = new XskPair(mode, new XskPairOptions { ReceiverUmem = new UmemOptions { FrameCount = 4096, Headroom = 128 } });
        Task<List<ReceivedPacket>> receiving = pair.StartReceiving(256);
        pair.Send(pair.Stream(256, TestFrame.MinimumLength));
        List<ReceivedPacket> received = await receiving;
        pair.AssertPackets(received, [.. Enumerable.Range(0, 256)], _ => TestFrame.MinimumLength);
        Assert.All(received, p => Assert.Equal(UmemOptions.KernelHeadroom + 128, p.FirstAddress % pair.ReceiverUmem.FrameSize));
    }

    /// <summary>Unaligned chunks: every second packet straddles a 4 KiB boundary, which only this mode allows.</summary>
    [Theory, AttachModes]
    public async Task Unaligned_chunks_carry_packets_across_page_boundaries(XdpAttachMode mode)
    {
        var umem = new UmemOptions { FrameCount = 4096, UnalignedChunks = true };
        using var pair = new XskPair(mode, new XskPairOptions { SenderUmem = umem, ReceiverUmem = umem });
        XdpDescriptor[] stream = pair.Stream(Count, TestFrame.MinimumLength);
        for (int i = 1; i < Count; i += 2)
            stream[i].Address -= TestFrame.MinimumLength / 2;
        Task<List<ReceivedPacket>> receiving = pair.StartReceiving(Count);
        Assert.Equal(Count, pair.Send(stream).Count);
        pair.AssertPackets(await receiving, All, _ => TestFrame.MinimumLength);
        Assert.Equal(0UL, pair.Sender.Statistics.TxInvalidDescriptors);
    }

    /// <summary>Every ring of one entry: one packet at a time still goes through.</summary>
    [Theory, AttachModes]
    public void Rings_of_one_entry_still_carry_traffic(XdpAttachMode mode)
    {
        var umem = new UmemOptions { FrameCount = 16, FillRingSize = 1, CompletionRingSize = 1 };
        using var pair = new XskPair(mode, new XskPairOptions
        {
            SenderUmem = umem,
            ReceiverUmem = umem,
            SenderSocket = new XskSocketOptions { RxRingSize = 0, TxRingSize = 1, BindMode = XdpBindMode.Copy },
            ReceiverSocket = new XskSocketOptions { RxRingSize = 1, TxRingSize = 0, BindMode = XdpBindMode.Copy },
        });
        for (int i = 0; i < 32; i++)
        {
            Assert.Single(pair.Send(pair.Stream(1, TestFrame.MinimumLength)));
            pair.AssertPackets(pair.Receive(1), [0], _ => TestFrame.MinimumLength);
        }
        Assert.Equal(default, pair.Receiver.Statistics);
    }
}
