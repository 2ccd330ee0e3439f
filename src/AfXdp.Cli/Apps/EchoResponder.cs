using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using AfXdp.Bpf;
using AfXdp.Device;
using AfXdp.Net;
using AfXdp.Xsk;

namespace AfXdp.Cli.Apps;

/// <summary>What an <see cref="EchoResponder"/> answers for, and where.</summary>
internal sealed record EchoResponderOptions
{
    /// <summary>The interface to answer on, in the calling thread's network namespace.</summary>
    public required string Interface { get; init; }

    /// <summary>The IPv4 address to answer for. Best one the kernel does not have: frames for it never reach the kernel's stack.</summary>
    public required IPAddress Address { get; init; }

    /// <summary>
    /// The prefix length of <see cref="Address"/>'s subnet, which places its broadcast address (never answered);
    /// null takes it from the interface's IPv4 address on the same subnet, else 32.
    /// </summary>
    public int? PrefixLength { get; init; }

    /// <summary>UDP port whose datagrams are sent back (RFC 862's echo port by default).</summary>
    public ushort UdpPort { get; init; } = 7;

    /// <summary>The interface's RX queue to bind the socket to (0 by default); it must be a queue in use.</summary>
    public uint Queue { get; init; }

    /// <summary>The MAC to answer with; null for the interface's own.</summary>
    public MacAddress? Mac { get; init; }

    /// <summary>How the steering program is attached (native when the driver supports it, else generic, by default).</summary>
    public XdpAttachMode AttachMode { get; init; } = XdpAttachMode.Auto;

    /// <summary>
    /// Register in this XSKMAP (e.g. the AF_XDP device plugin's) instead of attaching the steering program; it stays the
    /// caller's. The program already on the interface then decides which frames arrive: requests are answered, others dropped.
    /// </summary>
    public XskMap? XskMap { get; init; }

    /// <summary>Copy or zero-copy bind of the socket (the kernel decides, by default).</summary>
    public XdpBindMode BindMode { get; init; } = XdpBindMode.Auto;

    /// <summary>Descriptors taken from the RX ring at a time.</summary>
    public uint Batch { get; init; } = 64;
}

/// <summary>How many requests an <see cref="EchoResponder"/> answered, and how many frames it dropped and why (<see cref="ReplyVerdict"/>).</summary>
/// <param name="ArpReplies">ARP requests answered.</param>
/// <param name="IcmpEchoReplies">Pings answered.</param>
/// <param name="UdpEchoReplies">UDP datagrams sent back.</param>
/// <param name="Ignored">Frames the steering program sent that were not requests for us (another MAC or port, a fragment).</param>
/// <param name="Malformed">Frames whose lengths do not hold.</param>
/// <param name="BadChecksum">Requests with a wrong IPv4 header, ICMP or UDP checksum.</param>
/// <param name="BadSource">Requests from a source no host answers (broadcast, multicast, loopback, reserved, own or subnet-broadcast address; group source MAC).</param>
/// <param name="ReflectorPort">UDP datagrams from port 0, a reflector port (echo, chargen, DNS, ...) or the echo port itself.</param>
/// <param name="TxRingFull">Frames dropped because the TX ring stayed full.</param>
internal readonly record struct EchoCounters(long ArpReplies, long IcmpEchoReplies, long UdpEchoReplies, long Ignored, long Malformed,
    long BadChecksum, long BadSource, long ReflectorPort, long TxRingFull)
{
    /// <summary>All replies sent: ARP, ICMP echo and UDP echo together.</summary>
    public long Replies => ArpReplies + IcmpEchoReplies + UdpEchoReplies;

    /// <summary>Frames not answered, for whatever reason.</summary>
    public long Refused => Ignored + Malformed + BadChecksum + BadSource + ReflectorPort;
}

/// <summary>
/// A host that answers ARP, ping and UDP echo for one IPv4 address entirely over AF_XDP: each request
/// is turned around in the UMEM frame it arrived in (<see cref="EchoReply.TurnAround"/>) and that same
/// frame goes out on the socket's TX ring. It answers only what <see cref="HostPolicy"/> says a correct
/// host answers, so it is never a reflector, and counts the rest by reason. Its steering program (<see cref="Filters"/>) takes only those requests
/// from the queue; everything else still reaches the kernel.
/// </summary>
/// <remarks>
/// Frames circulate FILL → RX → TX → COMPLETION → FILL through the library's batch verbs: receive,
/// turn around in place, <see cref="RxBatch.Transmit"/>, <see cref="CompletionRing.Recycle"/>. Create it in the interface's network
/// namespace; <see cref="ProcessBatch"/> may then run on any one thread, and allocates nothing.
/// </remarks>
internal sealed class EchoResponder : IDisposable
{
    const uint FrameCount = 4096;
    const uint RingSize = 2048;

