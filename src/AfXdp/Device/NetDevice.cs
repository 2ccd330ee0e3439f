using System.Buffers.Binary;
using System.Text;
using AfXdp.Interop;

namespace AfXdp.Device;

/// <summary>Where an XDP program runs on a device.</summary>
public enum XdpAttachMode
{
    /// <summary>Native (driver) mode when the driver supports it, else generic.</summary>
    Auto = 0,
    /// <summary>Generic XDP (xdpgeneric) on the skb path: works on every device, slower.</summary>
    Skb = 2,
    /// <summary>Native XDP in the driver (xdpdrv).</summary>
    Drv = 4,
    /// <summary>Offloaded to the NIC.</summary>
    Hw = 8,
}

/// <summary>The XDP program(s) the kernel reports on a device (IFLA_XDP); ids are 0 where none.</summary>
public readonly record struct XdpAttachment(uint DrvProgramId, uint SkbProgramId, uint HwProgramId)
{
    /// <summary>True when a program is attached in any mode (driver, generic or offload).</summary>
    public bool Any => DrvProgramId != 0 || SkbProgramId != 0 || HwProgramId != 0;

    /// <summary>The first attached program and its mode, for messages.</summary>
    public (uint Id, XdpAttachMode Mode) First =>
        DrvProgramId != 0 ? (DrvProgramId, XdpAttachMode.Drv)
        : SkbProgramId != 0 ? (SkbProgramId, XdpAttachMode.Skb)
        : (HwProgramId, XdpAttachMode.Hw);

    /// <summary>The id of the program attached in <paramref name="mode"/>, 0 when none; for <see cref="XdpAttachMode.Auto"/>, the id of <see cref="First"/>.</summary>
    public uint ProgramIn(XdpAttachMode mode) => mode switch
    {
        XdpAttachMode.Drv => DrvProgramId,
        XdpAttachMode.Skb => SkbProgramId,
        XdpAttachMode.Hw => HwProgramId,
        _ => First.Id,
    };
}

/// <summary>A network interface of the calling thread's network namespace, as the kernel reports it.</summary>
public sealed record NetDevice(string Name, int Index, uint RxQueues, uint TxQueues, XdpAttachment Xdp)
{
    /// <summary>The link-layer address (IFLA_ADDRESS), 6 bytes on Ethernet.</summary>
    public byte[] HardwareAddress { get; init; } = [];

    /// <summary>The MTU in bytes (IFLA_MTU), 0 when the kernel does not report one.</summary>
    public uint Mtu { get; init; }

    /// <summary>The RFC 2863 operational state (IFLA_OPERSTATE): "up", "down", "lowerlayerdown", "unknown", ...</summary>
    public string OperationalState { get; init; } = "unknown";

    /// <summary>Queues an AF_XDP socket may bind to (the kernel checks against the larger count).</summary>
    public uint QueueCount => Math.Max(RxQueues, TxQueues);

    /// <summary>if_nametoindex(3), with the error a user can act on.</summary>
    public static int IndexOf(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (Encoding.UTF8.GetByteCount(name) > 15)
            Throw.Argument(nameof(name), $"interface \"{name}\"", "interface names have at most 15 bytes (IFNAMSIZ - 1).", "check the name with `ip -br link`.");
        uint index = Sys.IfNameToIndex(name);
        if (index == 0)
        {
            int errno = Sys.LastErrno;
            Throw.Kernel($"if_nametoindex(\"{name}\")", errno == 0 ? Errno.ENODEV : errno,
                $"there is no interface \"{name}\" in this network namespace.",
                "check the name with `ip -br link`; for an interface in another namespace, run inside it (`ip netns exec NS ...` or NetworkNamespace.Run).");
        }
        return (int)index;
    }

    /// <summary>The driver (ETHTOOL_GDRVINFO); null when the device answers no ethtool requests.</summary>
    public unsafe DeviceDriver? QueryDriver()
    {
        ethtool_drvinfo info = new() { cmd = Sys.ETHTOOL_GDRVINFO };
        if (Sys.Ethtool(Name, &info) != 0)
            return null;
        return new DeviceDriver(Sys.CString(info.driver, 32), Sys.CString(info.version, 32), Sys.CString(info.bus_info, 32));
    }

    /// <summary>The channel (queue) counts and their maxima (ETHTOOL_GCHANNELS); null when the driver does not say.</summary>
    public unsafe DeviceChannels? QueryChannels()
    {
        ethtool_channels channels = new() { cmd = Sys.ETHTOOL_GCHANNELS };
        if (Sys.Ethtool(Name, &channels) != 0)
            return null;
        return new DeviceChannels(channels.rx_count, channels.tx_count, channels.combined_count, channels.max_rx, channels.max_tx, channels.max_combined);
    }

    /// <summary>
    /// Queues a socket can bind to: the active ones (real_num_rx/tx_queues, which bind checks), from
    /// the driver's channel counts; netlink reports only the allocated ones (<see cref="QueueCount"/>).
    /// A default veth has 2 allocated and 1 active.
    /// </summary>
    public uint QueryActiveQueues() => ActiveQueues(QueryChannels());

    uint ActiveQueues(DeviceChannels? channels) =>
        channels is { } c && c.Combined + Math.Max(c.Rx, c.Tx) > 0 ? Math.Min(c.Combined + Math.Max(c.Rx, c.Tx), QueueCount) : QueueCount;

    /// <summary>Throws (EINVAL, as bind would), naming the active queues and how to add some, when <paramref name="queue"/> is not in use.</summary>
    public void CheckQueueInUse(uint queue, string call)
    {
        // EINVAL: what bind(2) would answer (xsk_bind checks real_num_rx/tx_queues), said before the syscall with the reason.
        if (QueryQueueProblem(queue) is { } problem)
            Throw.Kernel(call, Interop.Errno.EINVAL, problem.Cause, problem.Fix);
    }

