using System.Net;
using AfXdp.Bpf;
using AfXdp.Device;
using AfXdp.Engine;
using AfXdp.Net;
using AfXdp.Xsk;

namespace AfXdp.Udp;

/// <summary>
/// Kernel-bypass UDP: serves IPv4 and IPv6 (address, port) pairs of an interface over AF_XDP, on every active
/// queue (an <see cref="XdpEngine"/> worker and socket each). A steering program takes only unfragmented
/// IPv4/UDP datagrams without options, and IPv6/UDP ones without extension headers, to those pairs; everything
/// else (ARP, ICMP, ICMPv6 and neighbour discovery, TCP, other ports, fragments, options, extension headers) still
/// reaches the kernel, so the host keeps its addresses and its other services. Each datagram is checked (lengths,
/// IPv4 header and UDP checksums, the UDP checksum IPv6 makes mandatory, RFC 1122 and RFC 4291 sources, reflector
/// ports) before the handler sees it; bad ones are counted and dropped.
/// </summary>
/// <example>
/// <code>
/// using var service = new UdpService(new UdpServiceOptions { Interface = "eth0", Endpoints = [IPEndPoint.Parse("192.0.2.1:7007")] });
/// service.Run(batch =>
/// {
///     foreach (Datagram d in batch)
///     {
///         Ascii.ToUpperInPlace(d.Payload, out int length);
///         d.Reply(length);
///     }
/// }, token);
/// </code>
/// </example>
public sealed partial class UdpService : IDisposable
{
    // 2 KiB frames hold a 1500-byte MTU; a FILL ring of 1024 plus room to send.
    const uint FrameSize = 2048, RingSize = 1024, FramesPerQueue = 2048;

    readonly XdpEngine _engine;
    readonly XskRedirectProgram? _program;
    readonly NeighbourTable[] _neighbours;
    readonly UdpSender[] _senders;
    readonly UdpServiceCounters[] _counters;
    readonly HostPolicy[] _hosts;
    readonly UdpEndpoint[] _endpoints;
    readonly IDisposable _metrics;
    readonly HandlerErrorLog _handlerErrors;
    readonly DropLog _drops;
    int _state;
    int _disposed;

