using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using AfXdp.Device;
using AfXdp.Interop;

namespace AfXdp.Xsk;

/// <summary>
/// An AF_XDP socket bound to one queue of one interface. Its shape says which rings it has:
/// <see cref="RxSocket"/> (receive), <see cref="TxSocket"/> (send) or <see cref="RxTxSocket"/> (both),
/// each with non-null rings. The first socket on a <see cref="Umem"/> uses the UMEM's descriptor and owns
/// its FILL and COMPLETION rings; later ones share the UMEM (XDP_SHARED_UMEM): on the same queue they
/// share those rings, on another queue or interface they get their own (<see cref="Fill"/>, <see cref="Completion"/>).
/// Nothing receives until an XDP program redirects the queue's frames into the socket
/// (<see cref="XskRedirectProgram"/>).
/// </summary>
public abstract unsafe class XskSocket : IDisposable
{
    readonly SafeFd _socket;
    readonly XskDoorbell _doorbell = null!;
    readonly List<SafeMapping> _maps = [];
    readonly bool _ownsSocket;
    int _busyPollBudget;
    int _disposed;

    private protected XskSocket(Umem umem, int interfaceIndex, string? interfaceName, uint queueId, XskSocketOptions? options, bool rx, bool tx)
    {
        ArgumentNullException.ThrowIfNull(umem);
        umem.ThrowIfDisposed();
        Options = options ?? new XskSocketOptions();
        Options.Validate(rx, tx, GetType().Name);
        Umem = umem;
        string here = XskFd.CurrentNetworkNamespace();
        if (umem.NetworkNamespace != here)
            // Interface indices are per namespace: bound from another one, the UMEM's socket would reach another device.
            Throw.Config($"{GetType().Name}({interfaceName ?? "ifindex " + interfaceIndex}, queue {queueId})",
                $"the UMEM was created in network namespace {umem.NetworkNamespace}, this thread is in {here}; an AF_XDP socket binds in the namespace it was created in.",
                "create the Umem and its sockets on the same thread, inside the interface's namespace (NetworkNamespace.Run or `ip netns exec`).");
        InterfaceIndex = interfaceIndex;
        NetDevice device = NetDevice.Get(interfaceIndex);
        InterfaceName = interfaceName ?? device.Name;
        QueueId = queueId;
        device.CheckQueueInUse(queueId, $"{GetType().Name}({InterfaceName}, queue {queueId})");

        if (umem.FirstSocketFailure is { } failure)
            Throw.Config($"{GetType().Name}({InterfaceName}, queue {queueId})",
                $"the UMEM's first socket failed to set up ({failure}); the UMEM's own descriptor keeps the rings it was given, which cannot be set twice.",
                "dispose this Umem and create a new one for the next attempt.");
        umem.AddSocket();
        bool primary = false;
        try
        {
            primary = umem.TryClaimPrimarySocket();
            _ownsSocket = !primary;
            _doorbell = primary ? umem.Doorbell : new XskDoorbell(XskFd.Open());
            _socket = _doorbell.Socket;
            Counters = primary ? umem.SocketCounters : new XskCounters();
            _doorbell.Describe(ToString(), InterfaceName, queueId);
            bool sharesRings = primary || (umem.BoundInterface == interfaceIndex && umem.BoundQueue == queueId);
            if (rx)
                XskFd.SetRingSize(_socket, IfXdp.XDP_RX_RING, Options.RxRingSize, "XDP_RX_RING");
            if (tx)
                XskFd.SetRingSize(_socket, IfXdp.XDP_TX_RING, Options.TxRingSize, "XDP_TX_RING");
            if (!sharesRings)
            {
                XskFd.SetRingSize(_socket, IfXdp.XDP_UMEM_FILL_RING, Options.FillRingSize, "XDP_UMEM_FILL_RING");
                XskFd.SetRingSize(_socket, IfXdp.XDP_UMEM_COMPLETION_RING, Options.CompletionRingSize, "XDP_UMEM_COMPLETION_RING");
            }
            MapRings(XskFd.GetMmapOffsets(_socket), sharesRings, rx, tx);
            ApplyTxOptions();
            Bind(primary);
            if (primary)
                umem.MarkBound(interfaceIndex, queueId);
        }
        catch (Exception e)
        {
            if (primary)
                umem.FirstSocketFailed(e is AfXdpException { Call: var call } ? call : e.GetType().Name);
            Dispose();
            throw;
        }
    }

