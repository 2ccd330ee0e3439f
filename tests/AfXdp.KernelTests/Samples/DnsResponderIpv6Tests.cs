using System.Text.RegularExpressions;
using AfXdp.Testing;

namespace AfXdp.KernelTests.Samples;

/// <summary>samples/DnsResponder serving an IPv4 and an IPv6 address at once, against dig -6 and dnsperf over IPv6, in both modes.</summary>
public sealed class DnsResponderIpv6Tests
{
    public DnsResponderIpv6Tests() => KernelTest.RequireRoot();

    public static TheoryData<string> Modes => ["xdp", "kernel"];

    [Theory]
    [MemberData(nameof(Modes))]
    public void Dig_minus_6_and_dnsperf_over_ipv6_get_answers_beside_ipv4(string mode)
    {
        using VethLab lab = Ipv6Lab.Create();
        using var responder = ServiceProcess.Start(lab, VethSide.B, DnsResponderTests.Arguments(lab, mode, "--ip", Ipv6Lab.AddressB.ToString()));
        Assert.True(responder.Serving, responder.Output);

        Tools.Require("dig", "bind9-dnsutils");
        CommandResult six = lab.Exec(VethSide.A, "dig", "-6", "+time=2", "+tries=2", $"@{Ipv6Lab.AddressB}", "www.example.com", "A");
        Assert.True(six.Succeeded, six.Output + six.Error);
        Assert.Contains("status: NOERROR", six.Output);
        Assert.Matches(@"www\.example\.com\.\s+300\s+IN\s+A\s+192\.0\.2\.10", six.Output);
        Assert.Contains($"SERVER: {Ipv6Lab.AddressB}#53", six.Output);
        Assert.Contains("status: NOERROR", DnsResponderTests.Dig(lab, "www.example.com", "A").Output);

        Tools.Require("dnsperf", "dnsperf");
        string directory = Directory.CreateTempSubdirectory("afxdp-dnsperf6-").FullName;
        try
        {
            string queries = Path.Combine(directory, "queries");
            File.WriteAllText(queries, "www.example.com A\n");
            CommandResult perf = lab.Exec(VethSide.A, "dnsperf", "-s", Ipv6Lab.AddressB.ToString(), "-d", queries, "-l", "2", "-Q", "2000");
            Assert.True(perf.Succeeded, perf.Output + perf.Error);
            Match completed = Regex.Match(perf.Output, @"Queries completed:\s+(\d+)");
            Assert.True(completed.Success, perf.Output);
            Assert.True(int.Parse(completed.Groups[1].Value) >= 1000, perf.Output);
            Assert.Matches(@"Queries lost:\s+0 ", perf.Output);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }

        (int exitCode, string output) = responder.Stop();
        Assert.Equal(0, exitCode);
        Assert.Matches(@"answered \d{4,} queries", output);
        Assert.Contains("formerr=0", output);
    }

    [Fact]
    public void An_ipv6_address_the_interface_lacks_is_one_line_with_the_fix_and_exit_code_2()
    {
        using VethLab lab = Ipv6Lab.Create();
        using var responder = ServiceProcess.Start(lab, VethSide.B, DnsResponderTests.Arguments(lab, "xdp", "--ip", "fd00:99::77"));
        (int code, string output) = responder.Stop();
        Assert.Equal(2, code);
        Assert.Contains("fd00:99::77 is not an IPv6 address of " + lab.InterfaceB, output);
        Assert.Contains("ip -6 addr add fd00:99::77/64", output);
        Assert.Single(output.Trim().Split('\n'));
    }
}
