using System.Net;
using AfXdp.Bpf;
using AfXdp.Device;

namespace AfXdp.Udp;

/// <summary>What a <see cref="UdpService"/> serves and how; <see cref="Validate"/> runs before any syscall.</summary>
public sealed record UdpServiceOptions
{
    /// <summary>The interface to serve on.</summary>
    public required string Interface { get; init; }

    /// <summary>
    /// The IPv4 and IPv6 (address, UDP port) pairs served. Each address must be one the interface has: the kernel
    /// keeps answering ARP, neighbour discovery, ping and everything else for it. A link-local IPv6 address (fe80::/10)
    /// carries the interface as its scope id ([fe80::1%eth0]:53).
    /// </summary>
    public required IReadOnlyList<IPEndPoint> Endpoints { get; init; }

    /// <summary>The CPU of each queue's worker, by queue (sched_setaffinity); null leaves the scheduler free.</summary>
    public IReadOnlyList<int>? Cores { get; init; }

    /// <summary>Where the steering program runs: native (driver) mode when the driver has it, else generic.</summary>
    public XdpAttachMode AttachMode { get; init; } = XdpAttachMode.Auto;

    /// <summary>Replace another XDP program attached to the interface instead of refusing.</summary>
    public bool ReplaceExisting { get; init; }

    /// <summary>
    /// An XSKMAP someone else's program redirects into, e.g. the AF_XDP device plugin's
    /// (<c>XskMapSource.Open</c>): the service registers its sockets there and loads no program, so it
    /// needs no CAP_BPF or CAP_NET_ADMIN. That program decides what arrives; what is not a served datagram
    /// is dropped (counted as unanswerable), not passed to the kernel. The caller keeps the map open while the service runs.
    /// </summary>
    public XskMap? XskMap { get; init; }

    /// <summary>Most datagrams handed to the handler at once.</summary>
    public uint BatchSize { get; init; } = 64;

    /// <summary>
    /// How long an idle worker polls its rings before it sleeps in poll(2): latency of the first datagram
    /// after a pause against CPU time (see <see cref="Engine.XdpEngineOptions.SpinTime"/>). Null (the default)
    /// lets the worker choose from the rate it sees: it spins only while datagrams come closer than about 5 µs.
    /// Zero always sleeps at once; <see cref="Timeout.InfiniteTimeSpan"/> never sleeps.
    /// </summary>
    public TimeSpan? SpinTime { get; init; }

    /// <summary>
    /// Software interrupt moderation (see <see cref="Engine.XdpEngineOptions.Coalesce"/>): a worker woken by a
    /// datagram waits this long for more, so that they share one wakeup and one send. Less CPU per datagram
    /// at moderate rates for up to this much added latency. Null (the default) lets the worker choose a window
    /// of 0 to 64 µs from the rate it sees, wider only while it brings more datagrams per wakeup; zero answers each at once.
    /// </summary>
    public TimeSpan? Coalesce { get; init; }

    /// <summary>How long a neighbour's MAC address, once looked up for <see cref="UdpSender.Send(UdpEndpoint, ReadOnlySpan{byte})"/>, is used without asking the kernel again.</summary>
    public TimeSpan NeighbourLifetime { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Told, from a worker thread, the first exception of each type the handler throws (the service, the queue
    /// and the exception with its stack); later ones of that type are only counted
    /// (<see cref="UdpServiceCounters.HandlerErrors"/>). Also told, once per reason, why datagrams are dropped when
    /// the operator can fix it (checksums: <see cref="UdpServiceCounters.BadChecksums"/>), with the fix, and at start each
    /// kernel socket the service shadows. Each report carries its <see cref="UdpServiceReportKind"/>. Null: counted only.
    /// </summary>
    public Action<UdpServiceReport>? Log { get; init; }

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first value that cannot work, its cause and the fix.</summary>
    public void Validate()
    {
        ArgumentException.ThrowIfNullOrEmpty(Interface);
        ArgumentNullException.ThrowIfNull(Endpoints);
        if (Endpoints.Count == 0)
            Throw.Argument(nameof(Endpoints), "UdpServiceOptions.Endpoints = []", "a UDP service serves at least one (address, port) pair.", "list the endpoints to serve, e.g. 192.0.2.1:53 or [2001:db8::1]:53.");
        foreach (IPEndPoint endpoint in Endpoints)
        {
            UdpEndpoint.From(endpoint);
            if (endpoint.Port == 0)
                Throw.Argument(nameof(Endpoints), $"UdpServiceOptions.Endpoints: {endpoint}", "port 0 is no port a client can send to.", "give the port to serve, e.g. 53.");
        }
        if (Endpoints.Distinct().Count() != Endpoints.Count)
            Throw.Argument(nameof(Endpoints), $"UdpServiceOptions.Endpoints = [{string.Join(", ", Endpoints)}]", "an endpoint is listed twice.", "list every endpoint once.");
        if (BatchSize is 0 or > 1024)
            Throw.OutOfRange(nameof(BatchSize), $"UdpServiceOptions.BatchSize = {BatchSize}", "a batch holds 1 to 1024 datagrams.", "use e.g. 64.");
        Engine.XdpEngineOptions.ValidateWaits("UdpServiceOptions", SpinTime, Coalesce);
        if (NeighbourLifetime <= TimeSpan.Zero)
            Throw.OutOfRange(nameof(NeighbourLifetime), $"UdpServiceOptions.NeighbourLifetime = {NeighbourLifetime}", "a cached neighbour must live a while.", "use e.g. 10 s.");
    }
}