    /// <summary>Why <paramref name="queue"/> cannot be bound (cause, fix), or null when it is active.</summary>
    public (string Cause, string Fix)? QueryQueueProblem(uint queue)
    {
        DeviceChannels? channels = QueryChannels();
        uint active = ActiveQueues(channels);
        if (queue < active)
            return null;
        uint max = channels is { } ch ? Math.Max(ch.MaxCombined + Math.Max(ch.MaxRx, ch.MaxTx), QueueCount) : QueueCount;
        string cause = $"queue {queue} is not in use: {Name} has {active} active queue{(active == 1 ? "" : "s")} (0{(active > 1 ? $" to {active - 1}" : "")}){(QueueCount > active ? $" of {QueueCount} allocated" : "")}.";
        string raise = channels is { MaxCombined: > 0 } ? $"combined {queue + 1}" : $"rx {queue + 1} tx {queue + 1}";
        string fix = queue < max
            ? $"use a queue below {active}, or raise the active queues with `ethtool -L {Name} {raise}`."
            : $"use a queue below {active}; {Name} cannot have more than {max}.";
        return (cause, fix);
    }

    /// <summary>Looks the interface up by name (RTM_GETLINK).</summary>
    public static NetDevice Get(string name) => Get(IndexOf(name));

    /// <summary>Looks the interface up by index (RTM_GETLINK).</summary>
    public static NetDevice Get(int index)
    {
        if (index <= 0)
            Throw.OutOfRange(nameof(index), $"interface index {index}", "interface indices start at 1 (if_nametoindex returns 0 for \"no such interface\").",
                "look the interface up by name, or take the index from `ip -br link` in its namespace.");
        using var netlink = new NetlinkRoute();
        Dictionary<ushort, byte[]> link;
        Dictionary<ushort, byte[]> xdp;
        try
        {
            link = netlink.GetLink(index, out xdp);
        }
        catch (NetlinkException e)
        {
            Throw.Errno(e.Call, e.Errno);
            throw;
        }
        string name = link.TryGetValue(NetlinkRoute.IFLA_IFNAME, out byte[]? n) ? Encoding.UTF8.GetString(n).TrimEnd('\0') : $"if{index}";
        return new NetDevice(name, index, U32(link, NetlinkRoute.IFLA_NUM_RX_QUEUES, 1), U32(link, NetlinkRoute.IFLA_NUM_TX_QUEUES, 1),
            // rtnl_xdp_report_one reports every mode's program id, whether one or several are attached.
            new XdpAttachment(U32(xdp, NetlinkRoute.IFLA_XDP_DRV_PROG_ID, 0), U32(xdp, NetlinkRoute.IFLA_XDP_SKB_PROG_ID, 0), U32(xdp, NetlinkRoute.IFLA_XDP_HW_PROG_ID, 0)))
        {
            HardwareAddress = link.TryGetValue(NetlinkRoute.IFLA_ADDRESS, out byte[]? mac) ? mac : [],
            Mtu = U32(link, NetlinkRoute.IFLA_MTU, 0),
            OperationalState = link.TryGetValue(NetlinkRoute.IFLA_OPERSTATE, out byte[]? state) && state.Length > 0 ? OperationalStates.ElementAtOrDefault(state[0]) ?? "unknown" : "unknown",
        };
    }

    // IF_OPER_* (include/uapi/linux/if.h), in order.
    static readonly string[] OperationalStates = ["unknown", "notpresent", "down", "lowerlayerdown", "testing", "dormant", "up"];

    static uint U32(Dictionary<ushort, byte[]> attributes, ushort type, uint fallback) =>
        attributes.TryGetValue(type, out byte[]? v) && v.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(v) : fallback;
}

/// <summary>A network device's driver, as `ethtool -i` prints it.</summary>
public sealed record DeviceDriver(string Name, string Version, string BusInfo)
{
    /// <summary>
    /// True for the drivers whose XDP hook can see a UDP or TCP checksum still left for offload: the field
    /// holds only the pseudo-header sum (CHECKSUM_PARTIAL), which the kernel's stack trusts by the skb's flag
    /// but an AF_XDP socket receives without it. They hand a frame sent by a stack on the same machine over
    /// unfinished: veth (veth_xmit passes the sender's skb, and veth_xdp_rcv_skb runs XDP on it as it is),
    /// macvlan in bridge mode and ipvlan (dev_forward_skb to a sibling, then generic XDP), and tun/tap
    /// (tun_build_skb runs XDP on what the writer, e.g. a VM's vhost-net, marked VIRTIO_NET_HDR_F_NEEDS_CSUM).
    /// Not virtio_net: loading XDP clears the guest's checksum offload (virtnet_xdp_set), so the host finishes them.
    /// A physical NIC receives what the wire carried, finished.
    /// </summary>
    public bool HandsOverPartialChecksums => Name is "veth" or "macvlan" or "ipvlan" or "tun";
}

/// <summary>A network device's channels (queue pairs and single-direction queues), as `ethtool -l` prints them.</summary>
public readonly record struct DeviceChannels(uint Rx, uint Tx, uint Combined, uint MaxRx, uint MaxTx, uint MaxCombined)
{
    /// <summary>The counts and their maxima, in `ethtool -l` order: combined, rx, tx.</summary>
    public override string ToString() => $"combined {Combined} (max {MaxCombined}), rx {Rx} (max {MaxRx}), tx {Tx} (max {MaxTx})";
}
