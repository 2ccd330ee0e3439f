using AfXdp.Testing;

namespace AfXdp.KernelTests.Samples;

/// <summary>
/// Real collectors read the sample's "AfXdp" meter while dnsperf sends it queries: the .NET global tool
/// dotnet-counters, attached to the running process by its diagnostics port.
/// </summary>
public sealed class DnsResponderCollectorTests
{
    public DnsResponderCollectorTests() => KernelTest.RequireRoot();

    [Fact]
    public async Task Dotnet_counters_reads_the_AfXdp_meter_s_instruments_with_non_zero_values_while_dnsperf_runs()
    {
        string counters = DotnetCounters.Path;
        using VethLab lab = VethLab.Create();
        using var responder = ServiceProcess.Start(lab, VethSide.B, DnsResponderTests.Arguments(lab, "xdp"));
        Assert.True(responder.Serving, responder.Output);
        string directory = Directory.CreateTempSubdirectory("afxdp-counters-").FullName;
        try
        {
            string queries = System.IO.Path.Combine(directory, "queries");
            File.WriteAllText(queries, "www.example.com A\n");
            Task<CommandResult> load = Task.Run(() => lab.Exec(VethSide.A, "dnsperf", "-s", lab.AddressB.ToString(), "-d", queries, "-l", "8", "-Q", "2000"), TestContext.Current.CancellationToken);
            string csv = System.IO.Path.Combine(directory, "afxdp.csv");
            // The diagnostics port is a socket in /tmp, which `ip netns exec` shares: the tool runs in the root namespace.
            CommandResult collect = ExternalCommand.Run(counters, ["collect", "-p", responder.Id.ToString(), "--counters", "AfXdp", "--format", "csv", "-o", csv, "--duration", "00:00:00:05", "--refresh-interval", "1"],
                TimeSpan.FromSeconds(60));
            Assert.True(collect.Succeeded, $"{collect.CommandLine}: {collect.Output}{collect.Error}");
            CommandResult perf = await load;
            Assert.True(perf.Succeeded, perf.Output + perf.Error);
            string[] rows = File.ReadAllLines(csv);
            // Timestamp,Provider,Counter Name,Counter Type,Mean/Increment; the name carries the unit and the tags.
            var values = rows.Skip(1).Select(r => r.Split(',')).Where(c => c.Length >= 5 && c[1] == "AfXdp")
                .Select(c => (Name: c[2], Value: double.Parse(c[^1], System.Globalization.CultureInfo.InvariantCulture))).ToList();
            string table = string.Join('\n', rows.Take(60));
            foreach (string instrument in (string[])["afxdp.udp.datagrams.received", "afxdp.udp.datagrams.sent", "afxdp.rx.packets", "afxdp.rx.bytes", "afxdp.tx.packets", "afxdp.wakeups"])
                Assert.True(values.Any(v => v.Name.StartsWith(instrument + " ", StringComparison.Ordinal) && v.Value > 0), $"no non-zero {instrument} in {csv}:\n{table}");
            Assert.Contains(values, v => v.Name.StartsWith("afxdp.udp.datagrams.received ({datagram}", StringComparison.Ordinal) && v.Name.Contains($"network.interface.name={lab.InterfaceB}"));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
