using System.Runtime.InteropServices;

namespace AfXdp.Interop;

/// <summary>
/// Raw Linux ABI. One file per syscall family; every entry point sets errno
/// (<c>SetLastError = true</c>) and is blittable, so nothing is marshalled on the hot path.
/// Callers turn a failure into an <see cref="AfXdpException"/> through <c>Throw</c>.
/// </summary>
internal static partial class Sys
{
    internal const string Libc = "libc";

    [LibraryImport(Libc, EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(int fd);

    /// <summary>The errno left by the last call made with <c>SetLastError = true</c>.</summary>
    internal static int LastErrno => Marshal.GetLastPInvokeError();
}
