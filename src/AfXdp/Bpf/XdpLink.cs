using AfXdp.Device;
using AfXdp.Interop;

namespace AfXdp.Bpf;

/// <summary>
/// An XDP program attached to an interface. By default a bpf_link (BPF_LINK_CREATE): the kernel
/// detaches it when the last fd closes, so even kill -9 leaves nothing behind. Where the kernel
/// has no XDP links (before 5.9) it falls back to netlink IFLA_XDP, detached by Dispose only.
/// </summary>
public sealed unsafe class XdpLink : IDisposable
{
    readonly SafeFd? _link;
    readonly uint _netlinkFlags;
    bool _disposed;

    XdpLink(SafeFd? link, int ifindex, string ifName, XdpAttachMode mode, uint programId, uint netlinkFlags)
    {
        _link = link;
        InterfaceIndex = ifindex;
        InterfaceName = ifName;
        Mode = mode;
        ProgramId = programId;
        _netlinkFlags = netlinkFlags;
    }

    /// <summary>The interface the program is attached to, by index in its network namespace.</summary>
    public int InterfaceIndex { get; }

    /// <summary>The interface's name at attach time.</summary>
    public string InterfaceName { get; }

    /// <summary>The mode the program actually runs in (Auto resolved by asking the kernel).</summary>
    public XdpAttachMode Mode { get; }

    /// <summary>The kernel's id of the attached program.</summary>
    public uint ProgramId { get; }

    /// <summary>True for a bpf_link (detached by the kernel when the process dies); false for a netlink attachment.</summary>
    public bool IsBpfLink => _link is not null;

    const uint XDP_FLAGS_UPDATE_IF_NOEXIST = 1;

    /// <summary>
    /// False once the program is no longer attached by this link: a bpf_link detached by someone else
    /// (BPF_LINK_DETACH: `bpftool link detach`, `afxdp detach --force`) or whose interface went away
    /// reports interface 0; a netlink attachment is compared with the program the interface reports.
    /// For a bpf_link, one bpf() call that allocates nothing.
    /// </summary>
    public bool IsAttached() => !_disposed && (_link is null ? NetlinkProgramId() == ProgramId : LinkInfo().xdp_ifindex != 0);

    /// <summary>The id of the bpf_link (as `bpftool link show` lists it); 0 for a netlink attachment.</summary>
    public uint LinkId => _link is null ? 0 : LinkInfo().id;

    bpf_link_info LinkInfo()
    {
        bpf_link_info info = default;
        var attr = new bpf_attr_info { bpf_fd = (uint)_link!.Fd, info_len = (uint)sizeof(bpf_link_info), info = (ulong)&info };
        if (Sys.Bpf(Sys.BPF_OBJ_GET_INFO_BY_FD, ref attr, out int errno) < 0)
            Throw.Errno($"bpf(BPF_OBJ_GET_INFO_BY_FD, XDP link of program {ProgramId})", errno);
        return info;
    }

    uint NetlinkProgramId()
    {
        try
        {
            return NetDevice.Get(InterfaceIndex).Xdp.ProgramIn(Mode);
        }
        catch (AfXdpException)
        {
            return 0; // the interface is gone, and the attachment with it
        }
    }

    /// <summary>
    /// Attaches <paramref name="program"/> to the interface. Refuses (with
    /// <see cref="XdpProgramConflictException"/>) when another program is attached, unless
    /// <paramref name="replaceExisting"/>, which detaches a netlink-attached program first.
    /// </summary>
    public static XdpLink Attach(BpfProgram program, int ifindex, XdpAttachMode mode, bool replaceExisting = false) =>
        Attach(program, ifindex, mode, replaceExisting, linksSupported: true);

    /// <summary>
    /// <see cref="Attach(BpfProgram, int, XdpAttachMode, bool)"/>; with <paramref name="linksSupported"/> false,
    /// BPF_LINK_CREATE is answered as a kernel before 5.9 answers it (EINVAL: no bpf_link for XDP), so that
    /// tests reach the netlink fallback on a kernel that has links.
    /// </summary>
    internal static XdpLink Attach(BpfProgram program, int ifindex, XdpAttachMode mode, bool replaceExisting, bool linksSupported)
    {
        ArgumentNullException.ThrowIfNull(program);
        if (!Enum.IsDefined(mode))
            Throw.OutOfRange(nameof(mode), $"XdpLink.Attach(\"{program.Name}\", mode: {(int)mode})", "the mode is not an XdpAttachMode (the kernel would read it as flags).",
                "use XdpAttachMode.Auto, Skb, Drv or Hw.");
        NetDevice device = NetDevice.Get(ifindex);
        string call = $"bpf(BPF_LINK_CREATE, XDP \"{program.Name}\" -> {device.Name}, {mode})";
        if (device.Xdp.Any)
        {
            if (!replaceExisting)
                throw Conflict(call, Errno.EBUSY, device);
            DetachNetlink(device, call);
        }

        var attr = new bpf_attr_link_create
        {
            prog_fd = (uint)program.Fd,
            target_ifindex = (uint)ifindex,
            attach_type = Sys.BPF_XDP,
            flags = (uint)mode,
        };
        int errno = Errno.EINVAL;
        int fd = linksSupported ? Sys.Bpf(Sys.BPF_LINK_CREATE, ref attr, out errno) : -1;
        if (fd >= 0)
            return new XdpLink(new SafeFd(fd), ifindex, device.Name, ResolvedMode(ifindex, program.Id, mode), program.Id, 0);

        switch (errno)
        {
            case Errno.EBUSY or Errno.EEXIST:
                throw Conflict(call, errno, NetDevice.Get(ifindex));
            case Errno.ERANGE:
                // veth_xdp_set: a frame from the peer could exceed one page, which only a multi-buffer program may see.
                Throw.Kernel(call, errno, $"{device.Name}'s MTU (or its veth peer's) is larger than a native-mode XDP buffer of one page, and the program does not accept multi-buffer frames.",
                    "load the program with ProgramSpec.XdpHasFrags = true (BPF_F_XDP_HAS_FRAGS), lower the MTU, or use XdpAttachMode.Skb.");
                break;
            case Errno.EOPNOTSUPP when mode == XdpAttachMode.Drv:
                Throw.Kernel(call, errno, $"{device.Name}'s driver has no native XDP support.", "use XdpAttachMode.Skb (generic XDP) or Auto.");
                break;
            case Errno.EINVAL or Errno.EOPNOTSUPP or Errno.ENOSYS:
                return AttachNetlink(program, device, mode, call);
            case Errno.EPERM:
                Throw.Capability(call, errno, new("attaching an XDP program", Privileges.CAP_NET_ADMIN));
                break;
        }
        Throw.Errno(call, errno);
        return null;
    }