    /// <summary>The name of echo's steering program, as `bpftool prog show` and `ip link` print it.</summary>
    public const string ProgramName = "afxdp_echo";

    readonly Umem _umem;
    readonly RxTxSocket _socket;
    readonly XskRedirectProgram? _program;
    readonly EchoIdentity _identity;
    readonly XskLiveness _liveness;
    readonly uint _batch;
    readonly long[] _refused = new long[Enum.GetValues<ReplyVerdict>().Length];
    long _arpReplies, _icmpEchoReplies, _udpEchoReplies;

    /// <summary>
    /// What the steering program (<see cref="SteeringProgram"/>, named <see cref="ProgramName"/>) takes to the socket for
    /// <paramref name="address"/>: ARP requests for it, ICMP echo requests and UDP datagrams to <paramref name="udpPort"/> sent to it,
    /// untagged, in IPv4 without options that is not a fragment. The rest goes to the kernel, which reassembles and interprets it.
    /// </summary>
    public static IReadOnlyList<PacketFilter> Filters(IPAddress address, ushort udpPort) =>
    [
        PacketFilter.Parse($"arp op request and arp dst {address}"),
        PacketFilter.Parse($"ip dst {address} and ip plain and icmp type echo-request"),
        PacketFilter.Parse($"ip dst {address} and ip plain and udp dst port {udpPort}"),
    ];

    /// <summary>
    /// Opens a UMEM and an RX/TX socket on <see cref="EchoResponderOptions.Queue"/>, fills the FILL ring and
    /// attaches the steering program (or registers in <see cref="EchoResponderOptions.XskMap"/>); everything opened so far
    /// is released again if a step fails.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentException">The address is not IPv4, or the batch is 0 or larger than the ring (2048).</exception>
    /// <exception cref="AfXdpException">The kernel refuses a step (no such interface, missing capability, queue not in use).</exception>
    public EchoResponder(EchoResponderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Address.AddressFamily != AddressFamily.InterNetwork)
            Throw.Argument(nameof(options), $"EchoResponderOptions.Address = {options.Address}", "the responder answers for an IPv4 address (ARP, ICMP, UDP over IPv4).", "give an IPv4 address.");
        if (options.Batch is 0 or > RingSize)
            Throw.OutOfRange(nameof(options), $"EchoResponderOptions.Batch = {options.Batch}", $"a batch takes 1 to {RingSize} descriptors (the ring size).", "use e.g. 64.");
        Options = options;
        _batch = options.Batch;
        NetDevice device = NetDevice.Get(options.Interface);
        uint address = Ipv4Address.ToUInt32(options.Address);
        if (options.PrefixLength is < 0 or > 32)
            Throw.OutOfRange(nameof(options), $"EchoResponderOptions.PrefixLength = {options.PrefixLength}", "an IPv4 prefix has 0 to 32 bits.", "give e.g. 24, or null to take the interface's.");
        var host = new HostPolicy(options.Mac ?? new MacAddress(device.HardwareAddress), address, options.PrefixLength ?? PrefixOnInterface(device.Name, options.Address))
        {
            // A peer's stack on the same machine leaves UDP checksums partial across a veth (CHECKSUM_PARTIAL), which AF_XDP does not flag.
            AcceptsPartialUdpChecksum = device.QueryDriver()?.HandsOverPartialChecksums == true,
        };
        _identity = new EchoIdentity(host, options.UdpPort);

