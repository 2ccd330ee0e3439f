namespace AfXdp.Interop;

/// <summary>CPU affinity of the calling thread (sched_setaffinity / sched_getaffinity with pid 0).</summary>
internal static unsafe class Affinity
{
    /// <summary>CPUs the mask below can name (the glibc cpu_set_t size).</summary>
    public const int MaxCpus = 1024;

    const int Words = MaxCpus / 64;

    /// <summary>Pins the calling thread to <paramref name="cpu"/>.</summary>
    public static void PinCurrentThread(int cpu)
    {
        ulong* mask = stackalloc ulong[Words];
        new Span<ulong>(mask, Words).Clear();
        mask[cpu / 64] = 1UL << (cpu % 64);
        if (Sys.SchedSetAffinity(0, Words * sizeof(ulong), mask) != 0)
        {
            int errno = Sys.LastErrno;
            if (errno == Errno.EINVAL)
                Throw.Kernel($"sched_setaffinity(CPU {cpu})", errno,
                    $"CPU {cpu} is not online or not in this process's allowed set (cgroup cpuset, taskset).",
                    $"pick one of the CPUs this process may use ({string.Join(", ", CurrentThreadCpus())}).");
            Throw.Errno($"sched_setaffinity(CPU {cpu})", errno);
        }
    }

    /// <summary>The CPUs the calling thread may run on.</summary>
    public static List<int> CurrentThreadCpus()
    {
        ulong* mask = stackalloc ulong[Words];
        var cpus = new List<int>();
        if (Sys.SchedGetAffinity(0, Words * sizeof(ulong), mask) < 0)
            Throw.Errno("sched_getaffinity", Sys.LastErrno);
        for (int cpu = 0; cpu < MaxCpus; cpu++)
        {
            if ((mask[cpu / 64] & (1UL << (cpu % 64))) != 0)
                cpus.Add(cpu);
        }
        return cpus;
    }
}
