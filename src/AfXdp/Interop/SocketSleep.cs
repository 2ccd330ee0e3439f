namespace AfXdp.Interop;

/// <summary>
/// One thread's sleep until a socket is readable or an eventfd is signalled, through its own epoll(7)
/// instance. Both descriptors are registered once (level-triggered, as poll(2) reports them), so a sleep
/// is one epoll_wait: no wait-queue entries are added to the two files and removed again on every call,
/// as poll(2) does. Owns the epoll descriptor, not the two it watches (they must outlive it).
/// </summary>
internal sealed unsafe class SocketSleep : IDisposable
{
    /// <summary>What <see cref="Wait"/> saw: the socket readable, the eventfd signalled, or both.</summary>
    [Flags]
    internal enum Ready
    {
        None = 0,
        Socket = 1,
        Wakeup = 2,
    }

    readonly SafeFd _epoll;

    public SocketSleep(int socketFd, int wakeupFd)
    {
        int fd = Sys.EpollCreate1(Sys.EPOLL_CLOEXEC);
        if (fd < 0)
            Throw.Errno("epoll_create1(EPOLL_CLOEXEC)", Sys.LastErrno);
        _epoll = new SafeFd(fd);
        try
        {
            Add(socketFd, Ready.Socket, "the AF_XDP socket");
            Add(wakeupFd, Ready.Wakeup, "the wakeup eventfd");
        }
        catch
        {
            _epoll.Dispose();
            throw;
        }
    }

    void Add(int fd, Ready tag, string what)
    {
        if (Sys.EpollCtl(_epoll.Fd, Sys.EPOLL_CTL_ADD, fd, Sys.EPOLLIN, (ulong)tag) != 0)
            Throw.Errno($"epoll_ctl(EPOLL_CTL_ADD, {what}, fd {fd})", Sys.LastErrno);
    }

    /// <summary>
    /// Sleeps until either descriptor is readable or <paramref name="timeoutMilliseconds"/> pass (-1: no
    /// limit); <see cref="Ready.None"/> on a timeout or a signal (EINTR).
    /// </summary>
    public Ready Wait(int timeoutMilliseconds)
    {
        byte* events = stackalloc byte[2 * Sys.EpollEventSize];
        int n = Sys.EpollWait(_epoll.Fd, events, 2, timeoutMilliseconds);
        if (n < 0)
        {
            int errno = Sys.LastErrno;
            if (errno != Errno.EINTR)
                Throw.Errno("epoll_wait(AF_XDP socket, wakeup eventfd)", errno);
            return Ready.None;
        }
        Ready ready = Ready.None;
        for (int i = 0; i < n; i++)
            ready |= (Ready)Sys.EpollData(events, i);
        return ready;
    }

    public void Dispose() => _epoll.Dispose();
}
