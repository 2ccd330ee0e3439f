using System.Runtime.InteropServices;

namespace AfXdp.Interop;

/// <summary>
/// The *at(2) calls: names resolved relative to a directory descriptor, so that a directory checked once stays the
/// one acted in, whatever happens to its path meanwhile (the way to touch files near shared directories as root).
/// </summary>
internal static unsafe partial class Sys
{
    internal const int AT_FDCWD = -100;
    internal const int AT_SYMLINK_NOFOLLOW = 0x100;
    internal const int AT_REMOVEDIR = 0x200;
    internal const int AT_EMPTY_PATH = 0x1000;

    // include/uapi/asm-generic/fcntl.h; arm and arm64 number O_DIRECTORY and O_NOFOLLOW apart (arch/arm64/include/uapi/asm/fcntl.h).
    static readonly bool ArmFcntl = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm;
    internal const int O_WRONLY = 0x1;
    internal const int O_CREAT = 0x40;
    internal const int O_EXCL = 0x80;
    internal static readonly int O_DIRECTORY = ArmFcntl ? 0x4000 : 0x10000;
    internal static readonly int O_NOFOLLOW = ArmFcntl ? 0x8000 : 0x20000;

    // include/uapi/linux/stat.h
    internal const uint S_IFMT = 0xF000;
    internal const uint S_IFSOCK = 0xC000;
    internal const uint S_IFLNK = 0xA000;
    internal const uint S_IFREG = 0x8000;
    internal const uint S_IFBLK = 0x6000;
    internal const uint S_IFDIR = 0x4000;
    internal const uint S_IFCHR = 0x2000;
    internal const uint S_IFIFO = 0x1000;
    internal const uint S_ISVTX = 0x200;

    internal const uint STATX_TYPE = 0x1;
    internal const uint STATX_MODE = 0x2;
    internal const uint STATX_UID = 0x8;
    internal const uint STATX_INO = 0x100;

    /// <summary>struct statx (linux/stat.h): the same layout on every architecture, unlike struct stat.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    internal struct statx
    {
        [FieldOffset(0)] public uint stx_mask;
        [FieldOffset(20)] public uint stx_uid;
        [FieldOffset(28)] public ushort stx_mode;
        [FieldOffset(32)] public ulong stx_ino;
        [FieldOffset(136)] public uint stx_dev_major;
        [FieldOffset(140)] public uint stx_dev_minor;
    }

    /// <summary>openat(2); <paramref name="mode"/> counts only with O_CREAT.</summary>
    [LibraryImport(Libc, EntryPoint = "openat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int OpenAt(int dirfd, string path, int flags, uint mode = 0);

    [LibraryImport(Libc, EntryPoint = "mkdirat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int MkdirAt(int dirfd, string path, uint mode);

    [LibraryImport(Libc, EntryPoint = "unlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int UnlinkAt(int dirfd, string path, int flags);

    [LibraryImport(Libc, EntryPoint = "renameat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int RenameAt(int oldDirfd, string oldPath, int newDirfd, string newPath);

    [LibraryImport(Libc, EntryPoint = "fchmod", SetLastError = true)]
    internal static partial int FChmod(int fd, uint mode);

    /// <summary>fchmodat(3): with AT_SYMLINK_NOFOLLOW a link is refused (EOPNOTSUPP), never followed (fchmodat2, or glibc's O_PATH emulation).</summary>
    [LibraryImport(Libc, EntryPoint = "fchmodat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int FChmodAt(int dirfd, string path, uint mode, int flags);

    /// <summary>fchownat(2): with AT_SYMLINK_NOFOLLOW a link itself changes owner, never its target.</summary>
    [LibraryImport(Libc, EntryPoint = "fchownat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int FChownAt(int dirfd, string path, int owner, int group, int flags);

    [LibraryImport(Libc, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Statx(int dirfd, string path, int flags, uint mask, statx* buffer);

    /// <summary>statx of <paramref name="path"/> under <paramref name="dirfd"/> without following a final link ("" for the descriptor itself); false with errno.</summary>
    internal static bool TryStatAt(int dirfd, string path, out statx status)
    {
        statx buffer;
        int flags = AT_SYMLINK_NOFOLLOW | (path.Length == 0 ? AT_EMPTY_PATH : 0);
        bool ok = Statx(dirfd, path, flags, STATX_TYPE | STATX_MODE | STATX_UID | STATX_INO, &buffer) == 0;
        status = buffer;
        return ok;
    }

    /// <summary>The file type (S_IFMT bits) of <paramref name="name"/> in the directory, the name itself and not what a link points to; 0 with errno on failure.</summary>
    internal static uint FileTypeAt(int dirfd, string name, out int errno)
    {
        bool ok = TryStatAt(dirfd, name, out statx status);
        errno = ok ? 0 : LastErrno;
        return ok ? status.stx_mode & S_IFMT : 0;
    }
}
