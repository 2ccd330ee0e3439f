using AfXdp.Interop;

namespace AfXdp.Xsk;

/// <summary>A process holding bound AF_XDP sockets in a network namespace.</summary>
internal readonly record struct XskHolder(int ProcessId, string Command, int Sockets)
{
    /// <summary>"pid N (command, K AF_XDP sockets)", as error messages name the holder.</summary>
    /// <summary>"pid 1234 (dotnet, 1 bound AF_XDP socket)", for messages.</summary>
    public override string ToString() => $"pid {ProcessId} ({Command}, {Sockets} bound AF_XDP socket{(Sockets == 1 ? "" : "s")})";
}

/// <summary>
/// Which other processes hold bound AF_XDP sockets in the calling thread's network namespace. The kernel
/// lists AF_XDP sockets only with CONFIG_XDP_SOCKETS_DIAG (`ss --xdp`), which many kernels lack, and
/// never says which queue a socket is bound to; so this looks at every process of the namespace and
/// asks each socket descriptor its family and whether it is bound (a copy taken with pidfd_getfd, which
/// needs ptrace access: root or CAP_SYS_PTRACE). For error messages, not for the data path.
/// </summary>
internal static unsafe class XskHolders
{
    const string SocketPrefix = "socket:[";

    /// <summary>The processes other than this one with bound AF_XDP sockets here; null when this process may not look (pidfd_getfd refused).</summary>
    public static IReadOnlyList<XskHolder>? InOtherProcesses()
    {
        string here = XskFd.CurrentNetworkNamespace();
        var holders = new List<XskHolder>();
        foreach (string process in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(process), out int pid) || pid == Environment.ProcessId)
                continue;
            try
            {
                if (File.ResolveLinkTarget(Path.Combine(process, "ns/net"), returnFinalTarget: false)?.Name != here)
                    continue;
                int? sockets = CountXdpSockets(pid, process);
                if (sockets is null)
                    return null;
                if (sockets > 0)
                    holders.Add(new XskHolder(pid, File.ReadAllText(Path.Combine(process, "comm")).Trim(), sockets.Value));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The process ended while we looked.
            }
        }
        return holders;
    }

    /// <summary>How many of the process's descriptors are bound AF_XDP sockets; null when pidfd_getfd is refused.</summary>
    static int? CountXdpSockets(int pid, string process)
    {
        int pidfd = Sys.PidfdOpen(pid);
        if (pidfd < 0)
            return Sys.LastErrno is Errno.EPERM or Errno.ENOSYS ? null : 0;
        using var owner = new SafeFd(pidfd);
        int count = 0;
        foreach (string link in Directory.EnumerateFiles(Path.Combine(process, "fd")))
        {
            if (File.ResolveLinkTarget(link, returnFinalTarget: false)?.Name.StartsWith(SocketPrefix, StringComparison.Ordinal) != true
                || !int.TryParse(Path.GetFileName(link), out int fd))
                continue;
            int copy = Sys.PidfdGetFd(pidfd, fd);
            if (copy < 0)
            {
                if (Sys.LastErrno is Errno.EPERM or Errno.ENOSYS)
                    return null;
                continue; // closed meanwhile
            }
            using var socket = new SafeFd(copy);
            int domain = 0;
            uint length = sizeof(int);
            if (Sys.GetSockOpt(copy, Sys.SOL_SOCKET, Sys.SO_DOMAIN, &domain, &length) != 0 || domain != IfXdp.AF_XDP)
                continue;
            // Only a bound socket holds a queue: recvfrom(MSG_DONTWAIT) says ENXIO before anything else when it is
            // not (net/xdp/xsk.c, __xsk_recvmsg); on a bound one it is the wakeup its owner makes too.
            if (Sys.RecvFrom(copy, null, 0, Sys.MSG_DONTWAIT, null, null) < 0 && Sys.LastErrno == Errno.ENXIO)
                continue;
            count++;
        }
        return count;
    }
}