    /// <summary>
    /// Binds a socket to every active queue of the interface and attaches the steering program. Call it on a
    /// thread in the interface's network namespace; <see cref="Run(IUdpHandler, CancellationToken)"/> then serves.
    /// </summary>
    public UdpService(UdpServiceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _handlerErrors = new HandlerErrorLog(options.Log);
        _endpoints = [.. options.Endpoints.Select(UdpEndpoint.From)];
        NetDevice device = NetDevice.Get(options.Interface);
        if (device.HardwareAddress.Length != MacAddress.Length)
            Throw.Config($"UdpService({device.Name})", $"{device.Name} has no Ethernet address ({device.HardwareAddress.Length} bytes of link-layer address).", "serve on an Ethernet interface.");
        var mac = new MacAddress(device.HardwareAddress);
        DeviceDriver? driver = device.QueryDriver();
        _drops = new DropLog(options.Log, device.Name, driver?.Name);
        // One policy per served address: an IPv4 address's subnet decides which broadcast and network sources are refused.
        // Datagrams from a container or VM on this machine may arrive with checksums left for offload: accepted where the kernel's stack accepts them.
        bool partialChecksums = driver?.HandsOverPartialChecksums == true;
        _hosts = [.. Ipv4Hosts(device, mac, partialChecksums), .. Ipv6Hosts(device, mac, partialChecksums)];
        int maxFrameLength = (int)Math.Min(FrameSize, device.Mtu + (uint)EthernetFrame.HeaderLength);
        // The engine opens every active queue: where RSS (or veth's flow hash) may put a client's datagrams.
        _engine = OpenEngine(device, new XdpEngineOptions
        {
            Interface = device.Name,
            Cores = options.Cores,
            AttachProgram = false,
            AttachMode = options.AttachMode,
            BatchSize = options.BatchSize,
            SpinTime = options.SpinTime,
            Coalesce = options.Coalesce,
            FrameSize = FrameSize,
            RingSize = RingSize,
            FramesPerQueue = FramesPerQueue,
        });
        int queues = _engine.Queues.Count;
        _neighbours = new NeighbourTable[queues];
        _senders = new UdpSender[queues];
        _counters = new UdpServiceCounters[queues];
        try
        {
            // IPv4 without options or fragments; IPv6 whose fixed header's next header is UDP, so that ICMPv6, neighbour
            // discovery and every extension header (fragments among them) go to the kernel, which keeps the address working.
            PacketFilter[] filters = [.. Endpoints.Select(e => new PacketFilter
            {
                EtherType = e.IsIpv6 ? PacketFilter.EtherTypeIpv6 : PacketFilter.EtherTypeIpv4,
                PlainIpv4 = !e.IsIpv6,
                Destination = e.ToIPEndPoint().Address,
                Protocol = PacketFilter.ProtocolUdp,
                DestinationPort = new PortRange(e.Port, e.Port),
            })];
            _program = options.XskMap is null ? XskRedirectProgram.Attach(device, filters, options.AttachMode, options.ReplaceExisting) : null;
            for (int i = 0; i < queues; i++)
            {
                if (_program is not null)
                    _program.Register(_engine.Queues[i].Socket);
                else
                    options.XskMap!.Register(_engine.Queues[i].Socket);
                _counters[i] = new UdpServiceCounters();
                _neighbours[i] = new NeighbourTable(device.Index, device.Name);
                _senders[i] = new UdpSender(_engine.Queues[i], _neighbours[i], _hosts, Endpoints[0], maxFrameLength, options.NeighbourLifetime, _counters[i]);
            }
            WarnOfShadowedSockets();
            _metrics = UdpMetrics.Track(this);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>What the service was built with.</summary>
    public UdpServiceOptions Options { get; }

    /// <summary>The served (address, port) pairs.</summary>
    public IReadOnlyList<UdpEndpoint> Endpoints => _endpoints;

    /// <summary>The engine: one queue, socket and worker per active queue of the interface.</summary>
    public XdpEngine Engine => _engine;

    /// <summary>The steering program and its counters; null when the sockets are registered in <see cref="UdpServiceOptions.XskMap"/>.</summary>
    public XskRedirectProgram? Program => _program;

    /// <summary>Each queue's counters, in the order of <see cref="XdpEngine.Queues"/>.</summary>
    public IReadOnlyList<UdpServiceCounters> QueueCounters => _counters;

    /// <summary>The counters of all queues, summed.</summary>
    public UdpServiceCounters ReadCounters() => UdpServiceCounters.Sum(_counters);

    /// <summary>
    /// Frames the steering program passed to the kernel (not for a served endpoint, or fragments, options, IPv6 extension headers), over all CPUs;
    /// 0 with <see cref="UdpServiceOptions.XskMap"/>, where the program is someone else's.
    /// </summary>
    public ulong ReadPassedToKernel() => _program?.ReadCounters().NotMatched ?? 0;

    /// <summary>
    /// Serves until <paramref name="cancellationToken"/> is cancelled, with one <paramref name="handler"/> for every
    /// queue (its Handle then runs on several worker threads at once: it must be thread-safe when there are
    /// several queues). A handler's exception costs its batch only (see <see cref="IUdpHandler"/>); a failure of
    /// the queue itself (e.g. the interface gone) ends the run and is rethrown. A service runs once.
    /// </summary>
    public void Run(IUdpHandler handler, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(handler);
        Run(_ => handler, cancellationToken);
    }

    /// <summary>Serves until cancelled with <paramref name="handler"/> for every batch of every queue (thread-safe when there are several queues).</summary>
    public void Run(UdpBatchHandler handler, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(handler);
        Run(new DelegateHandler(handler), cancellationToken);
    }

    /// <summary>Serves until cancelled with a handler of its own for each queue (made by <paramref name="handlerFactory"/> from the queue's sender).</summary>
    public void Run(Func<UdpSender, IUdpHandler> handlerFactory, CancellationToken cancellationToken)
    {
        Start(handlerFactory);
        while (!cancellationToken.WaitHandle.WaitOne(100) && !Faulted)
        {
        }
        Stop();
    }

    /// <summary>The asynchronous form of <see cref="Run(IUdpHandler, CancellationToken)"/>: the workers serve on their threads while the caller awaits.</summary>
    public Task RunAsync(IUdpHandler handler, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return RunAsync(_ => handler, cancellationToken);
    }

    /// <summary>The asynchronous form of <see cref="Run(UdpBatchHandler, CancellationToken)"/>.</summary>
    public Task RunAsync(UdpBatchHandler handler, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return RunAsync(new DelegateHandler(handler), cancellationToken);
    }

    /// <summary>The asynchronous form of <see cref="Run(Func{UdpSender, IUdpHandler}, CancellationToken)"/>.</summary>
    public async Task RunAsync(Func<UdpSender, IUdpHandler> handlerFactory, CancellationToken cancellationToken)
    {
        Start(handlerFactory);
        while (!cancellationToken.IsCancellationRequested && !Faulted)
        {
            try
            {
                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
        Stop();
    }

    /// <summary>Stops serving, detaches the program and closes the sockets. Idempotent.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _metrics?.Dispose();
        _engine?.Dispose();
        _program?.Dispose();
        Release();
        foreach (NeighbourTable? table in _neighbours ?? [])
            table?.Dispose();
    }

    /// <summary>The policies of the served IPv4 addresses, each with its subnet; refuses an address the interface does not have.</summary>
    List<HostPolicy> Ipv4Hosts(NetDevice device, MacAddress mac, bool partialChecksums)
    {
        uint[] addresses = [.. Endpoints.Where(e => !e.IsIpv6).Select(e => (uint)e.Address).Distinct()];
        if (addresses.Length == 0)
            return [];
        IReadOnlyList<Ipv4InterfaceAddress> own = Ipv4InterfaceAddress.Query(device.Index);
        var hosts = new List<HostPolicy>();
        foreach (uint served in addresses)
        {
            Ipv4InterfaceAddress mine = own.FirstOrDefault(a => a.Address == served);
            if (mine.PrefixLength == 0)
            {
                string address = Ipv4Address.ToIPAddress(served).ToString();
                Throw.Config($"UdpService({device.Name}, {address})", $"{address} is not an address of {device.Name}: the kernel would answer no ARP request for it, so no client could reach it.",
                    $"serve an address {device.Name} has ({(own.Count == 0 ? "it has none" : string.Join(", ", own.Select(a => Ipv4Address.ToIPAddress(a.Address))))}), or add it: `ip addr add {address}/24 dev {device.Name}`.");
            }
            hosts.Add(new HostPolicy(mac, mine.Address, mine.PrefixLength) { AcceptsPartialUdpChecksum = partialChecksums });
        }
        return hosts;
    }

    /// <summary>
    /// The policies of the served IPv6 addresses; refuses an address the interface does not have, and a link-local one
    /// (fe80::/10) whose scope id does not name this interface: such an address names a host only on one link.
    /// </summary>
    List<HostPolicy> Ipv6Hosts(NetDevice device, MacAddress mac, bool partialChecksums)
    {
        IPEndPoint[] endpoints = [.. Options.Endpoints.Where(e => UdpEndpoint.From(e).IsIpv6)];
        if (endpoints.Length == 0)
            return [];
        IReadOnlyList<Ipv6InterfaceAddress> own = Ipv6InterfaceAddress.Query(device.Index);
        foreach (IPEndPoint endpoint in endpoints)
        {
            UInt128 served = Ipv6Address.ToUInt128(endpoint.Address);
            string address = Ipv6Address.ToIPAddress(served).ToString();
            if (Ipv6Address.IsLinkLocal(served) && endpoint.Address.ScopeId != device.Index)
                Throw.Config($"UdpService({device.Name}, {endpoint})", endpoint.Address.ScopeId == 0
                    ? $"{address} is link-local (fe80::/10): it names a host only together with its interface, and none is given."
                    : $"{address} is link-local (fe80::/10) and its scope id {endpoint.Address.ScopeId} is not {device.Name} (index {device.Index}).",
                    $"name the interface: [{address}%{device.Name}]:{endpoint.Port}.");
            if (!own.Any(a => a.Address == served))
                Throw.Config($"UdpService({device.Name}, {address})", $"{address} is not an IPv6 address of {device.Name}: the kernel would answer no neighbour solicitation for it, so no client could reach it.",
                    $"serve an address {device.Name} has ({(own.Count == 0 ? "it has none" : string.Join(", ", own.Select(a => Ipv6Address.ToIPAddress(a.Address))))}), or add it: `ip -6 addr add {address}/64 dev {device.Name}`.");
        }
        return [.. endpoints.Select(e => Ipv6Address.ToUInt128(e.Address)).Distinct().Select(a => new HostPolicy(mac, a) { AcceptsPartialUdpChecksum = partialChecksums })];
    }

    /// <summary>The interface and the endpoints served, for logs.</summary>
    public override string ToString() => $"UdpService({Options.Interface}, {string.Join(", ", Endpoints)})";

    bool Faulted => _engine.Queues.Any(q => q.Fault is not null);

    void Start(Func<UdpSender, IUdpHandler> handlerFactory)
    {
        ArgumentNullException.ThrowIfNull(handlerFactory);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (Interlocked.CompareExchange(ref _state, Serving, NotStarted) != NotStarted)
            ThrowStarted();
        _engine.Start(queue => new QueueHandler(this, queue.Index, handlerFactory(_senders[queue.Index])));
    }

    sealed class DelegateHandler(UdpBatchHandler handler) : IUdpHandler
    {
        public void Handle(UdpBatch batch) => handler(batch);
    }

    /// <summary>One queue's part: checks each frame, hands the good ones to the application, counts the rest.</summary>
    sealed class QueueHandler(UdpService service, int index, IUdpHandler handler) : IPacketHandler
    {
        readonly int[] _payloadLengths = new int[service.Options.BatchSize];
        readonly UdpServiceCounters _counters = service._counters[index];
        readonly UdpSender _sender = service._senders[index];
        readonly string _name = $"{service} queue {service._engine.Queues[index].QueueId}";

        public void Handle(XdpQueue queue, Span<Packet> packets)
        {
            int good = 0;
            for (int i = 0; i < packets.Length; i++)
            {
                UdpFrameCheck check = UdpFrame.Check(packets[i].Data, service._hosts, service._endpoints, out int payloadLength);
                _payloadLengths[i] = check == UdpFrameCheck.Ok ? payloadLength : -1;
                switch (check)
                {
                    case UdpFrameCheck.Ok:
                        good++;
                        break;
                    case UdpFrameCheck.BadChecksum or UdpFrameCheck.PartialChecksum:
                        _counters.BadChecksums++;
                        service._drops.Report(check, packets[i].Data, _name);
                        break;
                    case UdpFrameCheck.Malformed:
                        _counters.Malformed++;
                        break;
                    default:
                        _counters.Unanswerable++;
                        break;
                }
            }
            if (good == 0)
                return;
            _counters.Received += good;
            try
            {
                handler.Handle(new UdpBatch(packets, _payloadLengths.AsSpan(0, packets.Length), _sender, good));
            }
            catch (Exception e)
            {
                // Replies made before the throw are whole frames the handler chose to send; the datagrams it did not answer stay dropped (the default verdict).
                Failed(e, "Handle threw; its batch's unanswered datagrams were dropped and the queue goes on");
            }
            foreach (ref readonly Packet p in packets)
            {
                if (p.Verdict == PacketVerdict.Transmit)
                    _counters.Sent++;
            }
        }

        public void Idle(XdpQueue queue)
        {
            try
            {
                handler.Idle(_sender);
            }
            catch (Exception e)
            {
                Failed(e, "Idle threw; the queue goes on");
            }
        }

        void Failed(Exception e, string what)
        {
            _counters.HandlerErrors++;
            service._handlerErrors.Report(e, _name, what);
        }
    }
}
