using System.Runtime.InteropServices;

namespace AfXdp.Interop;

internal static partial class Sys
{
    internal const int CLONE_NEWNS = 0x00020000;
    internal const ulong MS_REC = 0x4000;
    internal const ulong MS_SLAVE = 1 << 19;
    internal const int MNT_DETACH = 2;

    /// <summary>unshare(2): on a thread, CLONE_NEWNS gives that thread alone a private copy of the mounts.</summary>
    [LibraryImport(Libc, EntryPoint = "unshare", SetLastError = true)]
    internal static partial int Unshare(int flags);

    [LibraryImport(Libc, EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Mount(string source, string target, string? fstype, ulong flags, nint data);

    [LibraryImport(Libc, EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Umount2(string target, int flags);
}
