using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace AfXdp.Device;

/// <summary>A UDP socket of the kernel's own stack, bound to <paramref name="Local"/>, as /proc/net/udp and udp6 list it.</summary>
/// <param name="Local">The bound address and port; 0.0.0.0 or :: for every address.</param>
/// <param name="Inode">The socket's inode: /proc/PID/fd/N links to "socket:[inode]" in the processes holding it.</param>
public readonly record struct KernelUdpSocket(IPEndPoint Local, ulong Inode)
{
    const string SocketLink = "socket:[";

    /// <summary>
    /// The UDP sockets of the calling thread's network namespace (/proc/thread-self/net: /proc/self/net
    /// would show the main thread's namespace, and a service may run on a thread that entered another).
    /// </summary>
    public static IReadOnlyList<KernelUdpSocket> InThisNamespace() =>
        [.. Parse(ReadOrEmpty("/proc/thread-self/net/udp")), .. Parse(ReadOrEmpty("/proc/thread-self/net/udp6"))];

    /// <summary>
    /// True when a datagram to <paramref name="served"/> would reach this socket: the same port, and its address or
    /// the wildcard of its family. An IPv6 socket on :: takes IPv4 too unless it set IPV6_V6ONLY, which /proc does
    /// not show, so it counts; so does one on the IPv4-mapped form of an IPv4 address.
    /// </summary>
    public bool Receives(IPEndPoint served)
    {
        if (Local.Port != served.Port)
            return false;
        IPAddress local = Local.Address;
        if (local.Equals(served.Address) || local.Equals(IPAddress.IPv6Any))
            return true;
        return served.AddressFamily == AddressFamily.InterNetwork
            && (local.Equals(IPAddress.Any) || (local.IsIPv4MappedToIPv6 && local.MapToIPv4().Equals(served.Address)));
    }

    /// <summary>The processes holding this socket, as "name (pid N)"; none when they cannot be looked into.</summary>
    public IReadOnlyList<string> FindHolders()
    {
        string wanted = string.Create(CultureInfo.InvariantCulture, $"{SocketLink}{Inode}]");
        var holders = new List<string>();
        foreach (string process in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(process), out int pid))
                continue;
            try
            {
                if (Directory.EnumerateFiles(Path.Combine(process, "fd")).Any(fd => new FileInfo(fd).LinkTarget == wanted))
                    holders.Add($"{File.ReadAllText(Path.Combine(process, "comm")).Trim()} (pid {pid})");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The process ended while we looked, or is not ours to look at.
            }
        }
        return holders;
    }

    /// <summary>
    /// The sockets of a /proc/net/udp or udp6 table. The kernel prints each address as the 32-bit words of
    /// network-order bytes in host order, "%08X" each (net/ipv4/udp.c udp4_format_sock, net/ipv6/datagram.c
    /// __ip6_dgram_sock_seq_show), and the port as a plain "%04X"; the inode is the tenth column.
    /// </summary>
    internal static IEnumerable<KernelUdpSocket> Parse(string table)
    {
        foreach (string line in table.Split('\n').Skip(1))
        {
            string[] columns = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (columns.Length < 10 || columns[1].Split(':') is not [string address, string port] || address.Length is not (8 or 32))
                continue;
            byte[] bytes = new byte[address.Length / 2];
            for (int word = 0; word < bytes.Length / 4; word++)
            {
                uint value = uint.Parse(address.AsSpan(word * 8, 8), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                BitConverter.TryWriteBytes(bytes.AsSpan(word * 4, 4), value);
            }
            yield return new KernelUdpSocket(new IPEndPoint(new IPAddress(bytes), int.Parse(port, NumberStyles.HexNumber, CultureInfo.InvariantCulture)),
                ulong.Parse(columns[9], CultureInfo.InvariantCulture));
        }
    }

    /// <summary>The table, or nothing where the kernel has none (udp6 without IPv6).</summary>
    static string ReadOrEmpty(string path) => File.Exists(path) ? File.ReadAllText(path) : "";
}