        _umem = new Umem(new UmemOptions { FrameCount = FrameCount, FrameSize = 2048, FillRingSize = FrameCount, CompletionRingSize = RingSize });
        try
        {
            _socket = new RxTxSocket(_umem, device.Index, options.Queue, new XskSocketOptions { RxRingSize = RingSize, TxRingSize = RingSize, BindMode = options.BindMode });
            _socket.Fill.Populate(0, FrameCount);
            if (options.XskMap is { } map)
            {
                map.Register(_socket);
            }
            else
            {
                _program = XskRedirectProgram.Attach(device, Filters(options.Address, options.UdpPort), options.AttachMode, name: ProgramName);
                _program.Register(_socket);
            }
            _liveness = new XskLiveness(_socket, _program?.Link);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The configuration the responder was built with.</summary>
    public EchoResponderOptions Options { get; }

    /// <summary>The MAC, address, prefix and port answered with.</summary>
    public EchoIdentity Identity => _identity;

    /// <summary>The socket the requests arrive on and the replies leave by.</summary>
    public RxTxSocket Socket => _socket;

    /// <summary>The steering program and its attachment; null when registered in <see cref="EchoResponderOptions.XskMap"/>.</summary>
    public XskRedirectProgram? Program => _program;

    /// <summary>The counts so far; safe to read from another thread.</summary>
    public EchoCounters Counters => new(Volatile.Read(ref _arpReplies), Volatile.Read(ref _icmpEchoReplies), Volatile.Read(ref _udpEchoReplies),
        Refused(ReplyVerdict.NotForUs), Refused(ReplyVerdict.Malformed), Refused(ReplyVerdict.BadChecksum), Refused(ReplyVerdict.BadSource),
        Refused(ReplyVerdict.ReflectorPort), _socket.Counters.TxDropped);

    /// <summary>
    /// Answers the requests that have arrived (at most one batch) and returns how many frames it
    /// took; when none has arrived, waits up to <paramref name="timeoutMs"/> for one (poll) and returns 0.
    /// </summary>
    public int ProcessBatch(int timeoutMs)
    {
        _socket.Completion.Recycle();
        RxBatch batch = timeoutMs > 0 ? _socket.Rx.Receive(_batch, timeoutMs) : _socket.Rx.Receive(_batch);
        if (batch.IsEmpty)
        {
            _socket.Tx.Kick();
            return 0;
        }
        foreach (RxFrame frame in batch)
        {
            EchoOutcome outcome = EchoReply.TurnAround(frame.Data, _identity);
            Count(outcome);
            // The reply may be shorter than the request; length 0 sends a refused frame back to the FILL ring.
            frame.SetLength(outcome.Length);
        }
        batch.Transmit(_socket.Tx);
        return (int)batch.Count;
    }

    /// <summary>
    /// Answers until <paramref name="cancellationToken"/> is signalled (checked at least every 100 ms); throws
    /// <see cref="XskGoneException"/> within a second of the interface or the steering program going away.
    /// </summary>
    public void Run(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            ProcessBatch(timeoutMs: 100);
            _liveness.Check();
        }
    }

    /// <summary>Detaches the steering program (if it attached one), closes the socket and unmaps the UMEM.</summary>
    public void Dispose()
    {
        _program?.Dispose();
        _socket?.Dispose();
        _umem.Dispose();
    }

    /// <summary>The address, interface, queue and UDP port, for logs.</summary>
    public override string ToString() => $"EchoResponder({Options.Address} on {Options.Interface} queue {Options.Queue}, UDP port {Options.UdpPort})";

    void Count(in EchoOutcome outcome)
    {
        switch (outcome.Kind)
        {
            case EchoReplyKind.Arp: _arpReplies++; break;
            case EchoReplyKind.IcmpEcho: _icmpEchoReplies++; break;
            case EchoReplyKind.UdpEcho: _udpEchoReplies++; break;
            default: _refused[(int)outcome.Verdict]++; break;
        }
    }

    long Refused(ReplyVerdict verdict) => Volatile.Read(ref _refused[(int)verdict]);

    /// <summary>The prefix length of the interface's IPv4 address whose subnet holds <paramref name="address"/>; 32 when none does.</summary>
    static int PrefixOnInterface(string interfaceName, IPAddress address)
    {
        uint wanted = Ipv4Address.ToUInt32(address);
        IEnumerable<UnicastIPAddressInformation> addresses = NetworkInterface.GetAllNetworkInterfaces()
            .FirstOrDefault(n => n.Name == interfaceName)?.GetIPProperties().UnicastAddresses ?? Enumerable.Empty<UnicastIPAddressInformation>();
        foreach (UnicastIPAddressInformation candidate in addresses)
        {
            if (candidate.Address.AddressFamily != AddressFamily.InterNetwork || candidate.PrefixLength is <= 0 or > 32)
                continue;
            uint mask = uint.MaxValue << (32 - candidate.PrefixLength);
            if ((Ipv4Address.ToUInt32(candidate.Address) & mask) == (wanted & mask))
                return candidate.PrefixLength;
        }
        return 32;
    }
}
