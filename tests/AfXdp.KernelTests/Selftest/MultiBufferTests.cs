using AfXdp.Device;
using AfXdp.Interop;
using AfXdp.Xsk;

namespace AfXdp.KernelTests.Selftest;

/// <summary>
/// xskxceiver's multi-buffer scenarios (XDP_USE_SG, XskSocketOptions.MultiBuffer) in copy mode: packets longer
/// than a frame go out as chains of TX descriptors linked by XDP_PKT_CONTD and arrive as chains of RX
/// descriptors. The MTU is 3000 so that drv mode on veth takes them with the plain redirect program (no
/// BPF_F_XDP_HAS_FRAGS): a packet fits one page for XDP and still spans two 2 KiB frames. The chains are
/// written and read on the raw rings, descriptor by descriptor, as the kernel sees them.
/// </summary>
public sealed class MultiBufferTests
{
    const int Mtu = 3000;
    const int Small = TestFrame.MinimumLength;

    static XskPairOptions Options => new()
    {
        Mtu = Mtu,
        SenderUmem = new UmemOptions { FrameCount = 4096, FrameSize = 2048 },
        ReceiverUmem = new UmemOptions { FrameCount = 4096, FrameSize = 2048 },
        SenderSocket = new XskSocketOptions { RxRingSize = 0, BindMode = XdpBindMode.Copy, MultiBuffer = true },
        ReceiverSocket = new XskSocketOptions { TxRingSize = 0, BindMode = XdpBindMode.Copy, MultiBuffer = true },
    };

    [Theory, AttachModes]
    public async Task Packets_longer_than_a_frame_travel_as_descriptor_chains(XdpAttachMode mode)
    {
        using var pair = new XskPair(mode, Options);
        const int count = 512, length = Mtu;
        var descriptors = new List<XdpDescriptor>();
        for (uint i = 0; i < count; i++)
        {
            descriptors.Add(new XdpDescriptor { Address = pair.SenderUmem.FrameAddress(2 * i), Length = 2048, Options = IfXdp.XDP_PKT_CONTD });
            descriptors.Add(new XdpDescriptor { Address = pair.SenderUmem.FrameAddress(2 * i + 1), Length = length - 2048 });
        }
        Task<List<ReceivedPacket>> receiving = pair.StartReceiving(count);
        Assert.Equal(2 * count, pair.Send(descriptors).Count);
        List<ReceivedPacket> received = await receiving;
        pair.AssertPackets(received, [.. Enumerable.Range(0, count)], _ => length);
        // 2048-byte frames hold 2048 - 256 bytes of a received packet, so each arrives in two.
        Assert.All(received, p => Assert.Equal(2, p.Fragments));
        Assert.Equal(default, pair.Receiver.Statistics);
        Assert.Equal(0UL, pair.Sender.Statistics.TxInvalidDescriptors);
    }

    /// <summary>
    /// A packet of MAX_SKB_FRAGS + 1 descriptors (one linear part, the rest page fragments) is the longest
    /// chain copy mode sends; a chain one descriptor longer is dropped whole, each of its descriptors counted in
    /// tx_invalid_descs, and the packet after it still arrives.
    /// </summary>
    [Theory, AttachModes]
    public async Task A_chain_of_too_many_fragments_is_dropped_whole_and_counted(XdpAttachMode mode)
    {
        int maxFragments = int.Parse(File.ReadAllText("/proc/sys/net/core/max_skb_frags")) + 1;
        using var pair = new XskPair(mode, Options);
        uint frame = 0;
        XdpDescriptor[] Chain(int length) =>
            [.. Enumerable.Range(0, length).Select(i => new XdpDescriptor
            {
                Address = pair.SenderUmem.FrameAddress(frame++),
                Length = Small,
                Options = i < length - 1 ? IfXdp.XDP_PKT_CONTD : 0,
            })];

        XdpDescriptor[] first = Chain(1), longest = Chain(maxFragments), tooLong = Chain(maxFragments + 1), last = Chain(1);
        pair.WritePacket(0, first);
        pair.WritePacket(1, longest);
        pair.WritePacket(2, tooLong);
        pair.WritePacket(3, last);

        Task<List<ReceivedPacket>> receiving = pair.StartReceiving(3);
        XdpDescriptor[] sent = [.. first, .. longest, .. tooLong, .. last];
        List<ulong> completed = pair.SendAsWritten(sent, expectedCompletions: sent.Length - tooLong.Length);
        pair.AssertPackets(await receiving, [0, 1, 3], sequence => sequence == 1 ? maxFragments * Small : Small);
        Assert.Equal((ulong)tooLong.Length, pair.Sender.Statistics.TxInvalidDescriptors);
        // As with other bad descriptors: older kernels give no completion for the dropped chain, 6.18 completes it too.
        ulong[] delivered = [.. first.Concat(longest).Concat(last).Select(d => d.Address)];
        Assert.True(completed.SequenceEqual(delivered) || completed.SequenceEqual(sent.Select(d => d.Address)),
            $"completions (frame numbers): {string.Join(",", completed.Select(a => a / 2048))}");
    }
}
