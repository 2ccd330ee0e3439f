using System.Net;
using System.Net.Sockets;
using AfXdp.Device;
using AfXdp.DevicePlugin;
using AfXdp.Udp;
using Microsoft.Extensions.Options;

namespace AfXdp.Hosting;

/// <summary>
/// A <see cref="UdpServiceOptions"/> that configuration can bind (appsettings.json, environment variables such
/// as <c>AfXdp__Endpoints__0=10.0.0.1:53</c>, <c>AfXdp__Endpoints__1=[fd00::1]:53</c>): endpoints and the XSKMAP source are strings; a value left unset
/// keeps the library's default.
/// </summary>
public sealed class UdpServiceSettings
{
    /// <summary>The interface to serve on (<see cref="UdpServiceOptions.Interface"/>).</summary>
    public string? Interface { get; set; }

    /// <summary>The IPv4 and IPv6 endpoints served, each "ADDRESS:PORT" or "[IPV6]:PORT", e.g. "10.0.0.1:53", "[fd00::1]:53" (<see cref="UdpServiceOptions.Endpoints"/>).</summary>
    public List<string> Endpoints { get; set; } = [];

    /// <summary>The CPU of each queue's worker (<see cref="UdpServiceOptions.Cores"/>).</summary>
    public List<int>? Cores { get; set; }

    /// <summary>Where the steering program runs: Auto, Skb, Drv or Hw (<see cref="UdpServiceOptions.AttachMode"/>).</summary>
    public XdpAttachMode? AttachMode { get; set; }

    /// <summary>Replace another XDP program on the interface (<see cref="UdpServiceOptions.ReplaceExisting"/>).</summary>
    public bool? ReplaceExisting { get; set; }

    /// <summary>The AF_XDP device plugin's XSKMAP to register in instead of loading a program: "uds[:PATH]" or "pin[:PATH]" (<see cref="XskMapSource"/>).</summary>
    public string? XskMap { get; set; }

    /// <summary><see cref="UdpServiceOptions.BatchSize"/>.</summary>
    public uint? BatchSize { get; set; }

    /// <summary><see cref="UdpServiceOptions.SpinTime"/>, e.g. "00:00:00.00005" (50 µs); absent: adaptive.</summary>
    public TimeSpan? SpinTime { get; set; }

    /// <summary><see cref="UdpServiceOptions.Coalesce"/>, e.g. "00:00:00.0002" (200 µs); absent: adaptive.</summary>
    public TimeSpan? Coalesce { get; set; }

    /// <summary><see cref="UdpServiceOptions.NeighbourLifetime"/>.</summary>
    public TimeSpan? NeighbourLifetime { get; set; }

    /// <summary>How long the host's shutdown waits for the workers to stop and the program to be detached.</summary>
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The options these settings stand for, and the XSKMAP source when one is set; throws an <see cref="OptionsValidationException"/>
    /// with a line per wrong value (its <see cref="OptionsValidationException.Failures"/>), naming its key under
    /// <paramref name="section"/>, the value, the cause and the fix.
    /// </summary>
    public (UdpServiceOptions Options, XskMapSource? XskMap) ToOptions(string section)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Interface))
            errors.Add($"{section}:Interface is not set: the service needs an interface to serve on; set it, e.g. \"Interface\": \"eth0\" (environment: {Variable(section)}__Interface=eth0).");
        if (Endpoints.Count == 0)
            errors.Add($"{section}:Endpoints is empty: a UDP service serves at least one IPv4 or IPv6 address and port; list them, e.g. \"Endpoints\": [\"10.0.0.1:53\"] (environment: {Variable(section)}__Endpoints__0=10.0.0.1:53).");
        var endpoints = new List<IPEndPoint>();
        for (int i = 0; i < Endpoints.Count; i++)
        {
            if (ParseEndpoint(Endpoints[i]) is { } endpoint)
                endpoints.Add(endpoint);
            else
                errors.Add($"{section}:Endpoints:{i} = \"{Endpoints[i]}\": not an IPv4 or [IPv6] address and port; write e.g. \"10.0.0.1:53\" or \"[fd00::1]:53\".");
        }
        XskMapSource? source = null;
        if (XskMap is not null && !XskMapSource.TryParse(XskMap, out source, out string mapError))
            errors.Add($"{section}:XskMap = \"{XskMap}\": {mapError}");
        if (StopTimeout <= TimeSpan.Zero)
            errors.Add($"{section}:StopTimeout = {StopTimeout}: shutdown must give the workers time to stop; use e.g. \"00:00:05\".");
        if (errors.Count != 0)
            throw new OptionsValidationException(section, typeof(UdpServiceSettings), errors);
        var options = new UdpServiceOptions { Interface = Interface!, Endpoints = endpoints, Cores = Cores };
        options = options with
        {
            AttachMode = AttachMode ?? options.AttachMode,
            ReplaceExisting = ReplaceExisting ?? options.ReplaceExisting,
            BatchSize = BatchSize ?? options.BatchSize,
            SpinTime = SpinTime ?? options.SpinTime,
            Coalesce = Coalesce ?? options.Coalesce,
            NeighbourLifetime = NeighbourLifetime ?? options.NeighbourLifetime,
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw new OptionsValidationException(section, typeof(UdpServiceSettings), [$"{section}: {e.Message}"]);
        }
        return (options, source);
    }

    /// <summary>"A.B.C.D:PORT" or "[IPV6]:PORT" with a port from 1 to 65535, else null (a name, or an address without its port, is no endpoint the service can serve).</summary>
    static IPEndPoint? ParseEndpoint(string text) =>
        IPEndPoint.TryParse(text, out IPEndPoint? endpoint) && endpoint.Port != 0
            && (endpoint.AddressFamily == AddressFamily.InterNetwork && text.Count(c => c == '.') == 3 && text.Contains(':')
                || endpoint.AddressFamily == AddressFamily.InterNetworkV6 && text.StartsWith('[') && text.Contains("]:", StringComparison.Ordinal))
            ? endpoint : null;

    /// <summary>The environment variable prefix of a section: "AfXdp:Udp" is AfXdp__Udp.</summary>
    static string Variable(string section) => section.Replace(":", "__", StringComparison.Ordinal);
}
