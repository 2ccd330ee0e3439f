using System.Runtime.InteropServices;

namespace AfXdp.Interop;

/// <summary>An owned file descriptor: closed on Dispose, or by the finalizer if the owner is lost.</summary>
public sealed class SafeFd : SafeHandle
{
    public SafeFd() : base(-1, ownsHandle: true) { }

    public SafeFd(int fd, bool ownsHandle = true) : base(-1, ownsHandle) => SetHandle(fd);

    public override bool IsInvalid => (int)handle < 0;

    /// <summary>
    /// The raw descriptor number; -1 once closed, so that a call on a disposed object fails with EBADF
    /// instead of reaching whatever descriptor the number was reused for.
    /// </summary>
    public int Fd => IsClosed ? -1 : (int)handle;

    protected override bool ReleaseHandle() => Sys.Close((int)handle) == 0;
}
