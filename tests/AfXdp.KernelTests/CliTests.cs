using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using AfXdp.Testing;

namespace AfXdp.KernelTests;

/// <summary>`afxdp demo` and `afxdp bench`, run as a user would: the built CLI in its own process.</summary>
public sealed partial class CliTests
{
    public CliTests() => KernelTest.RequireRoot();

    [Fact]
    public void Demo_prints_the_datagrams_it_received_and_removes_its_lab()
    {
        CommandResult demo = KernelTest.Afxdp("demo", "-n", "7");
        Assert.True(demo.Succeeded, demo.Output + demo.Error);
        Assert.Contains("received 7 of 7 over AF_XDP", demo.Output);
        Assert.Matches(@"63 bytes  10\.99\.\d+\.1:\d+ -> 10\.99\.\d+\.2:9  ""afxdp demo datagram 7""", demo.Output);
        Assert.Contains("afxdp_redirect (prog id", demo.Output);
        Assert.Contains("rx_dropped=0", demo.Output);
        Match lab = Regex.Match(demo.Output, @"^lab: (\S+)/\S+ .*<->  (\S+)/", RegexOptions.Multiline);
        Assert.True(lab.Success, demo.Output);
        Assert.Contains($"removed {lab.Groups[1].Value} and {lab.Groups[2].Value}", demo.Output);
        Assert.DoesNotContain(lab.Groups[1].Value, KernelTest.NetworkNamespaces());
        Assert.DoesNotContain(lab.Groups[2].Value, KernelTest.NetworkNamespaces());
    }

    [Fact]
    public async Task Echo_answers_the_peers_ping_and_prints_what_it_answered()
    {
        using VethLab lab = VethLab.Create();
        byte[] spare = lab.AddressB.GetAddressBytes();
        spare[3] = 3;
        string address = new System.Net.IPAddress(spare).ToString();
        using System.Diagnostics.Process echo = KernelTest.StartAfxdpIn(lab, VethSide.B, "echo", "-i", lab.InterfaceB, "--ip", address, "-d", "3");
        try
        {
            string? banner = await echo.StandardOutput.ReadLineAsync(TestContext.Current.CancellationToken).AsTask()
                .WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
            Assert.Contains($"answering ARP, ping and UDP port 7 for {address}/24 ({lab.MacB}) on {lab.InterfaceB} queue 0: afxdp_echo (prog id", banner);

            CommandResult ping = lab.Exec(VethSide.A, "ping", "-c", "3", "-i", "0.2", "-W", "2", address);

            Assert.True(ping.Succeeded, ping.Output + ping.Error);
            Assert.True(echo.WaitForExit(TimeSpan.FromSeconds(10)));
            Assert.Equal(0, echo.ExitCode);
            Assert.Matches(@"answered 4 in [\d.]+ s: arp=1 icmp=3 udp=0 ignored=0 malformed=0 bad_checksum=0 bad_source=0 reflector_port=0 tx_ring_full=0", echo.StandardOutput.ReadToEnd());
        }
        finally
        {
            if (!echo.HasExited)
                echo.Kill();
        }
    }

    [Fact]
    public void Capture_help_warns_that_captured_frames_are_taken_from_the_kernel()
    {
        CommandResult help = KernelTest.Afxdp("capture", "--help");
        Assert.True(help.Succeeded, help.Error);
        Assert.Contains("CAPTURED FRAMES ARE TAKEN AWAY FROM THE KERNEL", help.Output);
        Assert.Contains("--filter <filter>", help.Output); // offered, not promised
        Assert.DoesNotContain("will come", help.Output);
    }

    [Theory]
    [InlineData("--ip", "10.99.0.300", "--ip: '10.99.0.300' is not an IPv4 address")]
    [InlineData("--ip", "fd00::1", "--ip: 'fd00::1' is not an IPv4 address")]
    [InlineData("--ip", "10.99.0.3/33", "--ip: '33' in '10.99.0.3/33' is not a prefix length from 0 to 32")]
    [InlineData("--ip", "10.99.0.3/24/1", "--ip: '10.99.0.3/24/1' is not an IPv4 address")]
    public void Bad_echo_options_are_usage_errors_naming_the_option(string option, string value, string message)
    {
        CommandResult run = KernelTest.Afxdp("echo", "-i", "lo", option, value);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(message, run.Error);
        Assert.DoesNotContain("   at ", run.Error);
    }

    [Fact]
    public void Demo_with_a_filter_steers_and_prints_the_counters()
    {
        CommandResult demo = KernelTest.Afxdp("demo", "-n", "5", "--filter", "udp dst port 9");
        Assert.True(demo.Succeeded, demo.Output + demo.Error);
        Assert.Contains("B: afxdp_steer for \"udp dst port 9\" (prog id", demo.Output);
        Assert.Contains("received 5 of 5 over AF_XDP", demo.Output);
        Assert.Contains("steering counters: redirected=5 ", demo.Output);
    }

    [GeneratedRegex(@"^mode=(\w+) .* secs=([\d.]+) pkts=(\d+) pps=(\d+) rx=(\d+) tx=(\d+) kicks=(\d+) .* alloc_bytes=(\d+)$", RegexOptions.Multiline)]
    private static partial Regex SummaryLine();

