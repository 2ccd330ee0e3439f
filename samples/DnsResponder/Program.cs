using System.CommandLine;
using System.CommandLine.Parsing;
using System.Net;
using System.Net.Sockets;
using DnsResponder;
using OpenTelemetry;
using OpenTelemetry.Metrics;

var iface = new Option<string>("--interface", "-i") { Description = "interface to serve on", Required = true };
var ip = new Option<IPAddress>("--ip")
{
    Description = "IPv4 address to serve on (the host's own address works: only DNS queries to it are taken)",
    Required = true,
    CustomParser = r =>
    {
        string text = r.Tokens.Single().Value;
        if (IPAddress.TryParse(text, out IPAddress? address) && address.AddressFamily == AddressFamily.InterNetwork && text.Count(c => c == '.') == 3)
            return address;
        r.AddError($"--ip: '{text}' is not an IPv4 address; write e.g. --ip 10.99.0.2");
        return null!;
    },
};
var port = new Option<ushort>("--port") { Description = "UDP port", DefaultValueFactory = _ => 53 };
var records = new Option<string[]>("--record") { Description = "an A record, NAME=IPV4; repeat for more", Required = true, AllowMultipleArgumentsPerToken = false };
var duration = new Option<double>("--duration", "-d") { Description = "seconds to serve; 0 serves until Ctrl-C or SIGTERM", DefaultValueFactory = _ => 0 };
duration.Validators.Add(r => { if (r.GetValueOrDefault<double>() is < 0 or > 86400) r.AddError("--duration must be from 0 to 86400 seconds"); });
var kernel = new Option<bool>("--kernel") { Description = "serve through System.Net.Sockets (the kernel's UDP stack) instead of AF_XDP, for comparison" };
var spin = new Option<int>("--spin-us") { Description = "AF_XDP: microseconds an idle worker polls before it sleeps in poll(2)", DefaultValueFactory = _ => 50 };
spin.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 0 or > 1_000_000) r.AddError("--spin-us must be from 0 to 1000000"); });
var coalesce = new Option<int>("--coalesce-us") { Description = "AF_XDP: microseconds a worker woken by a query waits for more, so that they share one wakeup and one send (like a NIC's rx-usecs); adds that much latency", DefaultValueFactory = _ => 0 };
coalesce.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 0 or > 10_000) r.AddError("--coalesce-us must be from 0 to 10000 (10 ms): it is added to every answer's latency"); });
var threads = new Option<int>("--threads") { Description = "--kernel: sockets (SO_REUSEPORT), one thread each; default one per CPU the process may run on", DefaultValueFactory = _ => Environment.ProcessorCount };
threads.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 1 or > 256) r.AddError("--threads must be from 1 to 256"); });

var xskmap = new Option<AfXdp.DevicePlugin.XskMapSource?>("--xskmap")
{
    Description = $"AF_XDP: take the XSKMAP from the AF_XDP device plugin instead of loading a program: {AfXdp.DevicePlugin.XskMapSource.Forms}",
    CustomParser = r =>
    {
        if (AfXdp.DevicePlugin.XskMapSource.TryParse(r.Tokens.Single().Value, out AfXdp.DevicePlugin.XskMapSource? source, out string error))
            return source;
        r.AddError($"--xskmap: {error}");
        return null;
    },
};

var prometheus = new Option<int?>("--prometheus-port")
{
    Description = "serve the \"AfXdp\" meter's metrics for Prometheus on http://localhost:PORT/metrics (OpenTelemetry's exporter)",
};
prometheus.Validators.Add(r => { if (r.GetValueOrDefault<int?>() is < 1 or > 65535) r.AddError("--prometheus-port must be from 1 to 65535"); });

var root = new RootCommand("An authoritative DNS responder for A records, over AF_XDP or (--kernel) System.Net.Sockets.")
{
    iface, ip, port, records, duration, kernel, threads, spin, coalesce, xskmap, prometheus,
};
root.SetAction(r =>
{
    DnsZone zone;
    try
    {
        zone = DnsZone.Parse(r.GetRequiredValue(records));
    }
    catch (FormatException e)
    {
        Console.Error.WriteLine(e.Message);
        return 2;
    }
    double seconds = r.GetValue(duration);
    using var stop = seconds > 0 ? new CancellationTokenSource(TimeSpan.FromSeconds(seconds)) : new CancellationTokenSource();
    using var interrupt = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
    using var terminate = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
    using MeterProvider? metrics = r.GetValue(prometheus) is { } metricsPort
        ? Sdk.CreateMeterProviderBuilder().AddMeter(AfXdp.Metrics.AfXdpMetrics.MeterName)
            .AddPrometheusHttpListener(o => o.Port = metricsPort).Build()
        : null;
    var endpoint = new IPEndPoint(r.GetRequiredValue(ip), r.GetValue(port));
    string name = r.GetRequiredValue(iface);
    return r.GetValue(kernel)
        ? SocketServer.Run(name, endpoint, zone, r.GetValue(threads), stop.Token)
        : XdpServer.Run(name, endpoint, zone, TimeSpan.FromMicroseconds(r.GetValue(spin)), TimeSpan.FromMicroseconds(r.GetValue(coalesce)), r.GetValue(xskmap), stop.Token);
});
try
{
    ParseResult parse = root.Parse(args);
    if (parse.Action is System.CommandLine.Invocation.ParseErrorAction)
    {
        // A command line that cannot be right: its errors, a line each, not the help text.
        foreach (ParseError error in parse.Errors)
            Console.Error.WriteLine(error.Message);
        return 2;
    }
    return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e) when (e is AfXdp.AfXdpException or SocketException)
{
    // One line naming what failed, why and the fix; never a stack trace.
    Console.Error.WriteLine(e.Message);
    return 2;
}
