using System.Runtime.InteropServices;
using System.Text;

namespace AfXdp.Interop;

/// <summary>struct ethtool_drvinfo (include/uapi/linux/ethtool.h).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ethtool_drvinfo
{
    public uint cmd;
    public fixed byte driver[32];
    public fixed byte version[32];
    public fixed byte fw_version[32];
    public fixed byte bus_info[32];
    public fixed byte erom_version[32];
    public fixed byte reserved2[12];
    public uint n_priv_flags;
    public uint n_stats;
    public uint testinfo_len;
    public uint eedump_len;
    public uint regdump_len;
}

/// <summary>struct ethtool_channels.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ethtool_channels
{
    public uint cmd;
    public uint max_rx;
    public uint max_tx;
    public uint max_other;
    public uint max_combined;
    public uint rx_count;
    public uint tx_count;
    public uint other_count;
    public uint combined_count;
}

/// <summary>struct ethtool_value: one setting, e.g. ETHTOOL_GTXCSUM's.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ethtool_value
{
    public uint cmd;
    public uint data;
}

/// <summary>struct ifreq with the ifr_data member (what SIOCETHTOOL takes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct ifreq_data
{
    public fixed byte ifr_name[16];
    public void* ifr_data;
    public fixed byte pad[16];
}

internal static unsafe partial class Sys
{
    internal const uint SIOCETHTOOL = 0x8946;
    internal const uint ETHTOOL_GDRVINFO = 0x03;
    internal const uint ETHTOOL_GTXCSUM = 0x16;
    internal const uint ETHTOOL_GCHANNELS = 0x3c;
    internal const int AF_INET = 2;

    [LibraryImport(Libc, EntryPoint = "ioctl", SetLastError = true)]
    private static partial int Ioctl(int fd, nuint request, void* argument);

    /// <summary>One SIOCETHTOOL request on interface <paramref name="name"/>; returns 0 or errno.</summary>
    internal static int Ethtool(string name, void* command)
    {
        int fd = Socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return LastErrno;
        try
        {
            ifreq_data request = default;
            Encoding.UTF8.GetBytes(name, new Span<byte>(request.ifr_name, 15));
            request.ifr_data = command;
            return Ioctl(fd, SIOCETHTOOL, &request) == 0 ? 0 : LastErrno;
        }
        finally
        {
            Close(fd);
        }
    }

    /// <summary>A NUL-terminated string in a fixed-size kernel field.</summary>
    internal static string CString(byte* text, int capacity)
    {
        var bytes = new ReadOnlySpan<byte>(text, capacity);
        int end = bytes.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? bytes : bytes[..end]);
    }
}
