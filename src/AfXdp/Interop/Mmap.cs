using System.Runtime.InteropServices;

namespace AfXdp.Interop;

internal static unsafe partial class Sys
{
    internal const int PROT_READ = 0x1;
    internal const int PROT_WRITE = 0x2;
    internal const int MAP_SHARED = 0x01;
    internal const int MAP_PRIVATE = 0x02;
    internal const int MAP_ANONYMOUS = 0x20;
    internal const int MAP_NORESERVE = 0x4000;
    internal const int MAP_POPULATE = 0x8000;
    internal const int MAP_HUGETLB = 0x40000;
    internal const int MAP_HUGE_2MB = 21 << 26; // MAP_HUGE_SHIFT = 26, log2(2 MiB) = 21
    internal static readonly nint MAP_FAILED = -1;

    [LibraryImport(Libc, EntryPoint = "mmap", SetLastError = true)]
    internal static partial nint Mmap(nint addr, nuint length, int prot, int flags, int fd, long offset);

    [LibraryImport(Libc, EntryPoint = "munmap", SetLastError = true)]
    internal static partial int Munmap(nint addr, nuint length);
}

/// <summary>An owned memory mapping: unmapped on Dispose, or by the finalizer if the owner is lost.</summary>
internal sealed unsafe class SafeMapping : SafeHandle
{
    SafeMapping(nint address, nuint length) : base(0, ownsHandle: true)
    {
        SetHandle(address);
        Length = length;
    }

    public nuint Length { get; }

    public byte* Pointer => (byte*)handle;

    public override bool IsInvalid => handle == 0 || handle == Sys.MAP_FAILED;

    /// <summary>mmap(2); returns null with errno in <paramref name="errno"/> on failure.</summary>
    public static SafeMapping? TryMap(nuint length, int prot, int flags, int fd, long offset, out int errno)
    {
        nint p = Sys.Mmap(0, length, prot, flags, fd, offset);
        if (p == Sys.MAP_FAILED)
        {
            errno = Sys.LastErrno;
            return null;
        }
        errno = 0;
        return new SafeMapping(p, length);
    }

    protected override bool ReleaseHandle() => Sys.Munmap(handle, Length) == 0;
}
