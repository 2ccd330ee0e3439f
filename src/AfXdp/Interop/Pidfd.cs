using System.Runtime.InteropServices;

namespace AfXdp.Interop;

internal static partial class Sys
{
    // Numbered alike on every architecture (syscalls from 424 on share one table).
    const nint SYS_pidfd_open = 434;
    const nint SYS_pidfd_getfd = 438;

    internal const int SO_DOMAIN = 39;

    [LibraryImport(Libc, EntryPoint = "syscall", SetLastError = true)]
    private static partial nint PidfdSyscall(nint number, nint a1, nint a2, nint a3);

    /// <summary>pidfd_open(2): a descriptor for process <paramref name="pid"/> (Linux 5.3+).</summary>
    internal static int PidfdOpen(int pid) => (int)PidfdSyscall(SYS_pidfd_open, pid, 0, 0);

    /// <summary>pidfd_getfd(2): a copy of another process's descriptor (Linux 5.6+; needs ptrace access to it, e.g. CAP_SYS_PTRACE).</summary>
    internal static int PidfdGetFd(int pidfd, int targetFd) => (int)PidfdSyscall(SYS_pidfd_getfd, pidfd, targetFd, 0);
}
