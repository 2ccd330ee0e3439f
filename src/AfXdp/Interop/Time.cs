using System.Runtime.InteropServices;

namespace AfXdp.Interop;

internal static unsafe partial class Sys
{
    internal const int CLOCK_REALTIME = 0;
    internal const int CLOCK_TAI = 11;

    [StructLayout(LayoutKind.Sequential)]
    internal struct timespec
    {
        public long tv_sec;
        public long tv_nsec;
    }

    // A vDSO call in glibc: no syscall, no allocation.
    [LibraryImport(Libc, EntryPoint = "clock_gettime", SetLastError = true)]
    internal static partial int ClockGetTime(int clockId, timespec* time);

    /// <summary>Nanoseconds since the epoch of <paramref name="clockId"/> (CLOCK_REALTIME: the Unix epoch).</summary>
    internal static long ClockNanoseconds(int clockId)
    {
        timespec time;
        if (ClockGetTime(clockId, &time) != 0)
            Throw.Errno($"clock_gettime({clockId})", LastErrno);
        return time.tv_sec * 1_000_000_000 + time.tv_nsec;
    }
}
