using System.Runtime.InteropServices;

namespace AfXdp.Interop;

/// <summary>The *at(2) calls: paths resolved relative to a directory descriptor, so a name cannot be redirected to another directory between two calls.</summary>
internal static unsafe partial class Sys
{
    // include/uapi/asm-generic/fcntl.h; arm64 (and arm) number O_DIRECTORY and O_NOFOLLOW apart (arch/arm64/include/uapi/asm/fcntl.h).
    static readonly bool s_armFcntl = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm;
    internal const int O_WRONLY = 0x1;
    internal const int O_CREAT = 0x40;
    internal const int O_EXCL = 0x80;
    internal static readonly int O_DIRECTORY = s_armFcntl ? 0x4000 : 0x10000;
    internal static readonly int O_NOFOLLOW = s_armFcntl ? 0x8000 : 0x20000;

    internal const int AT_FDCWD = -100;
    internal const int AT_SYMLINK_NOFOLLOW = 0x100;

    // include/uapi/linux/stat.h
    internal const uint S_IFMT = 0xF000;
    internal const uint S_IFSOCK = 0xC000;
    internal const uint S_IFLNK = 0xA000;
    internal const uint S_IFREG = 0x8000;
    internal const uint S_IFBLK = 0x6000;
    internal const uint S_IFDIR = 0x4000;
    internal const uint S_IFCHR = 0x2000;
    internal const uint S_IFIFO = 0x1000;

    const uint STATX_TYPE = 0x1;
    const int StatxModeOffset = 28; // struct statx: stx_mask, stx_blksize, stx_attributes, stx_nlink, stx_uid, stx_gid, then stx_mode

    [LibraryImport(Libc, EntryPoint = "openat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int OpenAt(int directoryFd, string path, int flags, uint mode);

    [LibraryImport(Libc, EntryPoint = "fchmod", SetLastError = true)]
    internal static partial int Fchmod(int fd, uint mode);

    [LibraryImport(Libc, EntryPoint = "renameat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int RenameAt(int oldDirectoryFd, string oldPath, int newDirectoryFd, string newPath);

    [LibraryImport(Libc, EntryPoint = "unlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int UnlinkAt(int directoryFd, string path, int flags);

    [LibraryImport(Libc, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int directoryFd, string path, int flags, uint mask, byte* buffer);

    /// <summary>The file type (S_IFMT bits) of <paramref name="name"/> in the directory, the name itself and not what a link points to; 0 with errno on failure.</summary>
    internal static uint FileTypeAt(int directoryFd, string name, out int errno)
    {
        byte* buffer = stackalloc byte[256]; // sizeof(struct statx)
        if (Statx(directoryFd, name, AT_SYMLINK_NOFOLLOW, STATX_TYPE, buffer) != 0)
        {
            errno = LastErrno;
            return 0;
        }
        errno = 0;
        return *(ushort*)(buffer + StatxModeOffset) & S_IFMT;
    }
}
