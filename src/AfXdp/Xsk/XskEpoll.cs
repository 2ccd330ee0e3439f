using AfXdp.Interop;

namespace AfXdp.Xsk;

/// <summary>
/// The one epoll instance and thread that wake every <see cref="XskAsyncReceiver"/>: sockets are
/// registered disarmed, a receiver arms its socket (EPOLLIN | EPOLLONESHOT) only when it is about
/// to wait, and the thread hands the wakeup to the thread pool. So a busy receiver costs the
/// thread nothing, and a waiting one costs one epoll_ctl and one thread-pool hop per wait.
/// </summary>
internal sealed unsafe class XskEpoll
{
    const int MaxEvents = 64;
    static readonly Lazy<XskEpoll> s_shared = new(() => new XskEpoll());

    readonly SafeFd _epoll;
    readonly Lock _lock = new();
    readonly Dictionary<ulong, XskAsyncReceiver> _receivers = [];
    ulong _nextId;

    XskEpoll()
    {
        int fd = Sys.EpollCreate1(Sys.EPOLL_CLOEXEC);
        if (fd < 0)
            Throw.Errno("epoll_create1(EPOLL_CLOEXEC)", Sys.LastErrno);
        _epoll = new SafeFd(fd);
        new Thread(Run) { IsBackground = true, Name = "afxdp epoll" }.Start();
    }

    public static XskEpoll Shared => s_shared.Value;

    /// <summary>Adds a socket, disarmed; returns its key.</summary>
    public ulong Add(XskAsyncReceiver receiver, int fd)
    {
        ulong id;
        lock (_lock)
        {
            id = ++_nextId;
            _receivers.Add(id, receiver);
        }
        // Only EPOLLONESHOT: no event is wanted until Arm.
        Control(Sys.EPOLL_CTL_ADD, fd, Sys.EPOLLONESHOT, id, "EPOLL_CTL_ADD");
        return id;
    }

    /// <summary>
    /// Reports the socket once when it is readable. The kernel polls the socket as it arms it, so
    /// frames that arrived before this call are reported too: no wakeup is lost.
    /// </summary>
    /// <returns>False when the socket was removed meanwhile (its receiver is being disposed).</returns>
    public bool Arm(ulong id, int fd) => Control(Sys.EPOLL_CTL_MOD, fd, Sys.EPOLLIN | Sys.EPOLLONESHOT, id, "EPOLL_CTL_MOD");

    public void Remove(ulong id, int fd)
    {
        Sys.EpollCtl(_epoll.Fd, Sys.EPOLL_CTL_DEL, fd, null); // ENOENT or EBADF: gone already
        lock (_lock)
            _receivers.Remove(id);
    }

    bool Control(int op, int fd, uint events, ulong id, string name)
    {
        if (Sys.EpollCtl(_epoll.Fd, op, fd, events, id) == 0)
            return true;
        int errno = Sys.LastErrno;
        if (op == Sys.EPOLL_CTL_MOD && errno is Errno.ENOENT or Errno.EBADF)
            return false;
        Throw.Errno($"epoll_ctl({name}, AF_XDP socket fd {fd})", errno);
        return false;
    }

    void Run()
    {
        LeaveForeignNamespace();
        byte* events = stackalloc byte[MaxEvents * Sys.EpollEventSize];
        while (true)
        {
            int n = Sys.EpollWait(_epoll.Fd, events, MaxEvents, -1);
            if (n < 0)
            {
                if (Sys.LastErrno == Errno.EINTR)
                    continue;
                Environment.FailFast($"epoll_wait failed: {Errno.Name(Sys.LastErrno)}");
            }
            for (int i = 0; i < n; i++)
            {
                ulong id = Sys.EpollData(events, i);
                XskAsyncReceiver? receiver;
                lock (_lock)
                    _receivers.TryGetValue(id, out receiver);
                receiver?.OnReadable();
            }
        }
    }

    // A thread is born in its creator's network namespace; if that was a NetworkNamespace.Run thread, this
    // thread would keep the namespace (and its devices) alive after `ip netns del`. The main thread's is home.
    static void LeaveForeignNamespace()
    {
        int fd = Sys.Open("/proc/self/ns/net", Sys.O_RDONLY | Sys.O_CLOEXEC);
        if (fd < 0)
            return;
        Sys.SetNs(fd, Sys.CLONE_NEWNET); // EPERM without CAP_SYS_ADMIN: then no thread of ours can be elsewhere either
        Sys.Close(fd);
    }
}