    /// <summary>l2fwd and rxdrop on B, fed by txonly on A (UDP to port 9); txonly alone into A's kernel.</summary>
    [Theory]
    [InlineData("rxdrop", "skb", null)]
    [InlineData("rxdrop", "drv", null)]
    [InlineData("rxdrop", "drv", "udp dst port 9")]
    [InlineData("l2fwd", "drv", null)]
    [InlineData("txonly", "skb", null)]
    public void Bench_modes_move_packets_and_print_the_summary_line(string mode, string attach, string? filter)
    {
        using VethLab lab = VethLab.Create();
        string[] generator = ["bench", "-i", lab.InterfaceA, "-m", "txonly", "-a", "drv", "-c", "copy", "-d", "6", "--dmac", lab.MacB,
            "--sip", lab.AddressA.ToString(), "--dip", lab.AddressB.ToString()];
        using System.Diagnostics.Process? feeder = mode == "txonly" ? null : KernelTest.StartAfxdpIn(lab, VethSide.A, generator);
        try
        {
            CommandResult run = mode == "txonly"
                ? KernelTest.AfxdpIn(lab, VethSide.B, "bench", "-i", lab.InterfaceB, "-m", "txonly", "-R", "-d", "2", "--dmac", lab.MacA)
                : KernelTest.AfxdpIn(lab, VethSide.B, ["bench", "-i", lab.InterfaceB, "-m", mode, "-a", attach, "-d", "2", "--wait", "30", .. filter is null ? Array.Empty<string>() : ["--filter", filter]]);
            Assert.True(run.Succeeded, run.Output + run.Error);
            Match summary = SummaryLine().Match(run.Output);
            Assert.True(summary.Success, run.Output);
            Assert.Equal(mode, summary.Groups[1].Value);
            // The loop ends once the duration has passed since the first packet, so never below it; above it by the
            // last batch and the teardown, with a margin for a loaded 2-core machine.
            Assert.InRange(double.Parse(summary.Groups[2].Value, CultureInfo.InvariantCulture), 2.0, 5.0);
            Assert.True(long.Parse(summary.Groups[3].Value) > 1000, run.Output);
            Assert.True(long.Parse(summary.Groups[4].Value) > 500, run.Output);
            Assert.Equal("0", summary.Groups[8].Value); // alloc_bytes
            Assert.Matches(@"\[\s*\d+\.\ds\] rx_pps=", run.Error); // per-second lines on stderr when not on a terminal
            if (filter is not null)
                Assert.Matches($@"steering ""{filter}"": redirected=[1-9]\d* not_matched=\d+ no_socket=\d+", run.Error);
        }
        finally
        {
            if (feeder is { HasExited: false })
                feeder.Kill();
        }
    }

    [Fact]
    public void Bench_json_is_one_valid_object()
    {
        using VethLab lab = VethLab.Create();
        CommandResult run = KernelTest.AfxdpIn(lab, VethSide.B, "bench", "-i", lab.InterfaceB, "-m", "txonly", "-R", "-d", "1", "--json", "--dmac", lab.MacA);
        Assert.True(run.Succeeded, run.Output + run.Error);
        using JsonDocument json = JsonDocument.Parse(run.Output);
        Assert.Equal("txonly", json.RootElement.GetProperty("mode").GetString());
        Assert.True(json.RootElement.GetProperty("pkts").GetInt64() > 0);
        Assert.Equal(0, json.RootElement.GetProperty("alloc_bytes").GetInt64());
        Assert.Equal(0, json.RootElement.GetProperty("tx_invalid").GetInt64());
    }

    /// <summary>While an rx mode waits for traffic, one line says so (not a line of zeros every second); then the per-second lines start.</summary>
    [Fact]
    public async Task Bench_says_once_that_it_waits_for_the_first_packet()
    {
        using VethLab lab = VethLab.Create();
        using System.Diagnostics.Process bench = KernelTest.StartAfxdpIn(lab, VethSide.B, "bench", "-i", lab.InterfaceB, "-m", "rxdrop", "-a", "drv", "-d", "2", "--wait", "30");
        System.Diagnostics.Process? feeder = null;
        try
        {
            Task<string> error = bench.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            await Task.Delay(TimeSpan.FromSeconds(3.5), TestContext.Current.CancellationToken);
            feeder = KernelTest.StartAfxdpIn(lab, VethSide.A, "bench", "-i", lab.InterfaceA, "-m", "txonly", "-R", "-c", "copy", "-d", "6", "--dmac", lab.MacB,
                "--sip", lab.AddressA.ToString(), "--dip", lab.AddressB.ToString());
            Assert.True(bench.WaitForExit(TimeSpan.FromSeconds(30)), "bench did not finish");
            string lines = await error;
            Assert.True(bench.ExitCode == 0, lines);
            Assert.Single(Regex.Matches(lines, $"^waiting up to 30 s \\(--wait\\) for the first packet on {lab.InterfaceB} queue 0; the 2 s measured start with it$", RegexOptions.Multiline));
            Assert.DoesNotMatch(@"\[\s*0\.0s\] rx_pps=0 ", lines);
            Assert.Matches(@"\[\s*\d+\.\ds\] rx_pps=[1-9]", lines);
        }
        finally
        {
            foreach (System.Diagnostics.Process? p in (System.Diagnostics.Process?[])[bench, feeder])
            {
                if (p is { HasExited: false })
                    p.Kill();
            }
            feeder?.Dispose();
        }
    }
}
