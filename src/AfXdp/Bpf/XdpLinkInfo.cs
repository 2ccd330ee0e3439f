using System.Globalization;
using AfXdp.Device;
using AfXdp.Interop;

namespace AfXdp.Bpf;

/// <summary>A process holding a descriptor of a bpf_link (what keeps the link, and its attachment, alive).</summary>
public readonly record struct LinkHolder(int ProcessId, string Command)
{
    /// <summary>"pid 1557 (dotnet)".</summary>
    public override string ToString() => $"pid {ProcessId} ({Command})";
}

/// <summary>
/// A bpf_link that attaches an XDP program to an interface, as the kernel lists it: which link holds
/// which program on which interface index. Interface indexes repeat across network namespaces, so
/// <see cref="On"/> also matches the program id the interface reports.
/// </summary>
public sealed unsafe record XdpLinkInfo(uint Id, uint ProgramId, int InterfaceIndex)
{
    /// <summary>Every XDP link of the system (BPF_LINK_GET_NEXT_ID, BPF_LINK_GET_FD_BY_ID); needs CAP_SYS_ADMIN.</summary>
    public static IReadOnlyList<XdpLinkInfo> All()
    {
        var links = new List<XdpLinkInfo>();
        uint id = 0;
        while (true)
        {
            var next = new bpf_attr_get_id { id = id };
            if (Sys.Bpf(Sys.BPF_LINK_GET_NEXT_ID, ref next, out int errno) < 0)
            {
                if (errno == Errno.ENOENT)
                    return links;
                Throw.Errno("bpf(BPF_LINK_GET_NEXT_ID)", errno);
            }
            id = next.next_id;
            using SafeFd? fd = TryOpen(id);
            if (fd is null)
                continue; // gone meanwhile
            bpf_link_info info = Info(fd, id);
            if (info.type == Sys.BPF_LINK_TYPE_XDP)
                links.Add(new XdpLinkInfo(info.id, info.prog_id, (int)info.xdp_ifindex));
        }
    }

    /// <summary>The XDP links holding the programs <paramref name="device"/> reports (at most one per mode).</summary>
    public static IReadOnlyList<XdpLinkInfo> On(NetDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        XdpAttachment xdp = device.Xdp;
        if (!xdp.Any)
            return [];
        return All().Where(l => l.InterfaceIndex == device.Index && l.ProgramId != 0
            && (l.ProgramId == xdp.DrvProgramId || l.ProgramId == xdp.SkbProgramId || l.ProgramId == xdp.HwProgramId)).ToList();
    }

    /// <summary>The processes with a descriptor of this link (from /proc/PID/fdinfo); none when it is pinned in a bpffs, or gone.</summary>
    public IReadOnlyList<LinkHolder> FindHolders()
    {
        var holders = new List<LinkHolder>();
        string wanted = "link_id:\t" + Id.ToString(CultureInfo.InvariantCulture);
        foreach (string process in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(process), out int pid))
                continue;
            try
            {
                foreach (string fd in Directory.EnumerateFiles(Path.Combine(process, "fd")))
                {
                    if (new FileInfo(fd).LinkTarget != "anon_inode:bpf_link")
                        continue;
                    if (File.ReadLines(Path.Combine(process, "fdinfo", Path.GetFileName(fd))).Any(line => line == wanted))
                    {
                        holders.Add(new LinkHolder(pid, File.ReadAllText(Path.Combine(process, "comm")).Trim()));
                        break;
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The process ended while we looked, or is not ours to look at.
            }
        }
        return holders;
    }

