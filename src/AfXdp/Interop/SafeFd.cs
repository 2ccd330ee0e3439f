using System.Runtime.InteropServices;

namespace AfXdp.Interop;

/// <summary>An owned file descriptor: closed on Dispose, or by the finalizer if the owner is lost.</summary>
internal sealed class SafeFd : SafeHandle
{
    /// <summary>An invalid descriptor (-1), for marshalling to fill in.</summary>
    public SafeFd() : base(-1, ownsHandle: true) { }

    /// <summary>Wraps <paramref name="fd"/>; when <paramref name="ownsHandle"/>, closing this closes the descriptor.</summary>
    public SafeFd(int fd, bool ownsHandle = true) : base(-1, ownsHandle) => SetHandle(fd);

    /// <summary>True for a negative descriptor.</summary>
    public override bool IsInvalid => (int)handle < 0;

    /// <summary>
    /// The raw descriptor number; -1 once closed, so that a call on a disposed object fails with EBADF
    /// instead of reaching whatever descriptor the number was reused for.
    /// </summary>
    public int Fd => IsClosed ? -1 : (int)handle;

    /// <summary>close(2) of the descriptor; true when it succeeded.</summary>
    protected override bool ReleaseHandle() => Sys.Close((int)handle) == 0;
}
