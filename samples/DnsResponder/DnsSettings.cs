namespace DnsResponder;

/// <summary>
/// The responder's own settings, the configuration section "Dns" (appsettings.json, environment variables such as
/// <c>Dns__Records__0=www.example.com=192.0.2.10</c>, the command line); where it serves is the "AfXdp" section
/// (<see cref="AfXdp.Hosting.UdpServiceSettings"/>), in both modes.
/// </summary>
public sealed class DnsSettings
{
    /// <summary>The configuration section of these settings.</summary>
    public const string Section = "Dns";

    /// <summary>The configuration section of where it serves, the hosting package's <see cref="AfXdp.Hosting.UdpServiceSettings"/>.</summary>
    public const string UdpSection = "AfXdp";

    /// <summary>The A records, each "NAME=IPV4" (--record).</summary>
    public List<string> Records { get; set; } = [];

    /// <summary>Seconds to serve; 0 serves until SIGTERM or Ctrl-C (--duration).</summary>
    public double DurationSeconds { get; set; }

    /// <summary>Serve through System.Net.Sockets instead of AF_XDP (--kernel).</summary>
    public bool Kernel { get; set; }

    /// <summary>--kernel: sockets on the endpoint (SO_REUSEPORT), a thread each (--threads).</summary>
    public int Threads { get; set; } = Environment.ProcessorCount;

    /// <summary>Serve the "AfXdp" meter for Prometheus on http://localhost:PORT/metrics (--prometheus-port).</summary>
    public int? PrometheusPort { get; set; }

    /// <summary>A line per wrong value, naming the option, the key and the fix.</summary>
    public IEnumerable<string> Validate()
    {
        if (DurationSeconds is < 0 or > 86400 or double.NaN)
            yield return $"--duration (Dns:DurationSeconds = {DurationSeconds}) must be from 0 to 86400 seconds";
        if (Threads is < 1 or > 256)
            yield return $"--threads (Dns:Threads = {Threads}) must be from 1 to 256";
        if (PrometheusPort is < 1 or > 65535)
            yield return $"--prometheus-port (Dns:PrometheusPort = {PrometheusPort}) must be from 1 to 65535";
    }
}
