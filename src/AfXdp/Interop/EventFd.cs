using System.Runtime.InteropServices;

namespace AfXdp.Interop;

internal static unsafe partial class Sys
{
    internal const int EFD_CLOEXEC = 0x80000;
    internal const int EFD_NONBLOCK = 0x800;

    [LibraryImport(Libc, EntryPoint = "eventfd", SetLastError = true)]
    internal static partial int EventFd(uint initval, int flags);

    [LibraryImport(Libc, EntryPoint = "read", SetLastError = true)]
    internal static partial nint Read(int fd, void* buf, nuint count);

    [LibraryImport(Libc, EntryPoint = "write", SetLastError = true)]
    internal static partial nint Write(int fd, void* buf, nuint count);
}

/// <summary>
/// An eventfd(2) counter: one thread signals, another wakes from poll. Non-blocking, so that a
/// drain never blocks; owns its descriptor.
/// </summary>
internal sealed unsafe class EventFd : IDisposable
{
    readonly SafeFd _fd;

    public EventFd()
    {
        int fd = Sys.EventFd(0, Sys.EFD_CLOEXEC | Sys.EFD_NONBLOCK);
        if (fd < 0)
            Throw.Errno("eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)", Sys.LastErrno);
        _fd = new SafeFd(fd);
    }

    public int Fd => _fd.Fd;

    /// <summary>Adds one to the counter: poll(POLLIN) on <see cref="Fd"/> returns.</summary>
    public void Signal()
    {
        ulong one = 1;
        Sys.Write(_fd.Fd, &one, sizeof(ulong)); // only fails (EAGAIN) when the counter is near 2^64: it is signalled already
    }

    /// <summary>Resets the counter to zero (EAGAIN when it was zero already).</summary>
    public void Drain()
    {
        ulong value;
        Sys.Read(_fd.Fd, &value, sizeof(ulong));
    }

    public void Dispose() => _fd.Dispose();
}
