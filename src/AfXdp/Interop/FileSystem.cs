using System.Runtime.InteropServices;

namespace AfXdp.Interop;

internal static unsafe partial class Sys
{
    /// <summary>statfs f_type of the BPF file system (include/uapi/linux/magic.h).</summary>
    internal const long BPF_FS_MAGIC = 0xcafe4a11;

    [LibraryImport(Libc, EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Mount(string source, string target, string fileSystemType, nuint flags, string data);

    /// <summary>The effective user id: whose file permissions apply to this process.</summary>
    [LibraryImport(Libc, EntryPoint = "geteuid")]
    internal static partial int GetEUid();

    [LibraryImport(Libc, EntryPoint = "statfs", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int StatFs(string path, byte* buffer);

    /// <summary>statfs(2)'s f_type (the first field, a long), or -1 with errno.</summary>
    internal static long FileSystemType(string path, out int errno)
    {
        // struct statfs is 120 bytes on 64-bit and 64 bytes on 32-bit Linux; leave room for either.
        byte* buffer = stackalloc byte[256];
        if (StatFs(path, buffer) != 0)
        {
            errno = LastErrno;
            return -1;
        }
        errno = 0;
        return nint.Size == 8 ? *(long*)buffer : (uint)*(int*)buffer;
    }
}
