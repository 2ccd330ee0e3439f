using System.Runtime.InteropServices;

namespace AfXdp.Xsk;

/// <summary>What an <see cref="XskTxMetadata"/> asks of the device (XDP_TXMD_FLAGS_*).</summary>
[Flags]
public enum TxMetadataRequests : ulong
{
    /// <summary>No request: the packet is sent as it is.</summary>
    None = 0,
    /// <summary>XDP_TXMD_FLAGS_TIMESTAMP: write the time the packet left into <see cref="XskTxMetadata.TxTimestamp"/> before completing it.</summary>
    Timestamp = 1 << 0,
    /// <summary>XDP_TXMD_FLAGS_CHECKSUM: fill in the checksum at <see cref="XskTxMetadata.ChecksumStart"/> + <see cref="XskTxMetadata.ChecksumOffset"/>.</summary>
    Checksum = 1 << 1,
    /// <summary>XDP_TXMD_FLAGS_LAUNCH_TIME: send at <see cref="XskTxMetadata.LaunchTime"/> (devices with launch-time offload).</summary>
    LaunchTime = 1 << 2,
}

/// <summary>
/// struct xsk_tx_metadata (include/uapi/linux/if_xdp.h, 24 bytes): offload requests for one packet
/// to send, written in the <see cref="UmemOptions.TxMetadataLength"/> bytes in front of its data
/// (<see cref="Umem.TxMetadataAt"/>) and announced by <see cref="XdpDescriptor.HasTxMetadata"/>.
/// The request and the completion share memory: once the frame is back on the COMPLETION ring,
/// <see cref="TxTimestamp"/> holds the timestamp where one was asked for.
/// </summary>
/// <remarks>
/// In copy mode (every device, veth included) the kernel serves the requests itself
/// (net/xdp/xsk.c, xsk_skb_metadata): a checksum request makes the packet CHECKSUM_PARTIAL, which the
/// device or, with <see cref="UmemOptions.TxSoftwareChecksum"/>, the kernel completes; a timestamp
/// request gets a software timestamp (CLOCK_TAI) when the packet is freed after sending. In
/// zero-copy mode only drivers that list the feature (<see cref="Device.NetdevFeatures.Xsk"/>)
/// honour a request; others ignore it.
/// </remarks>
[StructLayout(LayoutKind.Explicit, Size = Size)]
public struct XskTxMetadata
{
    /// <summary>sizeof(struct xsk_tx_metadata): the smallest <see cref="UmemOptions.TxMetadataLength"/> that holds it.</summary>
    public const int Size = 24;

    /// <summary>The offloads asked for (the request's flags field).</summary>
    [FieldOffset(0)] public TxMetadataRequests Requests;

    /// <summary>Where checksumming starts, from the packet's first byte (e.g. the UDP header).</summary>
    [FieldOffset(8)] public ushort ChecksumStart;

    /// <summary>Where the checksum goes, from <see cref="ChecksumStart"/> (6 for UDP, 16 for TCP).</summary>
    [FieldOffset(10)] public ushort ChecksumOffset;

    /// <summary>When to send, in the device's clock (LAUNCH_TIME requests).</summary>
    [FieldOffset(16)] public ulong LaunchTime;

    /// <summary>The completion: the send time in nanoseconds (TIMESTAMP requests; copy mode gives CLOCK_TAI). Overlays the checksum fields.</summary>
    [FieldOffset(8)] public ulong TxTimestamp;

    /// <summary>
    /// Asks the device to compute the checksum over the packet from <paramref name="start"/> to its
    /// end and store it at <paramref name="start"/> + <paramref name="offset"/>. The field must hold the
    /// pseudo-header sum first, as for any checksum offload (<see cref="Net.UdpDatagram.PrepareChecksumOffload"/>).
    /// </summary>
    public void RequestChecksum(int start, int offset)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(start, ushort.MaxValue);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset, ushort.MaxValue);
        Requests |= TxMetadataRequests.Checksum;
        ChecksumStart = (ushort)start;
        ChecksumOffset = (ushort)offset;
    }
}
