using System.Runtime.InteropServices;

namespace AfXdp.Interop;

internal static partial class Sys
{
    internal const int O_RDONLY = 0x0;
    internal const int O_CLOEXEC = 0x80000;
    internal const int CLONE_NEWNET = 0x40000000; // linux/sched.h

    [LibraryImport(Libc, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Open(string path, int flags);

    /// <summary>setns(2): moves only the calling thread into the namespace behind <paramref name="fd"/>.</summary>
    [LibraryImport(Libc, EntryPoint = "setns", SetLastError = true)]
    internal static partial int SetNs(int fd, int nstype);
}
