using System.Runtime.InteropServices;

namespace AfXdp.Interop;

// include/uapi/linux/if_xdp.h, with the kernel's names; sizes and offsets are asserted in tests.

/// <summary>struct sockaddr_xdp (16 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct sockaddr_xdp
{
    public ushort sxdp_family;
    public ushort sxdp_flags;
    public uint sxdp_ifindex;
    public uint sxdp_queue_id;
    public uint sxdp_shared_umem_fd;
}

/// <summary>struct xdp_ring_offset (32 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct xdp_ring_offset
{
    public ulong producer;
    public ulong consumer;
    public ulong desc;
    public ulong flags;
}

/// <summary>struct xdp_mmap_offsets (128 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct xdp_mmap_offsets
{
    public xdp_ring_offset rx;
    public xdp_ring_offset tx;
    public xdp_ring_offset fr;
    public xdp_ring_offset cr;
}

/// <summary>struct xdp_umem_reg (32 bytes since 6.8 with tx_metadata_len).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct xdp_umem_reg
{
    public ulong addr;
    public ulong len;
    public uint chunk_size;
    public uint headroom;
    public uint flags;
    public uint tx_metadata_len;
}

/// <summary>struct xdp_statistics (48 bytes since 5.9).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct xdp_statistics
{
    public ulong rx_dropped;
    public ulong rx_invalid_descs;
    public ulong tx_invalid_descs;
    public ulong rx_ring_full;
    public ulong rx_fill_ring_empty_descs;
    public ulong tx_ring_empty_descs;
}

/// <summary>struct xdp_options (4 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct xdp_options
{
    public uint flags;
}

internal static class IfXdp
{
    public const int AF_XDP = 44;
    public const int SOL_XDP = 283;

    // sxdp_flags
    public const ushort XDP_SHARED_UMEM = 1 << 0;
    public const ushort XDP_COPY = 1 << 1;
    public const ushort XDP_ZEROCOPY = 1 << 2;
    public const ushort XDP_USE_NEED_WAKEUP = 1 << 3;
    public const ushort XDP_USE_SG = 1 << 4;

    // xdp_umem_reg.flags
    public const uint XDP_UMEM_UNALIGNED_CHUNK_FLAG = 1 << 0;
    public const uint XDP_UMEM_TX_SW_CSUM = 1 << 1;
    public const uint XDP_UMEM_TX_METADATA_LEN = 1 << 2;

    public const uint XDP_RING_NEED_WAKEUP = 1 << 0;

    // getsockopt/setsockopt names at SOL_XDP
    public const int XDP_MMAP_OFFSETS = 1;
    public const int XDP_RX_RING = 2;
    public const int XDP_TX_RING = 3;
    public const int XDP_UMEM_REG = 4;
    public const int XDP_UMEM_FILL_RING = 5;
    public const int XDP_UMEM_COMPLETION_RING = 6;
    public const int XDP_STATISTICS = 7;
    public const int XDP_OPTIONS = 8;
    public const int XDP_MAX_TX_SKB_BUDGET = 9; // Linux 6.17+

    public const uint XDP_OPTIONS_ZEROCOPY = 1 << 0;

    // mmap offsets of the rings
    public const long XDP_PGOFF_RX_RING = 0;
    public const long XDP_PGOFF_TX_RING = 0x80000000;
    public const long XDP_UMEM_PGOFF_FILL_RING = 0x100000000;
    public const long XDP_UMEM_PGOFF_COMPLETION_RING = 0x180000000;

    public const int XSK_UNALIGNED_BUF_OFFSET_SHIFT = 48;
    public const ulong XSK_UNALIGNED_BUF_ADDR_MASK = (1UL << XSK_UNALIGNED_BUF_OFFSET_SHIFT) - 1;

    // xdp_desc.options
    public const uint XDP_PKT_CONTD = 1 << 0;
    public const uint XDP_TX_METADATA = 1 << 1;
}
