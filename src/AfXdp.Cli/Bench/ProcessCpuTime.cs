namespace AfXdp.Cli.Bench;

/// <summary>
/// CPU time of all of this process's threads from /proc/self/task/*/schedstat (first field: ns on
/// a CPU, kept by the scheduler to the nanosecond). getrusage and /proc/self/stat count in ticks,
/// which in a VM under-count short bursts badly. A thread that ended between two reads is not counted.
/// </summary>
internal static class ProcessCpuTime
{
    public static TimeSpan Now()
    {
        long nanoseconds = 0;
        foreach (string task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                string line = File.ReadAllText(Path.Combine(task, "schedstat"));
                nanoseconds += long.Parse(line.AsSpan(0, line.IndexOf(' ')), System.Globalization.CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
                // the thread ended while we looked
            }
        }
        return TimeSpan.FromTicks(nanoseconds / 100);
    }
}
