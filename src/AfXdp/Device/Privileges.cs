using AfXdp.Interop;

namespace AfXdp.Device;

/// <summary>What the process may do: effective capabilities and the locked-memory limit.</summary>
public static unsafe class Privileges
{
    public const int CAP_NET_ADMIN = Capabilities.CAP_NET_ADMIN;
    public const int CAP_NET_RAW = Capabilities.CAP_NET_RAW;
    public const int CAP_IPC_LOCK = Capabilities.CAP_IPC_LOCK;
    public const int CAP_SYS_ADMIN = Capabilities.CAP_SYS_ADMIN;
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
