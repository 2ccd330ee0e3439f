using System.Runtime.InteropServices;

namespace AfXdp.Interop;

internal static unsafe partial class Sys
{
    internal const int EPOLL_CLOEXEC = 0x80000;
    internal const int EPOLL_CTL_ADD = 1;
    internal const int EPOLL_CTL_DEL = 2;
    internal const int EPOLL_CTL_MOD = 3;
    internal const uint EPOLLIN = 0x001;
    internal const uint EPOLLONESHOT = 1u << 30;

    /// <summary>
    /// sizeof(struct epoll_event): the struct is packed on x86-64 (events, then data at offset 4)
    /// and naturally aligned elsewhere (data at offset 8), so it is written by offset, not declared.
    /// </summary>
    internal static readonly int EpollEventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;

    internal static readonly int EpollDataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    [LibraryImport(Libc, EntryPoint = "epoll_create1", SetLastError = true)]
    internal static partial int EpollCreate1(int flags);

    [LibraryImport(Libc, EntryPoint = "epoll_ctl", SetLastError = true)]
    internal static partial int EpollCtl(int epfd, int op, int fd, void* ev);

    [LibraryImport(Libc, EntryPoint = "epoll_wait", SetLastError = true)]
    internal static partial int EpollWait(int epfd, void* events, int maxevents, int timeout);

    /// <summary>epoll_ctl(2) with a struct epoll_event of <paramref name="events"/> and <paramref name="data"/>, laid out for this architecture.</summary>
    internal static int EpollCtl(int epfd, int op, int fd, uint events, ulong data)
    {
        byte* ev = stackalloc byte[EpollEventSize];
        *(uint*)ev = events;
        *(ulong*)(ev + EpollDataOffset) = data;
        return EpollCtl(epfd, op, fd, ev);
    }

    /// <summary>The data of the <paramref name="index"/>th struct epoll_event that epoll_wait(2) wrote to <paramref name="events"/>.</summary>
    internal static ulong EpollData(byte* events, int index) => *(ulong*)(events + index * EpollEventSize + EpollDataOffset);
}
