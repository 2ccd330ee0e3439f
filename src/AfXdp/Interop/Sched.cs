using System.Runtime.InteropServices;

namespace AfXdp.Interop;

internal static unsafe partial class Sys
{
    /// <summary>sched_setaffinity(2) with pid 0: the calling thread only.</summary>
    [LibraryImport(Libc, EntryPoint = "sched_setaffinity", SetLastError = true)]
    internal static partial int SchedSetAffinity(int pid, nuint cpusetsize, ulong* mask);

    [LibraryImport(Libc, EntryPoint = "sched_getaffinity", SetLastError = true)]
    internal static partial int SchedGetAffinity(int pid, nuint cpusetsize, ulong* mask);

    internal const int PR_SET_TIMERSLACK = 29;

    /// <summary>prctl(2), for options whose arguments are integers (glibc declares it variadic; integer arguments pass alike).</summary>
    [LibraryImport(Libc, EntryPoint = "prctl", SetLastError = true)]
    internal static partial int Prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);
}
