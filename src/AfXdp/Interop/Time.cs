using System.Runtime.InteropServices;

namespace AfXdp.Interop;

internal static unsafe partial class Sys
{
    internal const int CLOCK_REALTIME = 0;
    internal const int CLOCK_MONOTONIC = 1;
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

    internal const int TIMER_ABSTIME = 1;

    // Returns the error number itself (0 on success), not -1 and errno.
    [LibraryImport(Libc, EntryPoint = "clock_nanosleep")]
    private static partial int ClockNanosleep(int clockId, int flags, timespec* request, timespec* remain);

    /// <summary>
    /// Sleeps <paramref name="nanoseconds"/> on CLOCK_MONOTONIC (Thread.Sleep rounds to milliseconds), to an
    /// absolute deadline, so that a signal (the runtime suspends threads with them) does not cut it short.
    /// </summary>
    internal static void Nanosleep(long nanoseconds)
    {
        long deadline = ClockNanoseconds(CLOCK_MONOTONIC) + nanoseconds;
        timespec until = new() { tv_sec = deadline / 1_000_000_000, tv_nsec = deadline % 1_000_000_000 };
        while (ClockNanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, null) == Errno.EINTR)
        {
        }
    }
}