    /// <summary>
    /// BPF_LINK_DETACH: detaches the program now, whoever holds the link; the holder keeps an empty
    /// (defunct) link. Needs CAP_SYS_ADMIN to open the link by id.
    /// </summary>
    public void Detach()
    {
        using SafeFd fd = TryOpen(Id) ?? throw new AfXdpException($"bpf(BPF_LINK_GET_FD_BY_ID, {Id})", Errno.ENOENT,
            $"bpf_link {Id} is gone (its holder closed it).", "nothing to do: the program is no longer attached by it.");
        var attr = new bpf_attr_link_detach { link_fd = (uint)fd.Fd };
        if (Sys.Bpf(Sys.BPF_LINK_DETACH, ref attr, out int errno) < 0)
        {
            string call = $"bpf(BPF_LINK_DETACH, link {Id})";
            if (errno == Errno.EOPNOTSUPP)
                Throw.Kernel(call, errno, "this kernel cannot detach an XDP link from outside (BPF_LINK_DETACH needs 5.9+).", "stop the process that holds the link.");
            Throw.Errno(call, errno);
        }
    }

    /// <summary>How the link is held, for messages: "bpf_link 7 held by pid 1234 (dotnet)".</summary>
    public string Describe()
    {
        IReadOnlyList<LinkHolder> holders = FindHolders();
        return holders.Count == 0
            ? $"bpf_link {Id}, held by no process (pinned in a bpffs?)"
            : $"bpf_link {Id} held by {string.Join(", ", holders)}";
    }

    static SafeFd? TryOpen(uint id)
    {
        var attr = new bpf_attr_get_id { id = id };
        int fd = Sys.Bpf(Sys.BPF_LINK_GET_FD_BY_ID, ref attr, out int errno);
        if (fd >= 0)
            return new SafeFd(fd);
        if (errno == Errno.ENOENT)
            return null;
        Throw.Errno($"bpf(BPF_LINK_GET_FD_BY_ID, {id})", errno);
        return null;
    }

    static bpf_link_info Info(SafeFd fd, uint id)
    {
        bpf_link_info info = default;
        var attr = new bpf_attr_info { bpf_fd = (uint)fd.Fd, info_len = (uint)sizeof(bpf_link_info), info = (ulong)&info };
        if (Sys.Bpf(Sys.BPF_OBJ_GET_INFO_BY_FD, ref attr, out int errno) < 0)
            Throw.Errno($"bpf(BPF_OBJ_GET_INFO_BY_FD, link {id})", errno);
        return info;
    }
}

/// <summary>A program the kernel reports on an interface, and what holds it there.</summary>
/// <param name="ProgramId">The program id (`bpftool prog show id N`).</param>
/// <param name="ProgramName">Its name, "?" when it cannot be read.</param>
/// <param name="Mode">Drv, Skb or Hw.</param>
/// <param name="Link">The bpf_link holding it; null for a netlink attachment, which stays until someone detaches it.</param>
public sealed record AttachedProgram(uint ProgramId, string ProgramName, XdpAttachMode Mode, XdpLinkInfo? Link)
{
    /// <summary>Every program attached to <paramref name="device"/>, with its link if it has one.</summary>
    public static IReadOnlyList<AttachedProgram> On(NetDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (!device.Xdp.Any)
            return [];
        IReadOnlyList<XdpLinkInfo> links = XdpLinkInfo.On(device);
        var attached = new List<AttachedProgram>();
        foreach (XdpAttachMode mode in new[] { XdpAttachMode.Drv, XdpAttachMode.Skb, XdpAttachMode.Hw })
        {
            uint id = device.Xdp.ProgramIn(mode);
            if (id != 0)
                attached.Add(new AttachedProgram(id, BpfProgram.NameOf(id), mode, links.FirstOrDefault(l => l.ProgramId == id)));
        }
        return attached;
    }

    /// <summary>"program 42 'xdp_sock_prog' in skb mode, attached by bpf_link 7 held by pid 1234 (dotnet)".</summary>
    public string Describe() =>
        $"program {ProgramId} '{ProgramName}' in {Mode.ToString().ToLowerInvariant()} mode, attached by {(Link is null ? "netlink" : Link.Describe())}";
}
