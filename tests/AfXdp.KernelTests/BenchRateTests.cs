using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using AfXdp.Testing;

namespace AfXdp.KernelTests;

/// <summary>`afxdp bench -m txonly --rate N`: the paced generator behind docs/performance.md's async CPU figures.</summary>
public sealed partial class BenchRateTests
{
    public BenchRateTests() => KernelTest.RequireRoot();

    [GeneratedRegex(@"^mode=txonly .* secs=([\d.]+) pkts=(\d+) pps=(\d+) ", RegexOptions.Multiline)]
    private static partial Regex SummaryLine();

    [Fact]
    public void Paced_txonly_never_exceeds_its_rate_and_every_frame_reaches_the_peer()
    {
        const int Rate = 20_000;
        using VethLab lab = VethLab.Create();
        long before = ReceivedPackets(lab);

        CommandResult run = KernelTest.AfxdpIn(lab, VethSide.A, "bench", "-i", lab.InterfaceA, "-m", "txonly", "-R", "-c", "copy",
            "--rate", Rate.ToString(CultureInfo.InvariantCulture), "-d", "3", "--dmac", lab.MacB,
            "--sip", lab.AddressA.ToString(), "--dip", lab.AddressB.ToString());

        Assert.True(run.Succeeded, run.Output + run.Error);
        Match summary = SummaryLine().Match(run.Output);
        Assert.True(summary.Success, run.Output);
        double seconds = double.Parse(summary.Groups[1].Value, CultureInfo.InvariantCulture);
        long sent = long.Parse(summary.Groups[2].Value, CultureInfo.InvariantCulture);
        // The pacer releases frames by the clock, so it can only fall behind (a loaded machine), never get ahead.
        // secs is printed with 2 decimals: the run may have lasted up to 5 ms longer than it says.
        Assert.InRange(sent, (long)(0.7 * Rate * seconds), (long)(Rate * (seconds + 0.005)) + 1);
        long arrived = ReceivedPackets(lab) - before;
        // pkts counts completions, and bench reaps them only when it needs frames: after a late wake-up it catches
        // up in several batches back to back, so up to a TX ring of frames (2048) may have left uncounted when the
        // run ends (seen under a build loop: 160); a few frames of the peers' own may pass too.
        Assert.InRange(arrived, sent, sent + 2048 + 20);
    }

    [Theory]
    [InlineData(new[] { "-m", "txonly", "--rate", "0" }, "--rate: '0' is not a rate from 1 to 100000000 frames per second")]
    [InlineData(new[] { "-m", "txonly", "--rate", "fast" }, "--rate: 'fast' is not a rate from 1 to 100000000 frames per second")]
    [InlineData(new[] { "-m", "rxdrop", "--rate", "1000" }, "--rate: only with -m txonly, not -m rxdrop")]
    public void Bad_rates_are_usage_errors_naming_the_option(string[] options, string message)
    {
        CommandResult run = KernelTest.Afxdp(["bench", "-i", "lo", .. options]);
        // A usage error: exit code 2 and one line on stderr, nothing else.
        Assert.Equal(2, run.ExitCode);
        Assert.Equal($"afxdp bench: {message}\n", run.Error);
        Assert.Equal("", run.Output);
    }

    /// <summary>Frames B's end of the veth pair received (ip -s link).</summary>
    static long ReceivedPackets(VethLab lab)
    {
        using JsonDocument link = JsonDocument.Parse(lab.Exec(VethSide.B, "ip", "-s", "-j", "link", "show", lab.InterfaceB).Output);
        return link.RootElement[0].GetProperty("stats64").GetProperty("rx").GetProperty("packets").GetInt64();
    }
}
