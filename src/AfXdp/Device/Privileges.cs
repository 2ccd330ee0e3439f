using AfXdp.Interop;

namespace AfXdp.Device;

/// <summary>What the process may do: effective capabilities and the locked-memory limit.</summary>
internal static unsafe class Privileges
{
    /// <summary>CAP_NET_ADMIN (12): attach XDP programs to a device, configure interfaces.</summary>
    public const int CAP_NET_ADMIN = Capabilities.CAP_NET_ADMIN;
    /// <summary>CAP_NET_RAW (13): open an AF_XDP socket.</summary>
    public const int CAP_NET_RAW = Capabilities.CAP_NET_RAW;
    /// <summary>CAP_IPC_LOCK (14): lock memory (a UMEM) beyond RLIMIT_MEMLOCK.</summary>
    public const int CAP_IPC_LOCK = Capabilities.CAP_IPC_LOCK;
    /// <summary>CAP_SYS_ADMIN (21): stands in for CAP_BPF and CAP_NET_ADMIN in the kernel's bpf() checks.</summary>
    public const int CAP_SYS_ADMIN = Capabilities.CAP_SYS_ADMIN;
    /// <summary>CAP_BPF (39, kernel 5.8+): create BPF maps and load programs.</summary>
    public const int CAP_BPF = Capabilities.CAP_BPF;

    /// <summary>The capability's name as capabilities(7) writes it, e.g. "CAP_NET_RAW".</summary>
    public static string Name(int capability) => Capabilities.Name(capability);

    /// <summary>True if the capability is in the calling thread's effective set (/proc/thread-self/status CapEff).</summary>
    public static bool Has(int capability) => Capabilities.Has(capability);

    /// <summary>RLIMIT_MEMLOCK soft limit in bytes (ulong.MaxValue when unlimited).</summary>
    public static ulong MemlockLimit
    {
        get
        {
            ulong* rlim = stackalloc ulong[2];
            return Sys.GetRLimit(Sys.RLIMIT_MEMLOCK, rlim) == 0 ? rlim[0] : 0;
        }
    }
}
