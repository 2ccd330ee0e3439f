namespace AfXdp.Interop;

/// <summary>Linux capability numbers (include/uapi/linux/capability.h) and the calling thread's effective set.</summary>
internal static class Capabilities
{
    public const int CAP_NET_ADMIN = 12;
    public const int CAP_NET_RAW = 13;
    public const int CAP_IPC_LOCK = 14;
    public const int CAP_SYS_ADMIN = 21;
    public const int CAP_BPF = 39;

    /// <summary>The capability's name as capabilities(7) writes it, e.g. "CAP_NET_RAW".</summary>
    public static string Name(int capability) => capability switch
    {
        CAP_NET_ADMIN => "CAP_NET_ADMIN",
        CAP_NET_RAW => "CAP_NET_RAW",
        CAP_IPC_LOCK => "CAP_IPC_LOCK",
        CAP_SYS_ADMIN => "CAP_SYS_ADMIN",
        CAP_BPF => "CAP_BPF",
        _ => $"capability {capability}",
    };

    /// <summary>True if the capability is in the calling thread's effective set (/proc/thread-self/status CapEff).</summary>
    public static bool Has(int capability)
    {
        foreach (string line in File.ReadLines("/proc/thread-self/status"))
        {
            if (line.StartsWith("CapEff:", StringComparison.Ordinal))
                return ((Convert.ToUInt64(line[7..].Trim(), 16) >> capability) & 1) != 0;
        }
        return false;
    }
}
