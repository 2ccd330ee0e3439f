using AfXdp.Xsk;

namespace AfXdp.Bpf;

/// <summary>
/// The default AF_XDP steering program, built in process: every frame of queue q goes to the
/// socket in XSKMAP slot q; queues without a socket pass to the kernel stack (XDP_PASS), so the
/// host's own traffic keeps working. Owns the XSKMAP, the program and its attachment.
/// </summary>
public sealed class XskRedirectProgram : IDisposable
{
    /// <summary>The name `bpftool prog show` and `ip link` print.</summary>
    public const string ProgramName = "afxdp_redirect";

    const int XDP_PASS = 2;
    const short RxQueueIndexOffset = 16; // struct xdp_md: data, data_end, data_meta, ingress_ifindex, rx_queue_index

    readonly HashSet<uint> _registered = [];

    XskRedirectProgram(BpfMap map, BpfProgram program, XdpLink link)
    {
        XskMap = map;
        Program = program;
        Link = link;
    }

    public BpfMap XskMap { get; }

    public BpfProgram Program { get; }

    public XdpLink Link { get; }

    /// <summary>The program's instructions for an XSKMAP: bpf_redirect_map(&amp;xsks, ctx->rx_queue_index, XDP_PASS).</summary>
    public static ProgramSpec Spec(IBpfMapReference xskMap) => ProgramSpec.FromAsm(ProgramName, new Asm()
        .Load(Size.W, Reg.R2, Reg.R1, RxQueueIndexOffset)
        .LoadMap(Reg.R1, xskMap)
        .Mov64(Reg.R3, XDP_PASS)
        .Call(Helper.RedirectMap)
        .Exit());

    /// <summary>
    /// Creates the XSKMAP (one slot per queue of the interface), loads the program and attaches it.
    /// <paramref name="spec"/> builds another program over the same XSKMAP (e.g.
    /// <see cref="EchoSteeringProgram"/>, or this one <c>with { XdpHasFrags = true }</c>); by default <see cref="Spec"/>.
    /// </summary>
    public static XskRedirectProgram Attach(string interfaceName, XdpAttachMode mode = XdpAttachMode.Auto, bool replaceExisting = false,
        Func<IBpfMapReference, ProgramSpec>? spec = null) =>
        Attach(NetDevice.Get(interfaceName), mode, replaceExisting, spec);

    /// <inheritdoc cref="Attach(string, XdpAttachMode, bool, Func{IBpfMapReference, ProgramSpec}?)"/>
    public static XskRedirectProgram Attach(NetDevice device, XdpAttachMode mode = XdpAttachMode.Auto, bool replaceExisting = false,
        Func<IBpfMapReference, ProgramSpec>? spec = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        BpfMap map = BpfMap.Create(MapSpec.XskMap("afxdp_xsks", Math.Max(device.QueueCount, 1)));
        BpfProgram? program = null;
        try
        {
            program = BpfProgram.LoadXdp((spec ?? Spec)(map));
            XdpLink link = XdpLink.Attach(program, device.Index, mode, replaceExisting);
            return new XskRedirectProgram(map, program, link);
        }
        catch
        {
            program?.Dispose();
            map.Dispose();
            throw;
        }
    }

    /// <summary>Directs the socket's queue to it (XSKMAP[queue] = socket fd).</summary>
    public void Register(XskSocket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (socket.InterfaceIndex != Link.InterfaceIndex)
            Throw.Config($"Register({socket})", $"the program is attached to {Link.InterfaceName}, the socket is bound to {socket.InterfaceName}.", "attach a program to the socket's interface.");
        if (socket.QueueId >= XskMap.Spec.MaxEntries)
            Throw.Config($"Register({socket})", $"the XSKMAP has {XskMap.Spec.MaxEntries} slots (one per queue).", "bind to an existing queue.");
        XskMap.Update(socket.QueueId, (uint)socket.Fd);
        _registered.Add(socket.QueueId);
    }

    /// <summary>Stops directing the socket's queue (its frames pass to the kernel again).</summary>
    public void Unregister(XskSocket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        XskMap.Delete(socket.QueueId);
        _registered.Remove(socket.QueueId);
    }

    public void Dispose()
    {
        Link.Dispose();
        foreach (uint queue in _registered)
            XskMap.Delete(queue);
        _registered.Clear();
        Program.Dispose();
        XskMap.Dispose();
    }
}
