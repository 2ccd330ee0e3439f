using System.Runtime.InteropServices;

namespace AfXdp.Interop;

internal static unsafe partial class Sys
{
    /// <summary>sched_setaffinity(2) with pid 0: the calling thread only.</summary>
    [LibraryImport(Libc, EntryPoint = "sched_setaffinity", SetLastError = true)]
    internal static partial int SchedSetAffinity(int pid, nuint cpusetsize, ulong* mask);

    [LibraryImport(Libc, EntryPoint = "sched_getaffinity", SetLastError = true)]
    internal static partial int SchedGetAffinity(int pid, nuint cpusetsize, ulong* mask);
}
