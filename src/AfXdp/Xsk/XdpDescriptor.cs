using System.Runtime.InteropServices;

namespace AfXdp.Xsk;

/// <summary>One RX or TX ring entry: struct xdp_desc (16 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct XdpDescriptor
{
    /// <summary>Frame address: offset into the UMEM (in unaligned mode the high 16 bits carry an offset).</summary>
    public ulong Address;

    /// <summary>Bytes of packet data at <see cref="Address"/>.</summary>
    public uint Length;

    /// <summary>XDP_PKT_CONTD, XDP_TX_METADATA.</summary>
    public uint Options;
}
