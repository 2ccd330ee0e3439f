using System.Diagnostics;
using AfXdp.Testing;

namespace AfXdp.KernelTests;

/// <summary>
/// An rx mode with no traffic waits for its first packet as long as the duration (or --wait), says so when it
/// starts, and gives up with one line saying that nothing came in that time and what to check: `-d 3` ends in
/// about 3 s, not after a fixed 30 s.
/// </summary>
public sealed class BenchWaitTests
{
    [Theory]
    [InlineData("-d 3", 3)]
    [InlineData("-d 60 --wait 2", 2)]
    public void Bench_with_no_traffic_gives_up_after_the_wait_saying_nothing_came_and_what_to_check(string options, double wait)
    {
        using VethLab lab = VethLab.Create();
        var clock = Stopwatch.StartNew();
        CommandResult run = lab.Exec(VethSide.B, "sh", "-c", $"exec {KernelTest.DotnetHost} {KernelTest.CliPath()} bench -i {lab.InterfaceB} -m rxdrop {options}");
        TimeSpan took = clock.Elapsed;

        Assert.Equal(1, run.ExitCode);
        // The wait, plus the CLI's start and set-up on a loaded 2-core machine; far below the 30 s it used to wait.
        Assert.InRange(took.TotalSeconds, wait, wait + 12);
        Assert.Contains($"waiting up to {wait} s (--wait) for the first packet on {lab.InterfaceB} queue 0", run.Error);
        string[] lines = run.Error.Trim().Split('\n');
        Assert.StartsWith($"afxdp: bench rxdrop on {lab.InterfaceB} queue 0: no packet arrived in {wait} s (the wait for the first packet: --wait, by default as long as -d)", lines[^1]);
        Assert.Contains("so nothing was measured", lines[^1]);
        Assert.Contains($"`afxdp doctor -i {lab.InterfaceB}`", lines[^1]);
        Assert.Contains("--wait SECONDS", lines[^1]);
        Assert.DoesNotContain("   at ", run.Error);
    }
}
