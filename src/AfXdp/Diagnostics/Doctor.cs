using System.Globalization;
using AfXdp.Bpf;
using AfXdp.Device;
using AfXdp.Interop;
using AfXdp.Xsk;

namespace AfXdp.Diagnostics;

/// <summary>How a <see cref="DoctorCheck"/> came out.</summary>
public enum CheckStatus
{
    /// <summary>Works.</summary>
    Ok,
    /// <summary>Works, with a limit worth knowing (slower mode, a missing optional piece).</summary>
    Warn,
    /// <summary>AF_XDP on this interface and queue would fail.</summary>
    Fail,
}

/// <summary>One finding: what was checked, what was found, and what to do about it.</summary>
public sealed record DoctorCheck(string Name, CheckStatus Status, string Detail, string? Fix = null);

/// <summary>
/// Preflight for AF_XDP: kernel, privileges, memlock, BPF, and for an interface its driver, queues,
/// XDP modes, zero-copy support, partial checksums (veth) and attached programs. Runs in the calling thread's namespaces.
/// To learn the XDP modes and zero-copy support it attaches an XDP_PASS program for a moment and
/// binds a throwaway socket: on some NICs that briefly reconfigures the queue.
/// </summary>
public static class Doctor
{
    /// <summary>Runs every check; the interface checks only with <paramref name="interfaceName"/>.</summary>
    public static IReadOnlyList<DoctorCheck> Run(string? interfaceName = null, uint queue = 0)
    {
        var checks = new List<DoctorCheck> { Kernel(File.ReadAllText("/proc/sys/kernel/osrelease").Trim()), Socket() };
        checks.AddRange(PrivilegeChecks());
        checks.Add(ProgramLoad());
        checks.Add(BpfFileSystem());
        if (interfaceName is not null)
            checks.AddRange(Interface(interfaceName, queue));
        return checks;
    }

    /// <summary>
    /// The checks of what the process may do, as <see cref="Run"/> reports them: each capability AF_XDP
    /// uses, and the locked-memory limit against the default UMEM. Cheap: /proc and getrlimit only.
    /// </summary>
    public static IReadOnlyList<DoctorCheck> PrivilegeChecks() => [.. Capabilities(), Memlock()];

    /// <summary>The kernel release's version ("6.18.44-fc-v657" is 6.18.44), or null when it does not start with one.</summary>
    internal static Version? ParseRelease(string release)
    {
        string numeric = new(release.TakeWhile(c => char.IsAsciiDigit(c) || c == '.').ToArray());
        string[] parts = numeric.Split('.', StringSplitOptions.RemoveEmptyEntries);
        return parts.Length >= 2 && int.TryParse(parts[0], out int major) && int.TryParse(parts[1], out int minor)
            ? new Version(major, minor, parts.Length > 2 && int.TryParse(parts[2], out int patch) ? patch : 0)
            : null;
    }

    internal static DoctorCheck Kernel(string release)
    {
        Version? version = ParseRelease(release);
        if (version is null)
            return new("kernel", CheckStatus.Warn, $"Linux {release}: version not recognised", "AF_XDP needs 4.18+, bpf_link attachment 5.9+.");
        if (version < new Version(4, 18))
            return new("kernel", CheckStatus.Fail, $"Linux {release}: AF_XDP arrived in 4.18", "use a kernel 5.9 or newer.");
        if (version < new Version(5, 9))
            return new("kernel", CheckStatus.Warn, $"Linux {release}: no bpf_link for XDP (5.9+), so programs attach through netlink and stay attached if the process is killed",
                "clean up after a crash with `afxdp detach -i IF`, or use a kernel 5.9 or newer.");
        return new("kernel", CheckStatus.Ok, $"Linux {release}: AF_XDP (4.18+), XDP bpf_link (5.9+), busy polling (5.11+)");
    }

    static DoctorCheck Socket()
    {
        try
        {
            XskFd.Open().Dispose();
            return new("af_xdp", CheckStatus.Ok, "socket(AF_XDP, SOCK_RAW) works");
        }
        catch (AfXdpException e)
        {
            return new("af_xdp", CheckStatus.Fail, Failure(e), e.Fix);
        }
    }

