using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using AfXdp.Hosting;
using DnsResponder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;

// The command line is one configuration source, over appsettings.json and the environment: each option given sets
// its key (--interface is AfXdp:Interface, --record Dns:Records:N, ...), and what it leaves out comes from the others.
var iface = new Option<string>("--interface", "-i") { Description = "interface to serve on (AfXdp:Interface)" };
var ip = new Option<IPAddress[]>("--ip")
{
    Description = "IPv4 or IPv6 address to serve on, with --port; repeat it to serve several, e.g. --ip 10.99.0.2 --ip fd00:99::2 " +
        "(AfXdp:Endpoints:N; the host's own addresses work: only DNS queries to them are taken; a link-local IPv6 one names its interface, fe80::2%eth0)",
    AllowMultipleArgumentsPerToken = false,
    CustomParser = r =>
    {
        var addresses = new List<IPAddress>();
        foreach (string text in r.Tokens.Select(t => t.Value))
        {
            if (IPAddress.TryParse(text, out IPAddress? address)
                && (address.AddressFamily == AddressFamily.InterNetwork && text.Count(c => c == '.') == 3 || address.AddressFamily == AddressFamily.InterNetworkV6))
                addresses.Add(address);
            else
                r.AddError($"--ip: '{text}' is not an IPv4 or IPv6 address; write e.g. --ip 10.99.0.2 or --ip fd00:99::2");
        }
        return [.. addresses];
    },
};
var port = new Option<ushort>("--port") { Description = "UDP port, with --ip (the same for every --ip)", DefaultValueFactory = _ => 53 };
var records = new Option<string[]>("--record") { Description = "an A record, NAME=IPV4; repeat for more (Dns:Records)", AllowMultipleArgumentsPerToken = false };
var duration = new Option<double?>("--duration", "-d") { Description = "seconds to serve; 0 serves until Ctrl-C or SIGTERM (Dns:DurationSeconds)" };
var kernel = new Option<bool>("--kernel") { Description = "serve through System.Net.Sockets (the kernel's UDP stack) instead of AF_XDP, for comparison (Dns:Kernel)" };
var spin = new Option<int?>("--spin-us") { Description = "AF_XDP: microseconds an idle worker polls before it sleeps in poll(2); default: adaptive, from the query rate (AfXdp:SpinTime)" };
spin.Validators.Add(r => { if (r.GetValueOrDefault<int?>() is < 0 or > 1_000_000) r.AddError("--spin-us must be from 0 to 1000000"); });
var coalesce = new Option<int?>("--coalesce-us") { Description = "AF_XDP: microseconds a worker woken by a query waits for more, so that they share one wakeup and one send (like a NIC's rx-usecs); adds that much latency; default: adaptive, 0 to 64 (AfXdp:Coalesce)" };
coalesce.Validators.Add(r => { if (r.GetValueOrDefault<int?>() is < 0 or > 10_000) r.AddError("--coalesce-us must be from 0 to 10000 (10 ms): it is added to every answer's latency"); });
var threads = new Option<int?>("--threads") { Description = "--kernel: sockets (SO_REUSEPORT), one thread each; default one per CPU the process may run on (Dns:Threads)" };
var xskmap = new Option<string?>("--xskmap")
{
    Description = $"AF_XDP: take the XSKMAP from the AF_XDP device plugin instead of loading a program: {AfXdp.DevicePlugin.XskMapSource.Forms} (AfXdp:XskMap)",
    Validators = { r => { if (!AfXdp.DevicePlugin.XskMapSource.TryParse(r.GetValueOrDefault<string>()!, out _, out string error)) r.AddError($"--xskmap: {error}"); } },
};
var prometheus = new Option<int?>("--prometheus-port")
{
    Description = "serve the \"AfXdp\" meter's metrics for Prometheus on http://localhost:PORT/metrics (OpenTelemetry's exporter; Dns:PrometheusPort)",
};

