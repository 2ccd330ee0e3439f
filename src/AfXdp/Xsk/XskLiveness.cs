using System.Diagnostics;
using System.Runtime.CompilerServices;
using AfXdp.Bpf;
using AfXdp.Interop;

namespace AfXdp.Xsk;

/// <summary>What an <see cref="XskLiveness"/> check found gone.</summary>
public enum XskGoneReason
{
    /// <summary>The socket's interface (and so its queue) is gone: deleted, moved to another namespace, or destroyed with its namespace.</summary>
    InterfaceGone,
    /// <summary>The XDP program that steered frames to the socket is no longer attached: someone else detached it.</summary>
    ProgramDetached,
}

/// <summary>A socket loop's interface, queue or XDP attachment went away while it ran (<see cref="XskLiveness"/>).</summary>
public sealed class XskGoneException : AfXdpException
{
    internal XskGoneException(XskGoneReason reason, string call, int errno, string cause, string fix)
        : base(call, errno, cause, fix) => Reason = reason;

    internal XskGoneException(XskGoneReason reason, string summary, string call, string cause, string fix)
        : base(summary, call, 0, cause, fix) => Reason = reason;

    /// <summary>What went away.</summary>
    public XskGoneReason Reason { get; }
}

/// <summary>
/// Notices that what a socket loop depends on is gone: its interface and queue (the kernel unbinds
/// the socket, and an unbound socket only ever looks idle), or the XDP program it attached (detached
/// by someone else: the socket then simply receives nothing). A loop calls <see cref="Check(long)"/>
/// with the timestamp it already read; the check costs a comparison except once per
/// <see cref="Period"/>, when it makes one socket call and, with a bpf_link, one bpf() call, allocating nothing.
/// (A netlink attachment, the fallback on kernels before 5.9, is checked by reading the interface's
/// attributes over netlink instead: a few small allocations once per period.)
/// </summary>
/// <remarks>
/// An interface set down is not "gone": the socket stays bound and traffic resumes when it is up again.
/// Deleting the name of a namespace (`ip netns del`) the process runs in is not either: the namespace
/// lives on while the process holds it. Deleting the peer's namespace destroys a veth pair, and is noticed.
/// </remarks>
public sealed unsafe class XskLiveness
{
    /// <summary>How often <see cref="Check(long)"/> asks the kernel unless told otherwise.</summary>
    public static readonly TimeSpan DefaultPeriod = TimeSpan.FromMilliseconds(200);

    readonly XskSocket _socket;
    readonly XdpLink? _link;
    readonly long _periodTicks;
    long _due;

    /// <summary>Watches <paramref name="socket"/> and, when given, the attachment <paramref name="link"/> that feeds it.</summary>
    public XskLiveness(XskSocket socket, XdpLink? link = null, TimeSpan? period = null)
    {
        ArgumentNullException.ThrowIfNull(socket);
        Period = period ?? DefaultPeriod;
        if (Period <= TimeSpan.Zero || Period > TimeSpan.FromSeconds(1))
            Throw.OutOfRange(nameof(period), $"XskLiveness period {Period}", "a check period is above 0 and at most a second: longer, and a gone interface goes unnoticed too long.",
                "use the default (200 ms).");
        _socket = socket;
        _link = link;
        _periodTicks = (long)(Period.TotalSeconds * Stopwatch.Frequency);
    }

    /// <summary>The least time between two checks that ask the kernel.</summary>
    public TimeSpan Period { get; }

    /// <summary>
    /// Asks the kernel (<see cref="CheckNow"/>) if <see cref="Period"/> has passed since it last did,
    /// by <paramref name="timestamp"/> (a <see cref="Stopwatch.GetTimestamp"/> the loop already read).
    /// Throws <see cref="XskGoneException"/> when something is gone.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Check(long timestamp)
    {
        if (timestamp >= _due)
            CheckDue(timestamp);
    }

    /// <summary>As <see cref="Check(long)"/>, reading the clock itself (a vDSO call, no syscall).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Check() => Check(Stopwatch.GetTimestamp());

    /// <summary>
    /// Asks the kernel now: the socket is still bound (recvfrom, or sendto for a socket without an RX
    /// ring, answers ENXIO once it is not), and the program is still attached by the link (when it is
    /// not, whether the interface itself is gone). Throws
    /// <see cref="XskGoneException"/> naming the interface, queue or program when not.
    /// </summary>
    public void CheckNow()
    {
        bool rx = _socket.RxRing is not null;
        nint result = rx ? Sys.RecvFrom(_socket.Fd, null, 0, Sys.MSG_DONTWAIT, null, null) : Sys.SendTo(_socket.Fd, null, 0, Sys.MSG_DONTWAIT, null, 0);
        if (result < 0 && Sys.LastErrno == Errno.ENXIO)
            throw InterfaceGone($"{(rx ? "recvfrom" : "sendto")}(AF_XDP socket on {_socket.InterfaceName} queue {_socket.QueueId}, MSG_DONTWAIT)", Errno.ENXIO);
        if (_link is null || _link.IsAttached())
            return;
        // Deleting an interface unlists it, then detaches its programs, and only then unbinds its sockets
        // (unregister_netdevice): a check in between sees the program gone first.
        byte* name = stackalloc byte[16];
        if (Sys.IfIndexToName((uint)_socket.InterfaceIndex, name) == null)
            throw InterfaceGone($"if_indextoname({_socket.InterfaceIndex})", Errno.ENXIO);
        throw ProgramDetached();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    void CheckDue(long timestamp)
    {
        _due = timestamp + _periodTicks;
        CheckNow();
    }

    XskGoneException InterfaceGone(string call, int errno)
    {
        string name = _socket.InterfaceName;
        uint index = Sys.IfNameToIndex(name);
        string how = index == 0
            ? "no longer exists in this network namespace: it was deleted (with its veth peer, or its peer's namespace), moved to another namespace, or destroyed with its own"
            : $"was deleted; the {name} there now is another interface (ifindex {index})";
        return new XskGoneException(XskGoneReason.InterfaceGone, $"{call} (liveness check)", errno,
            $"{name} queue {_socket.QueueId} is gone: {name} (ifindex {_socket.InterfaceIndex}) {how}, so the kernel unbinds the sockets bound to it.",
            "dispose the socket and its UMEM; start again once the interface exists.");
    }

    XskGoneException ProgramDetached()
    {
        XdpLink link = _link!;
        string name = link.InterfaceName, program = $"XDP program {link.ProgramId} ({BpfProgram.NameOf(link.ProgramId)})";
        string how = link.IsBpfLink
            ? $"its bpf_link {link.LinkId} was detached by someone else (BPF_LINK_DETACH: `bpftool link detach`, `afxdp detach --force`); the link is empty now"
            : "someone removed or replaced it (`ip link set dev ... xdp off`, `afxdp detach`)";
        return new XskGoneException(XskGoneReason.ProgramDetached,
            $"{name} queue {_socket.QueueId}: {program} is no longer attached to {name}",
            $"XskLiveness({_socket})",
            $"{how}, so no frame reaches the AF_XDP socket any more.",
            $"start again to attach a new program; `bpftool net show dev {name}` shows what is attached now.");
    }
}