    /// <summary>
    /// A socket another process created, bound and handed over (<see cref="XskHandoff"/>): maps its
    /// RX/TX rings (and its own FILL/COMPLETION rings unless it shares the UMEM's); binds nothing.
    /// </summary>
    private protected XskSocket(Umem umem, SafeFd socket, bool ownsSocket, int interfaceIndex, string interfaceName, uint queueId, XskSocketOptions options, bool rx, bool tx)
    {
        Umem = umem;
        Options = options;
        _doorbell = ownsSocket ? new XskDoorbell(socket) : umem.Doorbell;
        _socket = socket;
        _ownsSocket = ownsSocket;
        Counters = ownsSocket ? new XskCounters() : umem.SocketCounters;
        InterfaceIndex = interfaceIndex;
        InterfaceName = interfaceName;
        QueueId = queueId;
        _doorbell.Describe(ToString(), interfaceName, queueId);
        umem.AddSocket();
        try
        {
            bool sharesRings = !ownsSocket || (umem.BoundInterface == interfaceIndex && umem.BoundQueue == queueId);
            MapRings(XskFd.GetMmapOffsets(socket), sharesRings, rx, tx);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The socket of the right shape for an adopted descriptor: by the rings its configuration gives it.</summary>
    internal static XskSocket Adopt(Umem umem, SafeFd socket, bool ownsSocket, int interfaceIndex, string interfaceName, uint queueId, XskSocketOptions options) =>
        (options.RxRingSize != 0, options.TxRingSize != 0) switch
        {
            (true, true) => new RxTxSocket(umem, socket, ownsSocket, interfaceIndex, interfaceName, queueId, options),
            (true, false) => new RxSocket(umem, socket, ownsSocket, interfaceIndex, interfaceName, queueId, options),
            _ => new TxSocket(umem, socket, ownsSocket, interfaceIndex, interfaceName, queueId, options),
        };

    /// <summary>
    /// Maps the rings, each constructed with what it needs: the doorbell of this socket's descriptor, the UMEM,
    /// the FILL ring it pairs with and the counters it counts into. Shared FILL and COMPLETION rings are the
    /// UMEM's, which wake through the UMEM's descriptor and count into the counters of the socket that uses it.
    /// </summary>
    void MapRings(in xdp_mmap_offsets offsets, bool sharesRings, bool rx, bool tx)
    {
        if (sharesRings)
        {
            Fill = Umem.Fill;
            Completion = Umem.Completion;
        }
        else
        {
            Fill = Keep(XskFd.MapFillRing(_doorbell, offsets, Options.FillRingSize, Umem));
            Completion = Keep(XskFd.MapCompletionRing(_socket, offsets, Options.CompletionRingSize, Fill, Counters));
        }
        if (rx)
            RxRing = Keep(XskFd.MapRxRing(_doorbell, offsets, Options.RxRingSize, Umem, Fill, Counters, Options.MultiBuffer));
        if (tx)
            TxRing = Keep(XskFd.MapTxRing(_doorbell, offsets, Options.TxRingSize, Umem, Counters, alwaysKick: !Options.NeedWakeup));
    }

    /// <summary>What this socket's data path moved, counted by the ring verbs (read by <c>AfXdpMetrics</c>).</summary>
    public XskCounters Counters { get; }

    /// <summary>The RX ring, for shapes that have one.</summary>
    internal RxRing? RxRing { get; private set; }

    /// <summary>The TX ring, for shapes that have one.</summary>
    internal TxRing? TxRing { get; private set; }

    /// <summary>The ring sizes and bind options the socket was created with.</summary>
    public XskSocketOptions Options { get; }

    /// <summary>The UMEM the socket receives into and sends from.</summary>
    public Umem Umem { get; }

    /// <summary>The name of the interface the socket is bound to, e.g. "eth0".</summary>
    public string InterfaceName { get; }

    /// <summary>The index of the interface the socket is bound to (in the namespace it was created in).</summary>
    public int InterfaceIndex { get; }

    /// <summary>The queue of the interface the socket is bound to (sxdp_queue_id).</summary>
    public uint QueueId { get; }

    /// <summary>The socket's descriptor: the value to store in an XSKMAP.</summary>
    public int Fd => _socket.Fd;

    /// <summary>The descriptor as an owned handle (for passing it to another process).</summary>
    internal SafeFd Handle => _socket;

    /// <summary>True when this socket's descriptor is the UMEM's own (the first socket bound on it).</summary>
    internal bool UsesUmemSocket => !_ownsSocket;

    /// <summary>
    /// The FILL ring this socket's queue draws from: frames given to the kernel to receive into. Owned
    /// by the first socket bound on this (UMEM, interface, queue); sockets sharing that queue reach the same ring.
    /// </summary>
    public FillRing Fill { get; private set; } = null!;

    /// <summary>The COMPLETION ring this socket's sent frames come back on (paired with <see cref="Fill"/>).</summary>
    public CompletionRing Completion { get; private set; } = null!;

    /// <summary>XDP_OPTIONS: true when the driver moves frames without copying.</summary>
    public bool IsZeroCopy
    {
        get
        {
            xdp_options options;
            uint len = (uint)sizeof(xdp_options);
            if (Sys.GetSockOpt(_socket.Fd, IfXdp.SOL_XDP, IfXdp.XDP_OPTIONS, &options, &len) != 0)
                Throw.Errno("getsockopt(XDP_OPTIONS)", Sys.LastErrno);
            return (options.flags & IfXdp.XDP_OPTIONS_ZEROCOPY) != 0;
        }
    }

    /// <summary>XDP_STATISTICS: the kernel's six drop and error counters for this socket.</summary>
    public XdpStatistics Statistics
    {
        get
        {
            xdp_statistics s;
            uint len = (uint)sizeof(xdp_statistics);
            if (Sys.GetSockOpt(_socket.Fd, IfXdp.SOL_XDP, IfXdp.XDP_STATISTICS, &s, &len) != 0)
                Throw.Errno("getsockopt(XDP_STATISTICS)", Sys.LastErrno);
            return new XdpStatistics(s.rx_dropped, s.rx_invalid_descs, s.tx_invalid_descs, s.rx_ring_full, s.rx_fill_ring_empty_descs, s.tx_ring_empty_descs);
        }
    }

    /// <summary>
    /// Tells the kernel to process the TX ring: sendto(MSG_DONTWAIT). Needed only when
    /// <c>Tx.NeedsWakeup</c> (or always, when bound without need_wakeup). Returns false when the
    /// kernel was busy (EAGAIN, EBUSY, ENOBUFS, ENETDOWN): try again on the next batch.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool WakeupTx() => _doorbell.WakeupTx();

    /// <summary>
    /// Waits until the RX ring has frames or <paramref name="timeoutMs"/> passes (poll POLLIN; -1 waits
    /// without limit), which also wakes the kernel to refill from the FILL ring. Returns true when frames are
    /// ready; false on timeout, also while the interface is down. Throws when the interface is gone.
    /// </summary>
    public bool PollRx(int timeoutMs) => _doorbell.Poll(Sys.POLLIN, timeoutMs);

    /// <summary>As <see cref="PollRx(int)"/>; <see cref="Timeout.InfiniteTimeSpan"/> waits without limit.</summary>
    public bool PollRx(TimeSpan timeout) => _doorbell.Poll(Sys.POLLIN, XskDoorbell.PollMilliseconds(timeout, nameof(timeout)));

    /// <summary>Waits until the TX ring has room or <paramref name="timeoutMs"/> passes (poll POLLOUT); also kicks TX. As <see cref="PollRx(int)"/> otherwise.</summary>
    public bool PollTx(int timeoutMs) => _doorbell.Poll(Sys.POLLOUT, timeoutMs);

    /// <summary>As <see cref="PollTx(int)"/>; <see cref="Timeout.InfiniteTimeSpan"/> waits without limit.</summary>
    public bool PollTx(TimeSpan timeout) => _doorbell.Poll(Sys.POLLOUT, XskDoorbell.PollMilliseconds(timeout, nameof(timeout)));

    /// <summary>
    /// Wakes the kernel to take frames from the FILL ring (recvfrom MSG_DONTWAIT), as libxdp does for
    /// busy-poll. Returns false while the interface is down (ENETDOWN); throws when it is gone or the
    /// socket has no RX ring.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool WakeupRx() => _doorbell.WakeupRx();

    /// <summary>
    /// Preferred busy polling (SO_PREFER_BUSY_POLL, SO_BUSY_POLL, SO_BUSY_POLL_BUDGET, kernel 5.11+):
    /// the driver's NAPI runs in this thread's wakeup syscalls instead of in softirq, so call
    /// <see cref="WakeupRx"/>/<see cref="WakeupTx"/> on every loop. Pair with the device's
    /// napi_defer_hard_irqs and gro_flush_timeout (<see cref="NapiSettings"/>) so interrupts stay off while the application polls.
    /// </summary>
    /// <remarks>
    /// SO_BUSY_POLL is how long (µs) one syscall may poll the NAPI context for packets;
    /// SO_BUSY_POLL_BUDGET is how many packets one such poll may process; SO_PREFER_BUSY_POLL tells
    /// the kernel to leave the NAPI to the application while it keeps polling (softirq processing is
    /// deferred, see <see cref="NapiSettings"/>). Raising the first two above the socket's current
    /// values needs CAP_NET_ADMIN. All of it acts on the NAPI context bind found on the socket's queue
    /// (<see cref="NapiId"/>): where there is none (veth does not tie its NAPI contexts to its queues),
    /// busy polling only adds syscalls.
    /// </remarks>
    public void EnableBusyPoll(int timeoutMicroseconds, int budget)
    {
        if (timeoutMicroseconds < 0)
            Throw.OutOfRange(nameof(timeoutMicroseconds), $"EnableBusyPoll(timeoutMicroseconds: {timeoutMicroseconds})", "a busy-poll time cannot be negative.", "use e.g. 20 microseconds.");
        if (budget is < 1 or > ushort.MaxValue)
            Throw.OutOfRange(nameof(budget), $"EnableBusyPoll(budget: {budget})", $"the kernel takes a busy-poll budget from 1 to {ushort.MaxValue} (SO_BUSY_POLL_BUDGET is a u16).",
                "use the batch size, e.g. 64.");
        SetSocketOption(Sys.SO_PREFER_BUSY_POLL, 1, "SO_PREFER_BUSY_POLL");
        SetSocketOption(Sys.SO_BUSY_POLL, timeoutMicroseconds, "SO_BUSY_POLL");
        SetSocketOption(Sys.SO_BUSY_POLL_BUDGET, budget, "SO_BUSY_POLL_BUDGET");
        _busyPollBudget = budget;
        _doorbell.BusyPolling = true;
    }

    /// <summary>
    /// The socket's busy-poll options: preference and timeout as the kernel holds them; the budget as
    /// <see cref="EnableBusyPoll"/> set it (getsockopt has no SO_BUSY_POLL_BUDGET).
    /// </summary>
    public BusyPollSettings BusyPoll => new(GetSocketOption(Sys.SO_PREFER_BUSY_POLL, "SO_PREFER_BUSY_POLL") != 0,
        GetSocketOption(Sys.SO_BUSY_POLL, "SO_BUSY_POLL"), _busyPollBudget);

    /// <summary>
    /// SO_INCOMING_NAPI_ID: the NAPI context bind found on the queue, which busy polling drives;
    /// 0 when the queue had none at bind time.
    /// </summary>
    public int NapiId => GetSocketOption(Sys.SO_INCOMING_NAPI_ID, "SO_INCOMING_NAPI_ID");

    int GetSocketOption(int option, string name)
    {
        int value = 0;
        uint length = sizeof(int);
        if (Sys.GetSockOpt(_socket.Fd, Sys.SOL_SOCKET, option, &value, &length) != 0)
            Throw.Errno($"getsockopt({name})", Sys.LastErrno);
        return value;
    }

    void ApplyTxOptions()
    {
        if (Options.TxBudget != 0)
        {
            uint budget = Options.TxBudget;
            if (Sys.SetSockOpt(_socket.Fd, IfXdp.SOL_XDP, IfXdp.XDP_MAX_TX_SKB_BUDGET, &budget, sizeof(uint)) != 0)
            {
                int errno = Sys.LastErrno;
                if (errno == Errno.ENOPROTOOPT)
                    Throw.Kernel($"setsockopt(XDP_MAX_TX_SKB_BUDGET, {budget})", errno, "this kernel predates the TX budget option (Linux 6.17).",
                        "leave XskSocketOptions.TxBudget at 0: each TX wakeup then sends at most 32 frames.");
                Throw.Errno($"setsockopt(XDP_MAX_TX_SKB_BUDGET, {budget})", errno);
            }
        }
        if (Options.SendBufferSize != 0)
        {
            bool force = Privileges.Has(Privileges.CAP_NET_ADMIN);
            SetSocketOption(force ? Sys.SO_SNDBUFFORCE : Sys.SO_SNDBUF, Options.SendBufferSize, force ? "SO_SNDBUFFORCE" : "SO_SNDBUF");
        }
    }

    /// <summary>True when the kernel has XDP_MAX_TX_SKB_BUDGET (Linux 6.17+), probed on a throwaway socket.</summary>
    public static bool KernelHasTxBudget()
    {
        using SafeFd probe = XskFd.Open();
        uint budget = 32;
        return Sys.SetSockOpt(probe.Fd, IfXdp.SOL_XDP, IfXdp.XDP_MAX_TX_SKB_BUDGET, &budget, sizeof(uint)) == 0
            || Sys.LastErrno != Errno.ENOPROTOOPT;
    }

    void SetSocketOption(int option, int value, string name)
    {
        if (Sys.SetSockOpt(_socket.Fd, Sys.SOL_SOCKET, option, &value, sizeof(int)) != 0)
        {
            int errno = Sys.LastErrno;
            if (errno == Errno.EPERM && option == Sys.SO_BUSY_POLL_BUDGET)
                Throw.Kernel($"setsockopt({name}, {value})", errno, "a busy-poll budget above net.core.busy_poll_budget needs CAP_NET_ADMIN.", "run with CAP_NET_ADMIN or use a smaller budget.");
            Throw.Errno($"setsockopt({name}, {value})", errno);
        }
    }

    /// <summary>
    /// Unmaps the rings and closes the descriptor (the first socket's belongs to the UMEM and closes with it).
    /// The last socket of a UMEM already disposed releases the UMEM too.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        foreach (SafeMapping map in _maps)
            map.Dispose();
        if (_ownsSocket)
            _socket?.Dispose();
        // The primary socket's descriptor belongs to the UMEM and is closed with it.
        Umem.ReleaseSocket();
        GC.SuppressFinalize(this);
    }

    /// <summary>The shape, interface, queue and descriptor, for logs and messages.</summary>
    public override string ToString() => $"{GetType().Name}({InterfaceName} queue {QueueId}, fd {Fd})";

    T Keep<T>((SafeMapping Map, T Ring) mapped)
    {
        _maps.Add(mapped.Map);
        return mapped.Ring;
    }

    void Bind(bool primary)
    {
        ushort flags = Options.BindMode switch
        {
            XdpBindMode.Copy => IfXdp.XDP_COPY,
            XdpBindMode.ZeroCopy => IfXdp.XDP_ZEROCOPY,
            _ => 0,
        };
        if (Options.NeedWakeup)
            flags |= IfXdp.XDP_USE_NEED_WAKEUP;
        if (Options.MultiBuffer)
            flags |= IfXdp.XDP_USE_SG;
        var address = new sockaddr_xdp
        {
            sxdp_family = IfXdp.AF_XDP,
            sxdp_ifindex = (uint)InterfaceIndex,
            sxdp_queue_id = QueueId,
        };
        if (!primary)
        {
            // Mode flags must not be given with XDP_SHARED_UMEM: the socket inherits the UMEM owner's.
            address.sxdp_flags = IfXdp.XDP_SHARED_UMEM;
            address.sxdp_shared_umem_fd = (uint)Umem.Socket.Fd;
        }
        else
        {
            address.sxdp_flags = flags;
        }

        string call = $"bind({InterfaceName}, queue {QueueId}{(primary ? "" : ", XDP_SHARED_UMEM")})";
        var clock = Stopwatch.StartNew();
        IReadOnlyList<XskHolder>? holders = null;
        while (Sys.Bind(_socket.Fd, &address, (uint)sizeof(sockaddr_xdp)) != 0)
        {
            int errno = Sys.LastErrno;
            if (errno == Errno.EBUSY)
            {
                // Only a closing socket frees the queue soon; a bound one of another process keeps it, so do not wait for it.
                // Looked for at every refusal: a racing process may bind the queue the moment a closing socket frees it.
                holders = XskHolders.InOtherProcesses() ?? [];
                if (holders.Count == 0 && clock.Elapsed < Options.BusyRetryTimeout)
                {
                    Thread.Sleep(100);
                    continue;
                }
            }
            ThrowBindError(call, errno, clock.Elapsed, holders);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    void ThrowBindError(string call, int errno, TimeSpan waited, IReadOnlyList<XskHolder>? holders)
    {
        switch (errno)
        {
            case Errno.EBUSY when holders is { Count: > 0 }:
                Throw.Kernel(call, errno,
                    $"queue {QueueId} of {InterfaceName} is bound by another AF_XDP socket; in this network namespace bound AF_XDP sockets are held by " +
                    $"{string.Join(", ", holders)}, the likely holder (the kernel does not say which queue a socket is bound to).",
                    "stop that process or let it finish, or bind another queue.");
                break;
            case Errno.EBUSY:
                Throw.Kernel(call, errno,
                    $"queue {QueueId} of {InterfaceName} is still held by another AF_XDP socket: one being closed (it frees the queue within about a second; waited {waited.TotalSeconds:0.0} s), " +
                    "another socket of this process, or one of a process this one may not look into (finding it takes pidfd_getfd: root or CAP_SYS_PTRACE); or its UMEM is bound elsewhere.",
                    "retry; if it persists, find the holder: `ss --xdp -p` lists AF_XDP sockets on kernels built with CONFIG_XDP_SOCKETS_DIAG.");
                break;
            case Errno.EINVAL:
                NetDevice device = NetDevice.Get(InterfaceIndex);
                if (QueueId >= device.QueueCount)
                    Throw.Kernel(call, errno,
                        $"{InterfaceName} has {device.QueueCount} queue(s) (rx {device.RxQueues}, tx {device.TxQueues}), so queue {QueueId} does not exist.",
                        $"use a queue from 0 to {device.QueueCount - 1}, or add queues (`ethtool -L {InterfaceName} combined N`).");
                Throw.Kernel(call, errno,
                    "the kernel rejected the bind arguments: a shared UMEM with different flags, a UMEM already bound to another device, or rings that were not set.",
                    "bind the first socket of a UMEM before the others, and give shared sockets on other queues their own FILL/COMPLETION sizes.");
                break;
            case Errno.EOPNOTSUPP:
                Throw.Kernel(call, errno,
                    $"{InterfaceName}'s driver does not support AF_XDP {(Options.BindMode == XdpBindMode.ZeroCopy ? "zero-copy" : Options.MultiBuffer ? "multi-buffer (XDP_USE_SG) in this mode" : "in this mode")} (veth, for one, is copy-mode only).",
                    Options.BindMode == XdpBindMode.ZeroCopy ? "use XdpBindMode.Copy or XdpBindMode.Auto (falls back to copy)." : "use copy mode, or a driver that supports it.");
                break;
            case Errno.ENETDOWN:
                Throw.Kernel(call, errno, $"{InterfaceName} is down.", $"bring it up: `ip link set dev {InterfaceName} up`.");
                break;
            default:
                Throw.Errno(call, errno);
                break;
        }
    }
}
