using System.Globalization;
using System.Text.RegularExpressions;
using AfXdp.Testing;

namespace AfXdp.KernelTests.Samples;

/// <summary>The sample's --prometheus-port endpoint (OpenTelemetry's Prometheus exporter) scraped with curl while dnsperf sends queries.</summary>
public sealed class DnsResponderPrometheusTests
{
    public DnsResponderPrometheusTests() => KernelTest.RequireRoot();

    [Fact]
    public async Task Curl_scrapes_non_zero_AfXdp_counters_from_the_prometheus_endpoint_while_dnsperf_runs()
    {
        using VethLab lab = VethLab.Create();
        using var responder = ServiceProcess.Start(lab, VethSide.B, DnsResponderTests.Arguments(lab, "xdp", "--prometheus-port", "9464"));
        Assert.True(responder.Serving, responder.Output);
        string directory = Directory.CreateTempSubdirectory("afxdp-prometheus-").FullName;
        try
        {
            string queries = Path.Combine(directory, "queries");
            File.WriteAllText(queries, "www.example.com A\n");
            Task<CommandResult> load = Task.Run(() => lab.Exec(VethSide.A, "dnsperf", "-s", lab.AddressB.ToString(), "-d", queries, "-l", "5", "-Q", "2000"), TestContext.Current.CancellationToken);
            await Task.Delay(TimeSpan.FromSeconds(3), TestContext.Current.CancellationToken);
            CommandResult scrape = lab.Exec(VethSide.B, "curl", "-sS", "--max-time", "10", "http://localhost:9464/metrics");
            Assert.True(scrape.Succeeded, $"{scrape.CommandLine}: {scrape.Error}\n{responder.Output}");
            Assert.True((await load).Succeeded);
            foreach (string metric in (string[])["afxdp_udp_datagrams_received_total", "afxdp_udp_datagrams_sent_total", "afxdp_rx_packets_total"])
            {
                Match sample = Regex.Match(scrape.Output, $@"^{metric}\{{[^}}]*network_interface_name=""{lab.InterfaceB}""[^}}]*\}} (?<value>\S+)", RegexOptions.Multiline);
                Assert.True(sample.Success, $"no {metric} for {lab.InterfaceB} in:\n{scrape.Output}");
                Assert.True(double.Parse(sample.Groups["value"].Value, CultureInfo.InvariantCulture) > 0, sample.Value);
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
