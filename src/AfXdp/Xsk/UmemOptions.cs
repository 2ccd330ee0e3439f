namespace AfXdp.Xsk;

/// <summary>How the UMEM's memory is backed.</summary>
public enum HugePages
{
    /// <summary>Ordinary 4 KiB pages.</summary>
    Never,
    /// <summary>2 MiB huge pages when the system has enough free (vm.nr_hugepages), else ordinary pages.</summary>
    IfAvailable,
    /// <summary>2 MiB huge pages or an error.</summary>
    Required,
}

/// <summary>
/// The shape of a UMEM. <see cref="Validate"/> (called by <see cref="Umem"/>) rejects bad values with
/// a message before any syscall, where the kernel would only say EINVAL.
/// </summary>
public sealed record UmemOptions
{
    /// <summary>Smallest chunk the kernel accepts (XDP_UMEM_MIN_CHUNK_SIZE).</summary>
    public const uint MinFrameSize = 2048;

    /// <summary>Headroom the kernel reserves in front of every frame (XDP_PACKET_HEADROOM).</summary>
    public const uint KernelHeadroom = 256;

    /// <summary>
    /// Bytes at the end of every frame that headroom may not reach: skb_shared_info (320 on 64-bit) plus 128.
    /// xdp_umem_reg enforces it since a 2026 fix (in 6.18 stable), so that a frame can still become an skb.
    /// </summary>
    public const uint KernelTailroom = 448;

    /// <summary>Number of frames (chunks) in the UMEM.</summary>
    public uint FrameCount { get; init; } = 4096;

    /// <summary>Bytes per frame: 2048 or 4096 in aligned mode; 2048 up to the page size with <see cref="UnalignedChunks"/>.</summary>
    public uint FrameSize { get; init; } = 4096;

    /// <summary>Bytes the kernel leaves free in front of the packet data in every frame (for encapsulation).</summary>
    public uint Headroom { get; init; }

    /// <summary>FILL ring entries (a power of two).</summary>
    public uint FillRingSize { get; init; } = 2048;

    /// <summary>COMPLETION ring entries (a power of two).</summary>
    public uint CompletionRingSize { get; init; } = 2048;

    /// <summary>XDP_UMEM_UNALIGNED_CHUNK_FLAG: buffers may start anywhere, frames need not be a power of two.</summary>
    public bool UnalignedChunks { get; init; }

    /// <summary>Bytes of TX metadata (struct xsk_tx_metadata) in front of each TX packet; 0 or a multiple of 8 below 256.</summary>
    public uint TxMetadataLength { get; init; }

    /// <summary>
    /// XDP_UMEM_TX_SW_CSUM (kernel 6.11+): the kernel computes requested checksums in software
    /// instead of leaving them to the device, in copy mode for every device; needs TX metadata
    /// (<see cref="TxMetadataLength"/> of at least <see cref="XskTxMetadata.Size"/>). Meant for testing.
    /// </summary>
    public bool TxSoftwareChecksum { get; init; }

    /// <summary>Whether to back the packet memory with 2 MiB huge pages (never, by default).</summary>
    public HugePages HugePages { get; init; } = HugePages.Never;

    /// <summary>Back the memory with a memfd mapped shared, so that another process can map it (<see cref="Umem.CreateShareable"/>).</summary>
    public bool Shareable { get; init; }

    /// <summary>Total bytes of packet memory.</summary>
    public ulong Size => (ulong)FrameCount * FrameSize;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first bad value and how to fix it.</summary>
    public void Validate()
    {
        if (FrameCount == 0)
            Throw.OutOfRange(nameof(FrameCount), "UmemOptions.FrameCount = 0", "a UMEM needs at least one frame.", "use e.g. 4096 frames.");
        if (!UnalignedChunks && FrameSize is not (2048 or 4096))
            Throw.OutOfRange(nameof(FrameSize), $"UmemOptions.FrameSize = {FrameSize}",
                "in aligned mode the kernel accepts only a power-of-two frame size from 2048 to the page size (4096).",
                "use 2048 or 4096, or set UnalignedChunks = true for other sizes.");
        if (UnalignedChunks && (FrameSize < MinFrameSize || FrameSize > Environment.SystemPageSize))
            Throw.OutOfRange(nameof(FrameSize), $"UmemOptions.FrameSize = {FrameSize}",
                $"the kernel accepts frame sizes from {MinFrameSize} to the page size ({Environment.SystemPageSize}).",
                $"use a size between {MinFrameSize} and {Environment.SystemPageSize}.");
        // In 64 bits: a huge Headroom must not wrap around into an accepted value.
        if ((ulong)Headroom + TxMetadataLength > (ulong)FrameSize - KernelHeadroom - KernelTailroom)
            Throw.OutOfRange(nameof(Headroom), $"UmemOptions.Headroom = {Headroom}",
                $"headroom plus TX metadata must leave room for a packet between the kernel's own {KernelHeadroom} bytes in front and {KernelTailroom} behind in a {FrameSize}-byte frame.",
                $"keep Headroom + TxMetadataLength at most {FrameSize - KernelHeadroom - KernelTailroom}.");
        if (TxMetadataLength >= 256 || TxMetadataLength % 8 != 0)
            Throw.OutOfRange(nameof(TxMetadataLength), $"UmemOptions.TxMetadataLength = {TxMetadataLength}",
                "the kernel accepts TX metadata lengths that are multiples of 8 below 256.",
                "use 0, or 8/16/24 ... up to 248 (struct xsk_tx_metadata is 24 bytes).");
        if (TxSoftwareChecksum && TxMetadataLength < XskTxMetadata.Size)
            Throw.Argument(nameof(TxMetadataLength), $"UmemOptions {{ TxSoftwareChecksum = true, TxMetadataLength = {TxMetadataLength} }}",
                "software checksums are requested per packet in its TX metadata, and there is no room for struct xsk_tx_metadata.",
                $"set TxMetadataLength = {XskTxMetadata.Size}.");
        RingSize.Validate(nameof(FillRingSize), FillRingSize);
        RingSize.Validate(nameof(CompletionRingSize), CompletionRingSize);
        if (Size > (ulong)long.MaxValue)
            Throw.OutOfRange(nameof(FrameCount), $"UmemOptions.FrameCount = {FrameCount}", "the UMEM would be larger than the address space.", "use fewer frames.");
    }
}

internal static class RingSize
{
    /// <summary>The kernel's limit on ring entries (xskq_create rejects sizes whose byte size overflows).</summary>
    public const uint Max = 1u << 24;

    /// <summary>Returns <paramref name="size"/> when it is a valid ring size; throws naming <paramref name="name"/> otherwise.</summary>
    public static uint Checked(string name, uint size, bool zeroAllowed = false)
    {
        Validate(name, size, zeroAllowed);
        return size;
    }

    public static void Validate(string name, uint size, bool zeroAllowed = false)
    {
        if (size == 0 && zeroAllowed)
            return;
        if (size == 0 || (size & (size - 1)) != 0 || size > Max)
            Throw.OutOfRange(name[(name.LastIndexOf('.') + 1)..], $"{name} = {size}",
                "ring sizes must be a power of two (the kernel masks indices with size - 1).",
                $"use a power of two such as 512, 1024, 2048 or 4096 (at most {Max}){(zeroAllowed ? ", or 0 for no ring" : "")}.");
    }
}