    static IEnumerable<DoctorCheck> Capabilities()
    {
        yield return Capability(Privileges.CAP_NET_RAW, "CAP_NET_RAW", CheckStatus.Fail, "creating AF_XDP sockets");
        yield return Capability(Privileges.CAP_NET_ADMIN, "CAP_NET_ADMIN", CheckStatus.Fail, "attaching XDP programs");
        yield return Privileges.Has(Privileges.CAP_BPF) || !Privileges.Has(Privileges.CAP_SYS_ADMIN)
            ? Capability(Privileges.CAP_BPF, "CAP_BPF", CheckStatus.Fail, "loading programs and maps (CAP_SYS_ADMIN also does)")
            : new("CAP_BPF", CheckStatus.Warn, "missing, but CAP_SYS_ADMIN stands in for it (loading programs and maps)");
        yield return Capability(Privileges.CAP_SYS_ADMIN, "CAP_SYS_ADMIN", CheckStatus.Warn,
            "opening programs, maps and links by id (a program another tool loaded, `afxdp detach`) and mounting bpffs");
        yield return Capability(Privileges.CAP_IPC_LOCK, "CAP_IPC_LOCK", CheckStatus.Warn, "UMEMs beyond the locked-memory limit (see memlock)");
    }

    static DoctorCheck Capability(int capability, string name, CheckStatus missing, string neededFor) =>
        Privileges.Has(capability)
            ? new(name, CheckStatus.Ok, $"present: {neededFor}")
            : new(name, missing, $"missing: needed for {neededFor}",
                $"run as root, or grant it: `setcap {name.ToLowerInvariant()}+ep BINARY` (or capsh, or systemd AmbientCapabilities=).");

    static DoctorCheck Memlock()
    {
        ulong limit = Privileges.MemlockLimit;
        ulong defaultUmem = new UmemOptions().Size;
        if (Privileges.Has(Privileges.CAP_IPC_LOCK))
            return new("memlock", CheckStatus.Ok, "not enforced for UMEMs (CAP_IPC_LOCK)");
        if (limit == ulong.MaxValue)
            return new("memlock", CheckStatus.Ok, "RLIMIT_MEMLOCK unlimited");
        if (limit < defaultUmem)
            return new("memlock", CheckStatus.Warn,
                $"RLIMIT_MEMLOCK is {Mib(limit)}, less than the default UMEM ({Mib(defaultUmem)}): a larger UMEM fails with ENOBUFS",
                "use fewer or smaller frames, raise `ulimit -l`, or grant CAP_IPC_LOCK.");
        return new("memlock", CheckStatus.Ok, $"RLIMIT_MEMLOCK {Mib(limit)} (the default UMEM needs {Mib(defaultUmem)})");
    }

    /// <summary>"call: EPERM: cause", or "call: cause" when the library refused before any syscall (errno 0).</summary>
    static string Failure(AfXdpException e) => e.Errno == 0 ? $"{e.Call}: {e.Cause}" : $"{e.Call}: {e.ErrnoName}: {e.Cause}";