var root = new RootCommand("An authoritative DNS responder for A records, over AF_XDP or (--kernel) System.Net.Sockets, on the .NET Generic Host: " +
    "settings from appsettings.json, the environment (AfXdp__Interface, Dns__Records__0, ...) and these options.")
{
    iface, ip, port, records, duration, kernel, threads, spin, coalesce, xskmap, prometheus,
};
ParseResult parse = root.Parse(args);
if (parse.Action is System.CommandLine.Invocation.ParseErrorAction)
{
    // A command line that cannot be right: its errors, a line each, not the help text.
    foreach (ParseError error in parse.Errors)
        Console.Error.WriteLine(error.Message);
    return 2;
}
if (parse.Action is not null)
    return parse.Invoke(); // --help, --version

var given = new Dictionary<string, string?>();
void Set<T>(Option<T> option, string key, Func<T, string> text)
{
    if (parse.GetResult(option) is { Implicit: false } && parse.GetValue(option) is { } value)
        given[key] = text(value);
}
if (parse.GetResult(port) is { Implicit: false } && parse.GetResult(ip) is null)
{
    Console.Error.WriteLine("--port goes with --ip: give the address too, e.g. --ip 10.99.0.2 --port 5353");
    return 2;
}
Set(iface, "AfXdp:Interface", v => v);
IPAddress[] ipsGiven = parse.GetValue(ip) ?? [];
for (int i = 0; i < ipsGiven.Length; i++)
    given[$"AfXdp:Endpoints:{i}"] = new IPEndPoint(ipsGiven[i], parse.GetValue(port)).ToString();
string[] recordsGiven = parse.GetValue(records) ?? [];
for (int i = 0; i < recordsGiven.Length; i++)
    given[$"Dns:Records:{i}"] = recordsGiven[i];
Set(duration, "Dns:DurationSeconds", v => v!.Value.ToString(CultureInfo.InvariantCulture));
Set(kernel, "Dns:Kernel", v => v ? "true" : "false");
Set(threads, "Dns:Threads", v => v!.Value.ToString(CultureInfo.InvariantCulture));
Set(spin, "AfXdp:SpinTime", v => TimeSpan.FromMicroseconds(v!.Value).ToString("c", CultureInfo.InvariantCulture));
Set(coalesce, "AfXdp:Coalesce", v => TimeSpan.FromMicroseconds(v!.Value).ToString("c", CultureInfo.InvariantCulture));
Set(xskmap, "AfXdp:XskMap", v => v!);
Set(prometheus, "Dns:PrometheusPort", v => v!.Value.ToString(CultureInfo.InvariantCulture));

// appsettings.json beside the program, not in the working directory: a service's files are where it was published.
HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory });
builder.Configuration.AddInMemoryCollection(given);

DnsSettings dns;
DnsZone zone;
try
{
    dns = builder.Configuration.GetSection(DnsSettings.Section).Get<DnsSettings>() ?? new DnsSettings();
    zone = DnsZone.Parse(dns.Records);
}
catch (Exception e) when (e is FormatException or InvalidOperationException)
{
    // A record that is no record, or a value the binder cannot convert ("Failed to convert configuration value ... at 'Dns:Threads'").
    Console.Error.WriteLine(e.Message);
    return 2;
}
if (dns.Validate().ToList() is [_, ..] errors)
{
    errors.ForEach(Console.Error.WriteLine);
    return 2;
}

builder.Services.AddSystemd();
builder.Services.Configure<DnsSettings>(builder.Configuration.GetSection(DnsSettings.Section));
builder.Services.AddSingleton(zone);
// Before the server: the host stops its services in reverse order, so DnsRun logs the summary once the server has stopped.
builder.Services.AddSingleton<DnsRun>();
builder.Services.AddHostedService(provider => provider.GetRequiredService<DnsRun>());
if (dns.Kernel)
{
    builder.Services.AddOptions<UdpServiceSettings>(DnsSettings.UdpSection).Bind(builder.Configuration.GetSection(DnsSettings.UdpSection));
    builder.Services.AddHostedService<SocketServer>();
}
else
{
    builder.Services.AddUdpService<DnsHandler>(builder.Configuration.GetSection(DnsSettings.UdpSection));
    // The service's health, told in the log when it changes (the kernel's sockets have no check of their own here).
    builder.Services.AddHealthChecks().AddUdpService().PublishToLog();
}
if (dns.PrometheusPort is { } metricsPort)
    builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(AfXdp.Metrics.AfXdpMetrics.MeterName).AddPrometheusHttpListener(o => o.Port = metricsPort));

builder.Build().Run();
return Environment.ExitCode;
