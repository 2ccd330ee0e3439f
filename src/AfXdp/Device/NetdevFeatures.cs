using System.Buffers.Binary;
using AfXdp.Interop;

namespace AfXdp.Device;

/// <summary>enum netdev_xdp_act (include/uapi/linux/netdev.h): what a driver does with XDP.</summary>
[Flags]
public enum XdpFeatures : ulong
{
    /// <summary>No XDP support in the driver: only generic (skb) mode works.</summary>
    None = 0,
    /// <summary>XDP_PASS, XDP_DROP, XDP_ABORTED, XDP_TX in the driver (native mode).</summary>
    Basic = 1 << 0,
    /// <summary>XDP_REDIRECT in the driver, so native-mode AF_XDP.</summary>
    Redirect = 1 << 1,
    /// <summary>Receives frames redirected from elsewhere (ndo_xdp_xmit).</summary>
    NdoXmit = 1 << 2,
    /// <summary>AF_XDP zero-copy.</summary>
    XskZeroCopy = 1 << 3,
    /// <summary>Programs offloaded to the NIC.</summary>
    HwOffload = 1 << 4,
    /// <summary>Multi-buffer (non-linear) frames in native mode: what jumbo frames need.</summary>
    RxSg = 1 << 5,
    /// <summary>Multi-buffer frames through ndo_xdp_xmit.</summary>
    NdoXmitSg = 1 << 6,
}

/// <summary>enum netdev_xdp_rx_metadata: RX metadata an XDP program can ask the driver for (kfuncs).</summary>
[Flags]
public enum XdpRxMetadataFeatures : ulong
{
    /// <summary>The driver provides no RX metadata.</summary>
    None = 0,
    /// <summary>The hardware RX timestamp (NETDEV_XDP_RX_METADATA_TIMESTAMP, bpf_xdp_metadata_rx_timestamp).</summary>
    Timestamp = 1 << 0,
    /// <summary>The RX hash and its type (NETDEV_XDP_RX_METADATA_HASH, bpf_xdp_metadata_rx_hash).</summary>
    Hash = 1 << 1,
    /// <summary>The stripped VLAN tag (NETDEV_XDP_RX_METADATA_VLAN_TAG, bpf_xdp_metadata_rx_vlan_tag).</summary>
    VlanTag = 1 << 2,
}

/// <summary>enum netdev_xsk_flags: the TX metadata requests a driver serves in zero-copy mode.</summary>
[Flags]
public enum XskFeatures : ulong
{
    /// <summary>The driver serves no TX metadata request in zero-copy mode.</summary>
    None = 0,
    /// <summary>TX completion timestamps (NETDEV_XSK_FLAGS_TX_TIMESTAMP).</summary>
    TxTimestamp = 1 << 0,
    /// <summary>TX checksum offload (NETDEV_XSK_FLAGS_TX_CHECKSUM).</summary>
    TxChecksum = 1 << 1,
    /// <summary>Launch time, sent in FIFO order (NETDEV_XSK_FLAGS_TX_LAUNCH_TIME_FIFO).</summary>
    TxLaunchTimeFifo = 1 << 2,
}

/// <summary>
/// What a device's driver supports for XDP and AF_XDP, as the kernel's netdev netlink family
/// reports it (NETDEV_CMD_DEV_GET, kernel 6.3+; `ynl --family netdev --do dev-get` shows the same).
/// </summary>
/// <param name="InterfaceIndex">The device asked about.</param>
/// <param name="Xdp">XDP actions and modes of the driver (NETDEV_A_DEV_XDP_FEATURES).</param>
/// <param name="RxMetadata">RX metadata kfuncs the driver implements.</param>
/// <param name="Xsk">TX metadata requests the driver serves in zero-copy mode; copy mode serves checksum and timestamp requests in software whatever this says.</param>
/// <param name="ZeroCopyMaxSegments">Most descriptors per packet in zero-copy mode; 0 without zero-copy.</param>
public sealed record NetdevFeatures(int InterfaceIndex, XdpFeatures Xdp, XdpRxMetadataFeatures RxMetadata, XskFeatures Xsk, uint ZeroCopyMaxSegments)
{
    const byte NETDEV_CMD_DEV_GET = 1;
    const byte NETDEV_FAMILY_VERSION = 1;
    const ushort NETDEV_A_DEV_IFINDEX = 1;
    const ushort NETDEV_A_DEV_XDP_FEATURES = 3;
    const ushort NETDEV_A_DEV_XDP_ZC_MAX_SEGS = 4;
    const ushort NETDEV_A_DEV_XDP_RX_METADATA_FEATURES = 5;
    const ushort NETDEV_A_DEV_XSK_FEATURES = 6;

    /// <summary>The features of interface <paramref name="name"/> in this network namespace.</summary>
    public static NetdevFeatures Get(string name) => Get(NetDevice.IndexOf(name));

    /// <summary>The features of the interface with index <paramref name="ifindex"/> in this network namespace.</summary>
    public static NetdevFeatures Get(int ifindex)
    {
        string call = $"genetlink netdev NETDEV_CMD_DEV_GET(ifindex {ifindex})";
        using var netlink = new GenericNetlink();
        ushort family = 0;
        try
        {
            family = netlink.FamilyId("netdev");
        }
        catch (NetlinkException e) when (e.Errno == Errno.ENOENT)
        {
            Throw.Kernel(e.Call, e.Errno, "the kernel has no netdev netlink family (added in 6.3), so it cannot say what the driver supports.",
                "use kernel 6.3 or later, or look the features up in the driver's documentation.");
        }
        Dictionary<ushort, byte[]> answer = [];
        try
        {
            Span<byte> index = stackalloc byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(index, ifindex);
            answer = netlink.Request(family, NETDEV_CMD_DEV_GET, NETDEV_FAMILY_VERSION, NETDEV_A_DEV_IFINDEX, index, call);
        }
        catch (NetlinkException e)
        {
            Throw.Kernel(e.Call, e.Errno, e.ExtendedAck.Length > 0 ? $"the kernel says: {e.ExtendedAck}." : "the kernel refused the request.",
                "check the interface exists in this namespace (`ip -br link`).");
        }
        return new NetdevFeatures(ifindex, (XdpFeatures)U64(answer, NETDEV_A_DEV_XDP_FEATURES), (XdpRxMetadataFeatures)U64(answer, NETDEV_A_DEV_XDP_RX_METADATA_FEATURES),
            (XskFeatures)U64(answer, NETDEV_A_DEV_XSK_FEATURES), (uint)U64(answer, NETDEV_A_DEV_XDP_ZC_MAX_SEGS));
    }

    static ulong U64(Dictionary<ushort, byte[]> attributes, ushort type) =>
        !attributes.TryGetValue(type, out byte[]? v) ? 0
        : v.Length >= 8 ? BinaryPrimitives.ReadUInt64LittleEndian(v)
        : v.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(v)
        : 0;
}
