using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using AfXdp.Interop;

namespace AfXdp.Xsk;

/// <summary>
/// How this process tells the kernel there is work on the rings of one AF_XDP descriptor (sendto for TX,
/// recvfrom or poll for RX and FILL), with the kernel's refusals explained. Created with the descriptor
/// and given to its rings when they are constructed, so a ring wakes the kernel without reaching back
/// into a socket. The UMEM's descriptor has one before any socket binds it.
/// </summary>
internal sealed unsafe class XskDoorbell(SafeFd socket)
{
    string _interfaceName = "an unbound interface";
    uint _queueId;

    /// <summary>The descriptor the rings belong to.</summary>
    public SafeFd Socket { get; } = socket;

    /// <summary>The socket bound on this descriptor, for messages ("FILL ring of RxSocket(eth0 queue 0, fd 5)").</summary>
    public string Owner { get; private set; } = $"the AF_XDP socket on fd {socket.Fd}";

    /// <summary>True after busy polling was enabled on the descriptor: an empty receive then always makes the (polling) wakeup syscall.</summary>
    public bool BusyPolling { get; set; }

    /// <summary>Names the socket, interface and queue the descriptor is (about to be) bound to, for messages.</summary>
    public void Describe(string owner, string interfaceName, uint queueId) =>
        (Owner, _interfaceName, _queueId) = (owner, interfaceName, queueId);

    /// <summary>sendto(MSG_DONTWAIT); false when the kernel was busy (EAGAIN, EBUSY, ENOBUFS, ENETDOWN).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool WakeupTx()
    {
        if (Sys.SendTo(Socket.Fd, null, 0, Sys.MSG_DONTWAIT, null, 0) >= 0)
            return true;
        return TxWakeupFailed(Sys.LastErrno);
    }

    /// <summary>recvfrom(MSG_DONTWAIT); false while the interface is down (ENETDOWN) or the kernel was busy.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool WakeupRx()
    {
        if (Sys.RecvFrom(Socket.Fd, null, 0, Sys.MSG_DONTWAIT, null, null) >= 0)
            return true;
        return RxWakeupFailed(Sys.LastErrno);
    }

    /// <summary>poll(2) for <paramref name="events"/>; true when they are ready, false on timeout (also while the interface is down).</summary>
    public bool Poll(short events, int timeoutMs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(timeoutMs, -1);
        Sys.pollfd pfd = new() { fd = Socket.Fd, events = events };
        if (pfd.fd < 0)
            PollFailed(events, Errno.EBADF); // poll(2) would ignore a negative descriptor and wait out the timeout
        int n = Sys.Poll(&pfd, 1, timeoutMs);
        if (n > 0)
            return (pfd.revents & events) != 0;
        if (n < 0)
        {
            int errno = Sys.LastErrno;
            if (errno != Errno.EINTR)
                PollFailed(events, errno);
            return false;
        }
        // An unbound socket (its interface removed) polls as "nothing yet" forever; the idle path asks once.
        if (Sys.RecvFrom(Socket.Fd, null, 0, Sys.MSG_DONTWAIT, null, null) < 0 && Sys.LastErrno == Errno.ENXIO)
            PollFailed(events, Errno.ENXIO);
        return false;
    }

    /// <summary>
    /// poll(2)'s milliseconds for a <see cref="TimeSpan"/> timeout: -1 for <see cref="Timeout.InfiniteTimeSpan"/>,
    /// fractions rounded up so that a short positive timeout still waits.
    /// </summary>
    public static int PollMilliseconds(TimeSpan timeout, string parameterName)
    {
        if (timeout == Timeout.InfiniteTimeSpan)
            return -1;
        double milliseconds = Math.Ceiling(timeout.TotalMilliseconds);
        if (timeout < TimeSpan.Zero || milliseconds > int.MaxValue)
            throw new ArgumentOutOfRangeException(parameterName, timeout,
                $"a timeout is from 0 to {int.MaxValue} ms, or Timeout.InfiniteTimeSpan to wait without limit.");
        return (int)milliseconds;
    }

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    void PollFailed(short events, int errno)
    {
        string call = $"poll(AF_XDP socket, {(events == Sys.POLLIN ? "POLLIN" : "POLLOUT")})";
        if (errno == Errno.ENXIO)
            ThrowUnbound(call);
        Throw.Errno(call, errno);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    bool TxWakeupFailed(int errno)
    {
        const string call = "sendto(AF_XDP socket, MSG_DONTWAIT) (TX wakeup)";
        if (errno is Errno.EAGAIN or Errno.EBUSY or Errno.ENOBUFS or Errno.ENETDOWN)
            return false;
        if (errno == Errno.EINVAL)
            // net/xdp/xsk.c, xsk_skb_metadata: the descriptor is left at the head of the TX ring.
            Throw.Kernel(call, errno,
                "the kernel refused the packet at the head of the TX ring because of its TX metadata: a request flag it does not know, " +
                "a checksum position past the packet's end, or XDP_TX_METADATA on a UMEM without a TX metadata area. The descriptor stays in the ring.",
                "check the XskTxMetadata before sending (RequestChecksum needs start + offset + 2 <= the packet length), then close the socket and open a new one.");
        if (errno == Errno.ENXIO)
            ThrowUnbound(call);
        Throw.Errno(call, errno);
        return false;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    bool RxWakeupFailed(int errno)
    {
        const string call = "recvfrom(AF_XDP socket, MSG_DONTWAIT) (RX wakeup)";
        switch (errno)
        {
            case Errno.EAGAIN or Errno.EINTR or Errno.EBUSY or Errno.ENETDOWN:
                return false;
            case Errno.ENXIO:
                ThrowUnbound(call);
                break;
            case Errno.ENOBUFS:
                Throw.Kernel(call, errno, $"{Owner} has no RX ring (XskSocketOptions.RxRingSize = 0).", "create the socket with an RX ring to receive.");
                break;
        }
        Throw.Errno(call, errno);
        return false;
    }

    /// <summary>The kernel unbinds a socket whose interface goes away (xsk_notifier on NETDEV_UNREGISTER); every call then says ENXIO.</summary>
    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    void ThrowUnbound(string call) =>
        Throw.Kernel(call, Errno.ENXIO,
            $"{_interfaceName} queue {_queueId} is gone: the kernel unbound the socket when the interface was removed (deleted, or moved out of or destroyed with its namespace).",
            "dispose the socket and its UMEM; bind new ones once the interface exists again.");
}
