using AfXdp.Device;
using AfXdp.Xsk;

namespace AfXdp.KernelTests.Selftest;

/// <summary>
/// xskxceiver's invalid-descriptor scenarios: a TX ring mixing good descriptors with bad ones. The kernel
/// must skip each bad one without a completion, count it in tx_invalid_descs, and still send the good ones.
/// Each case says whether the descriptor is valid in aligned 4 KiB, aligned 2 KiB and unaligned mode.
/// </summary>
public sealed class InvalidDescriptorTests
{
    public enum Layout
    {
        Aligned4K,
        Aligned2K,
        Unaligned4K,
        /// <summary>Unaligned 4001-byte frames: the UMEM does not end on a page boundary.</summary>
        Unaligned4001,
    }

    /// <summary>One descriptor: where, how long, and in which layouts the kernel takes it.</summary>
    sealed record Case(string What, Func<ulong, ulong, ulong> Address, uint Length, uint Options, bool Aligned4K, bool Aligned2K, bool Unaligned)
    {
        public bool IsValidIn(Layout layout) => layout switch
        {
            Layout.Aligned4K => Aligned4K,
            Layout.Aligned2K => Aligned2K,
            _ => Unaligned,
        };
    }

    const uint Small = TestFrame.MinimumLength;

    // Address(frameSize, umemSize): frames 0-9 each hold at most one valid case, so no two valid packets overlap.
    static readonly Case[] Cases =
    [
        new("address 0", (f, _) => 0, Small, 0, true, true, true),
        new("a whole frame", (f, _) => 1 * f, Small, 0, true, true, true),
        new("straddling the start of the UMEM", (f, _) => unchecked((ulong)-2), Small, 0, false, false, false),
        new("longer than a frame", (f, _) => 2 * f, 0, 0, false, false, false),
        new("ending at the end of the UMEM", (f, u) => u - Small, Small, 0, true, true, true),
        new("beyond the end of the UMEM", (f, u) => u, Small, 0, false, false, false),
        new("straddling the end of the UMEM", (f, u) => u - Small / 2, Small, 0, false, false, false),
        new("straddling a 4 KiB boundary", (f, _) => 3 * f + 4096 - Small / 2, Small, 0, false, false, true),
        new("straddling a 2 KiB boundary", (f, _) => 5 * f + 2048 - Small / 2, Small, 0, true, false, true),
        new("an unaligned-mode offset in the top 16 bits", (f, _) => (32UL << 48) | (6 * f), Small, 0, false, false, true),
        new("an unknown option bit", (f, _) => 7 * f, Small, 1u << 7, false, false, false),
        new("zero length", (f, _) => 8 * f, 0, 0, false, false, false),
        new("a last valid packet, so that everything before it was processed", (f, _) => 9 * f, Small, 0, true, true, true),
    ];

    [Theory]
    [InlineData(XdpAttachMode.Skb, Layout.Aligned4K)]
    [InlineData(XdpAttachMode.Drv, Layout.Aligned4K)]
    [InlineData(XdpAttachMode.Skb, Layout.Aligned2K)]
    [InlineData(XdpAttachMode.Drv, Layout.Aligned2K)]
    [InlineData(XdpAttachMode.Skb, Layout.Unaligned4K)]
    [InlineData(XdpAttachMode.Drv, Layout.Unaligned4K)]
    [InlineData(XdpAttachMode.Skb, Layout.Unaligned4001)]
    [InlineData(XdpAttachMode.Drv, Layout.Unaligned4001)]
    public async Task Bad_descriptors_are_counted_and_skipped_while_good_ones_arrive(XdpAttachMode mode, Layout layout)
    {
        UmemOptions sender = layout switch
        {
            Layout.Aligned4K => new UmemOptions { FrameCount = 1024 },
            Layout.Aligned2K => new UmemOptions { FrameCount = 1024, FrameSize = 2048 },
            Layout.Unaligned4K => new UmemOptions { FrameCount = 1024, UnalignedChunks = true },
            _ => new UmemOptions { FrameCount = 1024, FrameSize = 4001, UnalignedChunks = true },
        };
        using var pair = new XskPair(mode, new XskPairOptions { SenderUmem = sender });
        XdpDescriptor[] descriptors =
        [
            .. Cases.Select(c => new XdpDescriptor
            {
                Address = c.Address(sender.FrameSize, sender.Size),
                Length = c.What == "longer than a frame" ? sender.FrameSize + 1 : c.Length,
                Options = c.Options,
            }),
        ];
        int[] valid = [.. Cases.Index().Where(c => c.Item.IsValidIn(layout)).Select(c => c.Index)];

        Task<List<ReceivedPacket>> receiving = pair.StartReceiving(valid.Length);
        List<ulong> completed = pair.Send(descriptors, expectedCompletions: valid.Length);
        List<ReceivedPacket> received = await receiving;

        string arrived = string.Join(", ", received.Select(p => Cases[TestFrame.SequenceOf(p.Bytes)].What));
        Assert.True(received.Count == valid.Length, $"{layout}: arrived: {arrived}");
        pair.AssertPackets(received, valid, _ => (int)Small);
        Assert.Equal((ulong)(Cases.Length - valid.Length), pair.Sender.Statistics.TxInvalidDescriptors);
        // Older kernels leave bad descriptors out of the COMPLETION ring; the 6.18 this runs on hands every one back
        // in copy mode, address untouched, in ring order. Either way the good ones complete in order.
        ulong[] validAddresses = [.. valid.Select(i => descriptors[i].Address)];
        ulong[] allAddresses = [.. descriptors.Select(d => d.Address)];
        Assert.True(completed.SequenceEqual(validAddresses, SameFrame) || completed.SequenceEqual(allAddresses, SameFrame),
            $"completions: {string.Join(", ", completed.Select(a => $"0x{a:x}"))}");
    }

    /// <summary>
    /// Linux 6.18's copy mode keeps a sent frame's address in the skb's destructor_arg with bit 0 as a tag and
    /// clears that bit when it completes the frame, so an odd address (unaligned mode) comes back one lower.
    /// </summary>
    static readonly EqualityComparer<ulong> SameFrame = EqualityComparer<ulong>.Create((completed, sent) => completed == sent || completed == (sent & ~1UL));
}
