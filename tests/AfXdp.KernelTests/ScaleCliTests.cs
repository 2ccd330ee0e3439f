using System.Globalization;
using System.Text.RegularExpressions;
using AfXdp.Testing;

namespace AfXdp.KernelTests;

/// <summary>`afxdp engine`, `afxdp bench --async` and `afxdp napi`, run as a user would.</summary>
public sealed partial class ScaleCliTests
{
    public ScaleCliTests() => KernelTest.RequireRoot();

    [Fact]
    public void Engine_receives_on_every_queue_and_prints_per_queue_rates()
    {
        using VethLab lab = VethLab.Create(new VethLabOptions { RxQueues = 2, TxQueues = 2 });
        // One txonly feeder per queue of A: veth delivers A's TX queue q on B's RX queue q.
        using var feeder0 = Feeder(lab, queue: 0);
        using var feeder1 = Feeder(lab, queue: 1);
        try
        {
            CommandResult run = KernelTest.AfxdpIn(lab, VethSide.B, "engine", "-i", lab.InterfaceB, "-a", "drv", "-d", "2");
            Assert.True(run.Succeeded, run.Output + run.Error);
            Match summary = EngineSummary().Match(run.Output);
            Assert.True(summary.Success, run.Output);
            Assert.Equal("2", summary.Groups["queues"].Value);
            Assert.True(long.Parse(summary.Groups["q0"].Value, CultureInfo.InvariantCulture) > 100, run.Output);
            Assert.True(long.Parse(summary.Groups["q1"].Value, CultureInfo.InvariantCulture) > 100, run.Output);
            Assert.Matches(@"\[\s*\d+\.\ds\] pps=\d+ q0=\d+ q1=\d+", run.Error);
        }
        finally
        {
            Stop(feeder0);
            Stop(feeder1);
        }
    }

    [Fact]
    public void Bench_rxdrop_async_awaits_batches_and_reports_cpu()
    {
        using VethLab lab = VethLab.Create();
        using var feeder = Feeder(lab, queue: 0);
        try
        {
            CommandResult run = KernelTest.AfxdpIn(lab, VethSide.B, "bench", "-i", lab.InterfaceB, "-m", "rxdrop", "-a", "drv", "--async", "-d", "2", "--wait", "30");
            Assert.True(run.Succeeded, run.Output + run.Error);
            Match summary = BenchSummary().Match(run.Output);
            Assert.True(summary.Success, run.Output);
            Assert.True(long.Parse(summary.Groups["pkts"].Value, CultureInfo.InvariantCulture) > 1000, run.Output);
            Assert.InRange(double.Parse(summary.Groups["cpu"].Value, CultureInfo.InvariantCulture), 1, 250);
            // The receive loop's threads from the first packet on: a few hundred bytes once, while the first waits set up
            // the async machinery (232 here), then nothing; anything per batch would pass this bound within milliseconds.
            Assert.InRange(long.Parse(summary.Groups["alloc"].Value, CultureInfo.InvariantCulture), 0, 1024);
        }
        finally
        {
            Stop(feeder);
        }
    }

    [Fact]
    public void Async_is_only_for_rxdrop()
    {
        CommandResult run = KernelTest.Afxdp("bench", "-i", "afxdp-none0", "-m", "txonly", "--async");
        Assert.Equal(2, run.ExitCode);
        Assert.Equal("afxdp bench: --async: only with -m rxdrop, not -m txonly", run.Error.Trim());
    }

    [Fact]
    public void Napi_sets_and_shows_the_device_s_deferral()
    {
        using VethLab lab = VethLab.Create();
        CommandResult set = KernelTest.AfxdpIn(lab, VethSide.B, "napi", "-i", lab.InterfaceB, "--defer-hard-irqs", "2", "--gro-flush-timeout", "200000");
        Assert.True(set.Succeeded, set.Output + set.Error);
        CommandResult show = KernelTest.AfxdpIn(lab, VethSide.B, "napi", "-i", lab.InterfaceB);
        Assert.Equal($"{lab.InterfaceB}: napi_defer_hard_irqs=2 gro_flush_timeout=200000", show.Output.Trim());
    }

    [GeneratedRegex(@"^engine .* queues=(?<queues>\d+) .* pps=\d+ q0_pps=(?<q0>\d+) q1_pps=(?<q1>\d+) .*cpu_pct=\d+", RegexOptions.Multiline)]
    private static partial Regex EngineSummary();

    [GeneratedRegex(@"^mode=rxdrop .* async=1 .* pkts=(?<pkts>\d+) .* cpu_pct=(?<cpu>\d+) .* alloc_bytes=(?<alloc>\d+)$", RegexOptions.Multiline)]
    private static partial Regex BenchSummary();

    static System.Diagnostics.Process Feeder(VethLab lab, int queue) => KernelTest.StartAfxdpIn(lab, VethSide.A,
        "bench", "-i", lab.InterfaceA, "-m", "txonly", "-R", "-q", queue.ToString(CultureInfo.InvariantCulture), "-c", "copy", "-d", "8",
        "--dmac", lab.MacB, "--sip", lab.AddressA.ToString(), "--dip", lab.AddressB.ToString());

    static void Stop(System.Diagnostics.Process feeder)
    {
        if (!feeder.HasExited)
            feeder.Kill();
        feeder.WaitForExit();
    }
}
