using System.Runtime.InteropServices;

namespace AfXdp.Tests.Net;

/// <summary>
/// One read-write page between two inaccessible ones (mmap + mprotect PROT_NONE): bytes copied flush against
/// either guard make any access past their end, or before their start, fault.
/// </summary>
internal sealed unsafe partial class GuardedMemory : IDisposable
{
    const int PROT_NONE = 0, PROT_READ = 1, PROT_WRITE = 2, MAP_PRIVATE = 2, MAP_ANONYMOUS = 0x20;

    readonly nuint _page = (nuint)Environment.SystemPageSize;
    readonly byte* _base;

    public GuardedMemory()
    {
        _base = (byte*)mmap(0, 3 * _page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (_base == (byte*)-1 || mprotect((nint)_base, _page, PROT_NONE) != 0 || mprotect((nint)(_base + 2 * _page), _page, PROT_NONE) != 0)
            throw new InvalidOperationException($"mmap/mprotect failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>A copy of <paramref name="bytes"/> ending where the upper guard page begins.</summary>
    public Span<byte> BeforeGuard(ReadOnlySpan<byte> bytes) => Place(_base + 2 * _page - bytes.Length, bytes);

    /// <summary>A copy of <paramref name="bytes"/> starting where the lower guard page ends.</summary>
    public Span<byte> AfterGuard(ReadOnlySpan<byte> bytes) => Place(_base + _page, bytes);

    static Span<byte> Place(byte* at, ReadOnlySpan<byte> bytes)
    {
        var placed = new Span<byte>(at, bytes.Length);
        bytes.CopyTo(placed);
        return placed;
    }

    public void Dispose() => munmap((nint)_base, 3 * _page);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint mmap(nint address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int mprotect(nint address, nuint length, int protection);

    [LibraryImport("libc")]
    private static partial int munmap(nint address, nuint length);
}
