using System.Runtime.InteropServices;
using AfXdp.Interop;

namespace AfXdp.Xsk;

/// <summary>One RX or TX ring entry: struct xdp_desc (16 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct XdpDescriptor
{
    /// <summary>
    /// XDP_PKT_CONTD: the packet goes on in the next descriptor (multi-buffer, <see cref="XskSocketOptions.MultiBuffer"/>).
    /// Set by the kernel on RX, by the application on TX, on every descriptor of a packet but the last.
    /// </summary>
    public const uint PacketContinues = IfXdp.XDP_PKT_CONTD;

    /// <summary>XDP_TX_METADATA: an <see cref="XskTxMetadata"/> precedes the packet data (TX, first descriptor of a packet).</summary>
    public const uint HasTxMetadata = IfXdp.XDP_TX_METADATA;

    /// <summary>Frame address: offset into the UMEM (in unaligned mode the high 16 bits carry an offset).</summary>
    public ulong Address;

    /// <summary>Bytes of packet data at <see cref="Address"/>.</summary>
    public uint Length;

    /// <summary><see cref="PacketContinues"/>, <see cref="HasTxMetadata"/>.</summary>
    public uint Options;

    /// <summary>True when the next descriptor carries more of the same packet.</summary>
    public readonly bool Continues => (Options & PacketContinues) != 0;
}