    static string Mib(ulong bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:0.#} MiB");

    static ProgramSpec PassProgram() => ProgramSpec.FromAssembler("afxdp_doctor", new Assembler().Mov64(Register.R0, (int)XdpAction.Pass).Exit());

    static DoctorCheck ProgramLoad()
    {
        try
        {
            using BpfProgram program = BpfProgram.LoadXdp(PassProgram());
            return program.GetInfo().IsJited
                ? new("bpf", CheckStatus.Ok, "XDP programs load (JIT on)")
                : new("bpf", CheckStatus.Warn, "XDP programs load, but are not JIT-compiled: they run interpreted, slower", "`sysctl net.core.bpf_jit_enable=1` (in the initial network namespace).");
        }
        catch (AfXdpException e)
        {
            return new("bpf", CheckStatus.Fail, Failure(e), e.Fix);
        }
    }

    static DoctorCheck BpfFileSystem() => BpfFs.IsBpfFs(BpfFs.DefaultMount)
        ? new("bpffs", CheckStatus.Ok, $"mounted at {BpfFs.DefaultMount}")
        : new("bpffs", CheckStatus.Warn, $"not mounted at {BpfFs.DefaultMount} in this mount namespace (`ip netns exec` starts commands with a fresh /sys); only pinning needs it, and afxdp mounts it then",
            $"to pin by hand: `mount -t bpf bpf {BpfFs.DefaultMount}`.");

    static List<DoctorCheck> Interface(string name, uint queue)
    {
        NetDevice device;
        try
        {
            device = NetDevice.Get(name);
        }
        catch (AfXdpException e)
        {
            return [new("interface", CheckStatus.Fail, $"{e.Call}: {e.Cause}", e.Fix)];
        }
        var checks = new List<DoctorCheck>
        {
            device.OperationalState is "up" or "unknown"
                ? new("interface", CheckStatus.Ok, $"{device.Name} (ifindex {device.Index}, {device.OperationalState}, mtu {device.Mtu})")
                : new("interface", CheckStatus.Warn, $"{device.Name} (ifindex {device.Index}) is {device.OperationalState}: nothing arrives until it is up", $"`ip link set {device.Name} up` (and check the cable or the peer)."),
            Driver(device),
            Queues(device, queue),
        };
        checks.Add(Modes(device));
        checks.Add(ZeroCopy(device, queue));
        if (VethPeer.Of(device) is { } peer)
            checks.Add(PartialChecksums(peer));
        checks.AddRange(Attached(device));
        return checks;
    }

    static DoctorCheck Driver(NetDevice device)
    {
        DeviceDriver? driver = device.QueryDriver();
        string? name = driver?.Name ?? DriverFromSysfs(device.Name);
        if (name is null)
            return new("driver", CheckStatus.Warn, "unknown: the device answers no ethtool request and has no driver in sysfs");
        string bus = driver is { BusInfo.Length: > 0 } ? $", bus {driver.BusInfo}" : "";
        string version = driver is { Version.Length: > 0 } ? $" {driver.Version}" : "";
        return new("driver", CheckStatus.Ok, $"{name}{version}{bus}");
    }

    static string? DriverFromSysfs(string name)
    {
        string link = $"/sys/class/net/{name}/device/driver";
        return new FileInfo(link).LinkTarget is { } target ? Path.GetFileName(target) : null;
    }

    static DoctorCheck Queues(NetDevice device, uint queue)
    {
        DeviceChannels? channels = device.QueryChannels();
        string channelText = channels is { } c ? $"; channels: {c}" : "";
        uint count = device.QueryActiveQueues();
        if (device.QueryQueueProblem(queue) is { } problem)
            return new("queue", CheckStatus.Fail, $"{problem.Cause.TrimEnd('.')}{channelText}", problem.Fix);
        if (count > 1)
            return new("queue", CheckStatus.Warn, $"queue {queue} of {count}{channelText}: the device spreads traffic over its {count} queues, so a socket on queue {queue} sees only its share",
                $"one socket per queue, or steer your flow to queue {queue}: `ethtool -N {device.Name} flow-type udp4 dst-port PORT action {queue}`.");
        return new("queue", CheckStatus.Ok, $"queue {queue} of {count}{channelText}");
    }

    static DoctorCheck Modes(NetDevice device)
    {
        if (device.Xdp.Any)
            return new("xdp modes", CheckStatus.Warn, $"not tried: program {device.Xdp.First.Id} is attached (see below)");
        bool native = TryAttach(device, XdpAttachMode.Drv, out string nativeError);
        bool generic = TryAttach(device, XdpAttachMode.Skb, out string genericError);
        return (native, generic) switch
        {
            (true, true) => new("xdp modes", CheckStatus.Ok, "native (drv) and generic (skb), attached by bpf_link"),
            (false, true) => new("xdp modes", CheckStatus.Warn, $"generic (skb) only, slower: native (drv) failed: {nativeError}", "use -a skb / XdpAttachMode.Skb, or a NIC whose driver has native XDP."),
            (true, false) => new("xdp modes", CheckStatus.Ok, $"native (drv); generic (skb) failed: {genericError}"),
            _ => new("xdp modes", CheckStatus.Fail, $"no XDP program could be attached: drv: {nativeError}; skb: {genericError}", "see the errors; `afxdp detach -i IF` if something holds the interface."),
        };
    }

    static bool TryAttach(NetDevice device, XdpAttachMode mode, out string error)
    {
        try
        {
            using BpfProgram program = BpfProgram.LoadXdp(PassProgram());
            XdpLink.Attach(program, device.Index, mode).Dispose();
            error = "";
            return true;
        }
        catch (AfXdpException e)
        {
            error = e.Errno == 0 ? e.Cause : $"{e.ErrnoName} ({e.Cause})";
            return false;
        }
    }

    static DoctorCheck ZeroCopy(NetDevice device, uint queue)
    {
        if (queue >= device.QueryActiveQueues())
            return new("zero-copy", CheckStatus.Warn, $"not tried: queue {queue} is not in use");
        if (TryBind(device, queue, XdpBindMode.ZeroCopy, out AfXdpException? zeroCopy))
            return new("zero-copy", CheckStatus.Ok, $"an AF_XDP socket binds to queue {queue} in zero-copy mode");
        if (zeroCopy!.Errno == Errno.EBUSY)
            return new("zero-copy", CheckStatus.Warn, $"not tried: queue {queue} is held by another AF_XDP socket", "stop it, or bind to another queue.");
        if (TryBind(device, queue, XdpBindMode.Copy, out AfXdpException? copy))
            return new("zero-copy", CheckStatus.Warn, $"copy mode only ({zeroCopy.ErrnoName} for zero-copy: the driver has no AF_XDP zero-copy support); copy mode binds to queue {queue}",
                "expect copy-mode throughput; zero-copy needs a driver that supports it (e.g. i40e, ice, mlx5, ixgbe).");
        return new("zero-copy", CheckStatus.Fail, $"an AF_XDP socket cannot bind to queue {queue}: {Failure(copy!)}", copy!.Fix);
    }

    static bool TryBind(NetDevice device, uint queue, XdpBindMode mode, out AfXdpException? failure)
    {
        try
        {
            using var umem = new Umem(new UmemOptions { FrameCount = 64, FrameSize = 4096, FillRingSize = 64, CompletionRingSize = 64 });
            using var socket = new RxTxSocket(umem, device.Index, queue,
                new XskSocketOptions { RxRingSize = 64, TxRingSize = 64, FillRingSize = 64, CompletionRingSize = 64, BindMode = mode, BusyRetryTimeout = TimeSpan.Zero });
            failure = null;
            return true;
        }
        catch (AfXdpException e)
        {
            failure = e;
            return false;
        }
    }

    /// <summary>
    /// A veth's frames come from a stack on the same machine, which leaves UDP and TCP checksums for a NIC to finish
    /// (CHECKSUM_PARTIAL) when its end offloads them; the flag stays in the skb and AF_XDP hands over only the bytes,
    /// whose checksum field then holds the pseudo-header sum. Information, not a fault: the kernel's stack and
    /// AfXdp's UDP service accept such a field on veth, but an AF_XDP program that checks checksums must too.
    /// </summary>
    static DoctorCheck PartialChecksums(VethPeer peer)
    {
        string offload = peer switch
        {
            { TxChecksumOffload: true } => $"its peer {peer.Name} (ifindex {peer.Index}) has tx checksum offload on, so they do",
            { TxChecksumOffload: false } => $"its peer {peer.Name} (ifindex {peer.Index}) has tx checksum offload off, so they arrive whole",
            { Name: null } => $"its peer (ifindex {peer.Index}) is in another network namespace (nsid {peer.NamespaceId}), whose tx checksum offload (on by default) this one cannot read",
            _ => $"whether its peer {peer.Name} (ifindex {peer.Index}) offloads tx checksums, its driver does not say",
        };
        return new("checksums", CheckStatus.Ok,
            $"veth: UDP checksums from the peer's stack may arrive partial (CHECKSUM_PARTIAL: only the pseudo-header sum, AF_XDP does not pass the flag on); {offload}. " +
            "AfXdp's UDP service and echo accept a partial checksum on veth; an AF_XDP program of your own must too, or the peer's end needs `ethtool -K PEER tx off`");
    }

    static IEnumerable<DoctorCheck> Attached(NetDevice device)
    {
        if (!device.Xdp.Any)
            return [new("attached", CheckStatus.Ok, "no XDP program attached")];
        IReadOnlyList<AttachedProgram> attached;
        try
        {
            attached = AttachedProgram.On(device);
        }
        catch (AfXdpException e)
        {
            (uint id, XdpAttachMode mode) = device.Xdp.First;
            return [new("attached", CheckStatus.Warn, $"program {id} is attached in {mode.ToString().ToLowerInvariant()} mode; what holds it cannot be told: {e.Cause}", e.Fix)];
        }
        return attached.Select(program => HasXskMap(program.ProgramId)
                ? new DoctorCheck("attached", CheckStatus.Warn, $"{program.Describe()}; it has an XSKMAP",
                    $"afxdp will not replace it: use it (register sockets in its XSKMAP, XskMap.OfProgram), or remove it (`afxdp detach -i {device.Name}`).")
                : new DoctorCheck("attached", CheckStatus.Fail, $"{program.Describe()}; it has no XSKMAP, so no frame can reach an AF_XDP socket, and afxdp will not replace it",
                    $"remove it (`afxdp detach -i {device.Name}`), or stop the tool that attached it."));
    }

    static bool HasXskMap(uint programId)
    {
        try
        {
            using BpfProgram program = BpfProgram.FromId(programId);
            using XskMap map = XskMap.OfProgram(program);
            return true;
        }
        catch (AfXdpException)
        {
            return false;
        }
    }
}