    static XdpLink AttachNetlink(BpfProgram program, NetDevice device, XdpAttachMode mode, string linkCall)
    {
        uint flags = XDP_FLAGS_UPDATE_IF_NOEXIST | (uint)mode;
        string call = $"netlink RTM_SETLINK(IFLA_XDP \"{program.Name}\" -> {device.Name}, {mode}) after {linkCall} was refused";
        try
        {
            using var netlink = new NetlinkRoute();
            netlink.SetXdp(device.Index, program.Fd, flags, call);
        }
        catch (NetlinkException e) when (e.Errno is Errno.EBUSY or Errno.EEXIST)
        {
            throw Conflict(call, e.Errno, NetDevice.Get(device.Index));
        }
        catch (NetlinkException e)
        {
            Throw.Kernel(call, e.Errno, e.ExtendedAck.Length > 0 ? $"the kernel says: {e.ExtendedAck}." : "the kernel refused the attachment.",
                mode == XdpAttachMode.Drv ? "use XdpAttachMode.Skb (generic XDP)." : "check `afxdp doctor`.");
        }
        return new XdpLink(null, device.Index, device.Name, ResolvedMode(device.Index, program.Id, mode), program.Id, (uint)mode);
    }

    /// <summary>Removes whatever XDP program is attached through netlink (not bpf_link attachments, which only their owner can remove).</summary>
    public static void DetachNetlink(NetDevice device, string call)
    {
        ArgumentNullException.ThrowIfNull(device);
        foreach (XdpAttachMode mode in new[] { XdpAttachMode.Drv, XdpAttachMode.Skb, XdpAttachMode.Hw })
        {
            if (device.Xdp.ProgramIn(mode) != 0)
                DetachNetlink(device, mode, call);
        }
    }

    /// <summary>Removes the program attached through netlink in <paramref name="mode"/> (RTM_SETLINK IFLA_XDP with fd -1).</summary>
    public static void DetachNetlink(NetDevice device, XdpAttachMode mode, string call)
    {
        ArgumentNullException.ThrowIfNull(device);
        try
        {
            using var netlink = new NetlinkRoute();
            netlink.SetXdp(device.Index, -1, (uint)mode, call);
        }
        catch (NetlinkException e)
        {
            Throw.Kernel(call, e.Errno,
                $"program id {device.Xdp.ProgramIn(mode)} on {device.Name} could not be detached{(e.ExtendedAck.Length > 0 ? ": " + e.ExtendedAck : "")} (a bpf_link attachment can only be removed by the process holding it).",
                $"stop the process holding it (`afxdp detach -i {device.Name}` names it), or detach the link with `afxdp detach -i {device.Name} --force`.");
        }
    }

    static XdpAttachMode ResolvedMode(int ifindex, uint programId, XdpAttachMode requested)
    {
        if (requested != XdpAttachMode.Auto)
            return requested;
        XdpAttachment now = NetDevice.Get(ifindex).Xdp;
        return now.DrvProgramId == programId ? XdpAttachMode.Drv : now.SkbProgramId == programId ? XdpAttachMode.Skb : XdpAttachMode.Auto;
    }

    static XdpProgramConflictException Conflict(string call, int errno, NetDevice device)
    {
        (uint id, XdpAttachMode mode) = device.Xdp.First;
        string attachedBy;
        try
        {
            attachedBy = AttachedProgram.On(device).FirstOrDefault(p => p.ProgramId == id)?.Link?.Describe() ?? "netlink";
        }
        catch (AfXdpException)
        {
            attachedBy = "unknown: listing bpf links needs CAP_SYS_ADMIN";
        }
        return new XdpProgramConflictException(call, errno, device.Name, id, id == 0 ? "?" : BpfProgram.NameOf(id), mode.ToString().ToLowerInvariant(), attachedBy);
    }

    /// <summary>Detaches: closes the link (the kernel detaches), or removes the netlink attachment if it is still ours.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        if (_link is not null)
        {
            _link.Dispose();
            return;
        }
        try
        {
            NetDevice device = NetDevice.Get(InterfaceIndex);
            if (device.Xdp.ProgramIn(Mode) != ProgramId)
                return; // someone replaced or removed it: not ours to touch
            using var netlink = new NetlinkRoute();
            netlink.SetXdp(InterfaceIndex, -1, _netlinkFlags, $"netlink RTM_SETLINK(IFLA_XDP off, {InterfaceName})");
        }
        catch (Exception e) when (e is AfXdpException or NetlinkException)
        {
            // The interface is gone (namespace deleted): nothing is attached any more.
        }
    }
}
