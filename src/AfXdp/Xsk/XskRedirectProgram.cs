using AfXdp.Device;
using AfXdp.Bpf;

namespace AfXdp.Xsk;

/// <summary>
/// The AF_XDP program, built in process and attached to an interface. Without a filter (the default,
/// "afxdp_redirect"), every frame of queue q goes to the socket in XSKMAP slot q. With a
/// <see cref="PacketFilter"/> ("afxdp_steer", see <see cref="SteeringProgram"/>) only matching frames
/// do, and each verdict is counted. Queues without a socket, and frames that do not match, pass to
/// the kernel stack (XDP_PASS), so the host's own traffic keeps working. Owns the maps, the program
/// and its attachment.
/// </summary>
public sealed class XskRedirectProgram : IDisposable
{
    /// <summary>The name of the unfiltered program (`bpftool prog show` and `ip link` print it).</summary>
    public const string ProgramName = "afxdp_redirect";

    readonly PerCpuArray<ulong>? _counters;
    bool _disposed;

    XskRedirectProgram(XskMap map, PerCpuArray<ulong>? counters, BpfProgram program, XdpLink link, IReadOnlyList<PacketFilter> filters)
    {
        XskMap = map;
        _counters = counters;
        Program = program;
        Link = link;
        Filters = filters;
    }

    /// <summary>The XSKMAP "afxdp_xsks", one slot per queue of the interface; slot q holds the socket bound to queue q.</summary>
    public XskMap XskMap { get; }

    /// <summary>The loaded XDP program.</summary>
    public BpfProgram Program { get; }

    /// <summary>The program's attachment to the interface (a bpf_link, or netlink IFLA_XDP on kernels without XDP links).</summary>
    public XdpLink Link { get; }

    /// <summary>The frames redirected to sockets; null when every frame is (or several filters are: see <see cref="Filters"/>).</summary>
    public PacketFilter? Filter => Filters.Count == 1 ? Filters[0] : null;

    /// <summary>The filters of the steering program, any of which redirects a frame; empty when every frame is redirected.</summary>
    public IReadOnlyList<PacketFilter> Filters { get; }

    /// <summary>The unfiltered program's instructions for an XSKMAP: bpf_redirect_map(&amp;xsks, ctx->rx_queue_index, XDP_PASS).</summary>
    public static ProgramSpec Spec(IBpfMapReference xskMap) => ProgramSpec.FromAssembler(ProgramName, new Assembler()
        .RedirectToQueueSocket(Bpf.Register.R1, xskMap)
        .Exit());

    /// <summary>
    /// Creates the XSKMAP (one slot per queue of the interface), loads the program and attaches it:
    /// <see cref="Spec"/> by default, the steering program when <paramref name="filter"/> is given, or
    /// what <paramref name="spec"/> builds over the same XSKMAP (a program of your own).
    /// <paramref name="multiBuffer"/> loads it frags-aware (BPF_F_XDP_HAS_FRAGS), as sockets bound
    /// with XDP_USE_SG on a jumbo-MTU device need.
    /// </summary>
    public static XskRedirectProgram Attach(string interfaceName, XdpAttachMode mode = XdpAttachMode.Auto, bool replaceExisting = false,
        PacketFilter? filter = null, bool multiBuffer = false, Func<IBpfMapReference, ProgramSpec>? spec = null) =>
        Attach(NetDevice.Get(interfaceName), mode, replaceExisting, filter, multiBuffer, spec);

    /// <inheritdoc cref="Attach(string, XdpAttachMode, bool, PacketFilter?, bool, Func{IBpfMapReference, ProgramSpec}?)"/>
    public static XskRedirectProgram Attach(NetDevice device, XdpAttachMode mode = XdpAttachMode.Auto, bool replaceExisting = false,
        PacketFilter? filter = null, bool multiBuffer = false, Func<IBpfMapReference, ProgramSpec>? spec = null)
    {
        if (filter is not null && spec is not null)
            throw new ArgumentException("give a filter or a program of your own, not both", nameof(spec));
        return Attach(device, mode, replaceExisting, filter is null ? [] : [filter], multiBuffer, spec);
    }

    /// <summary>
    /// Attaches the steering program for several filters: a frame that matches any of them goes to its queue's socket
    /// (e.g. the endpoints of a UDP service, or what echo answers), under the program name <paramref name="name"/>.
    /// </summary>
    public static XskRedirectProgram Attach(NetDevice device, IReadOnlyList<PacketFilter> anyOf, XdpAttachMode mode = XdpAttachMode.Auto, bool replaceExisting = false,
        string name = SteeringProgram.ProgramName)
    {
        ArgumentNullException.ThrowIfNull(anyOf);
        if (anyOf.Count == 0)
            throw new ArgumentException("give at least one filter", nameof(anyOf));
        return Attach(device, mode, replaceExisting, anyOf, multiBuffer: false, spec: null, name);
    }

    static XskRedirectProgram Attach(NetDevice device, XdpAttachMode mode, bool replaceExisting, IReadOnlyList<PacketFilter> filters, bool multiBuffer, Func<IBpfMapReference, ProgramSpec>? spec,
        string name = SteeringProgram.ProgramName)
    {
        ArgumentNullException.ThrowIfNull(device);
        XskMap map = XskMap.Create("afxdp_xsks", Math.Max(device.QueueCount, 1));
        PerCpuArray<ulong>? counters = null;
        BpfProgram? program = null;
        try
        {
            if (filters.Count != 0)
                counters = PerCpuArray<ulong>.Create(SteeringProgram.CountersName, SteeringProgram.CounterCount);
            ProgramSpec chosen = spec is not null ? spec(map) : filters.Count == 0 ? Spec(map) : SteeringProgram.Spec(filters, map, counters!, name);
            program = BpfProgram.LoadXdp(multiBuffer ? chosen with { XdpHasFrags = true } : chosen);
            XdpLink link = XdpLink.Attach(program, device.Index, mode, replaceExisting);
            return new XskRedirectProgram(map, counters, program, link, filters);
        }
        catch
        {
            program?.Dispose();
            counters?.Dispose();
            map.Dispose();
            throw;
        }
    }

    /// <summary>Directs the socket's queue to it (XSKMAP[queue] = socket fd).</summary>
    public void Register(XskSocket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (socket.InterfaceIndex != Link.InterfaceIndex)
            Throw.Argument(nameof(socket), $"Register({socket})", $"the program is attached to {Link.InterfaceName}, the socket is bound to {socket.InterfaceName}.", "attach a program to the socket's interface.");
        XskMap.Register(socket);
    }

    /// <summary>Stops directing the socket's queue (its frames pass to the kernel again).</summary>
    public void Unregister(XskSocket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        XskMap.Unregister(socket.QueueId);
    }

    /// <summary>The steering program's verdict counters, summed over all CPUs.</summary>
    public SteeringCounters ReadCounters()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_counters is null)
            throw new InvalidOperationException($"{ProgramName} counts nothing: attach with a PacketFilter to get the steering program and its counters");
        return new SteeringCounters(_counters.Sum((uint)SteeringVerdict.NotMatched), _counters.Sum((uint)SteeringVerdict.Redirected), _counters.Sum((uint)SteeringVerdict.NoSocket));
    }

    /// <summary>Detaches the program, then closes it, the counters and the XSKMAP; all frames pass to the kernel again. Idempotent.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        Link.Dispose();
        Program.Dispose();
        _counters?.Dispose();
        XskMap.Dispose();
    }
}
