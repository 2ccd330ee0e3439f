using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using AfXdp.Interop;

namespace AfXdp;

/// <summary>
/// A failed kernel call or a rejected configuration: says which call, the errno (0 when the
/// library refused before any syscall), the likely cause and the fix.
/// </summary>
public class AfXdpException : Exception
{
    /// <summary>An error for <paramref name="call"/>: <paramref name="errno"/> as the kernel returned it (0 when the library refused before any syscall), the likely cause and the fix, each a sentence.</summary>
    public AfXdpException(string call, int errno, string cause, string fix, Exception? inner = null)
        : base(Format(call, errno, cause, fix), inner)
    {
        Call = call;
        Errno = errno;
        Cause = cause;
        Fix = fix;
    }

    /// <summary>
    /// For a failure no call reported (the kernel returned no error, yet something is wrong): the message
    /// starts with <paramref name="summary"/> instead of "call failed: ERRNO".
    /// </summary>
    protected AfXdpException(string summary, string call, int errno, string cause, string fix)
        : base($"{summary}. Cause: {cause} Fix: {fix}")
    {
        Call = call;
        Errno = errno;
        Cause = cause;
        Fix = fix;
    }

    /// <summary>The call that failed, with its arguments, e.g. "bind(veth0, queue 0)".</summary>
    public string Call { get; }

    /// <summary>The errno the kernel returned; 0 when the library refused the input itself.</summary>
    public int Errno { get; }

    /// <summary>The symbolic errno, e.g. "EBUSY".</summary>
    public string ErrnoName => Errno == 0 ? "" : Interop.Errno.Name(Errno);

    /// <summary>Why it failed, in a sentence: what the kernel or the library objected to.</summary>
    public string Cause { get; }

    /// <summary>What to do about it, in a sentence: a command, an option, a capability.</summary>
    public string Fix { get; }

    static string Format(string call, int errno, string cause, string fix)
    {
        // errno 0: the library refused before any syscall, so there is no kernel error to name.
        return errno == 0
            ? Throw.Message(call, cause, fix)
            : $"{call} failed: {Interop.Errno.Name(errno)} ({Marshal.GetPInvokeErrorMessage(errno)}). Cause: {cause} Fix: {fix}";
    }
}

/// <summary>The verifier rejected a program; <see cref="Log"/> is what to paste into a bug report.</summary>
public sealed class VerifierException(string call, int errno, string log, string disassembly)
    : AfXdpException(call, errno,
        "the kernel verifier rejected the program. Verifier log (last lines):\n" + Tail(log, 30) + "\nProgram:\n" + disassembly,
        "correct the instruction the log points at; the full log is in VerifierException.Log.")
{
    /// <summary>The verifier's full log (BPF_PROG_LOAD with log level 1).</summary>
    public string Log { get; } = log;

    /// <summary>The rejected program, one instruction a line, numbered as the log refers to them.</summary>
    public string Disassembly { get; } = disassembly;

    static string Tail(string log, int lines)
    {
        string[] all = log.TrimEnd().Split('\n');
        return string.Join('\n', all.Length <= lines ? all : all[^lines..]);
    }
}

/// <summary>Another XDP program is attached to the interface; we refuse to replace it silently.</summary>
public sealed class XdpProgramConflictException(string call, int errno, string ifName, uint programId, string programName, string mode, string attachedBy)
    : AfXdpException(call, errno,
        $"{ifName} already has XDP program id {programId} '{programName}' attached in {mode} mode (by {attachedBy}), and replacing it silently could break whoever loaded it.",
        $"detach it on purpose (`afxdp detach -i {ifName}` or `ip link set dev {ifName} xdp off`), or pass ReplaceExisting = true.")
{
    /// <summary>The id of the program already attached.</summary>
    public uint ProgramId { get; } = programId;

    /// <summary>The name of the program already attached.</summary>
    public string ProgramName { get; } = programName;
}

/// <summary>
/// The process lacks a privilege the call needs: a capability (EPERM), or locked memory under RLIMIT_MEMLOCK
/// without CAP_IPC_LOCK. A caller can then check every privilege at once (Diagnostics.Doctor.PrivilegeChecks).
/// </summary>
public sealed class PrivilegeException(string call, int errno, string cause, string fix) : AfXdpException(call, errno, cause, fix);

/// <summary>Throw helpers: keep the throwing code out of hot methods.</summary>
internal static class Throw
{
    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    internal static void Kernel(string call, int errno, string cause, string fix) =>
        throw new AfXdpException(call, errno, cause, fix);

    /// <summary>A refusal before any syscall that no argument of the caller's explains (a state, the environment): errno 0.</summary>
    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    internal static void Config(string what, string cause, string fix) =>
        throw new AfXdpException(what, 0, cause, fix);

    /// <summary>
    /// A bad argument, or a bad property of an options argument (<paramref name="paramName"/>), refused before any
    /// syscall: the one-line message names the value (<paramref name="what"/>), the cause and the fix.
    /// </summary>
    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    internal static void Argument(string paramName, string what, string cause, string fix) =>
        throw new ArgumentException(Message(what, cause, fix), paramName);

    /// <summary>Like <see cref="Argument"/>, for a value outside the range the kernel or the library accepts.</summary>
    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    internal static void OutOfRange(string paramName, string what, string cause, string fix) =>
        throw new ArgumentOutOfRangeException(paramName, Message(what, cause, fix));

    /// <summary>"WHAT: CAUSE Fix: FIX", the one line of a refusal before any syscall.</summary>
    internal static string Message(string what, string cause, string fix) => $"{what}: {cause} Fix: {fix}";

    /// <summary>
    /// EPERM or EACCES from <paramref name="call"/>, which needs <paramref name="own"/>; <paramref name="rest"/> is
    /// what the rest of its operation needs. Names every capability the process lacks for all of them, so that one
    /// failure says what to grant instead of one capability per attempt.
    /// </summary>
    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    internal static void Capability(string call, int errno, CapabilityNeed own, params CapabilityNeed[] rest)
    {
        CapabilityNeed[] needs = [own, .. rest];
        if (CapabilityNeed.Lacking([own]).Length == 0)
            throw new AfXdpException(call, errno,
                $"the process has {own.CapabilityNames}, which {own.What} needs, yet the kernel refused: a security module (SELinux, AppArmor) or lockdown forbids it.",
                "look for the denial in the kernel log (`dmesg`, `journalctl -k`) or the audit log.");
        throw new PrivilegeException(call, errno, LacksCause(needs), CapabilityNeed.GrantFix(needs.SelectMany(n => n.Capabilities).Distinct()));
    }

    /// <summary>"the process lacks CAP_NET_RAW, CAP_BPF and CAP_NET_ADMIN: an AF_XDP socket needs CAP_NET_RAW; the XDP program ... needs ...".</summary>
    internal static string LacksCause(IReadOnlyList<CapabilityNeed> needs) =>
        $"the process lacks {CapabilityNeed.Join(CapabilityNeed.Lacking(needs).Select(Capabilities.Name))}: " +
        string.Join("; ", needs.Select(n => $"{n.What} needs {n.CapabilityNames}")) +
        (needs.Any(n => n.Capabilities.Any(c => c is Capabilities.CAP_BPF or Capabilities.CAP_NET_ADMIN)) ? " (CAP_SYS_ADMIN also grants CAP_BPF and CAP_NET_ADMIN)." : ".");

    /// <summary>A privilege the process lacks (see <see cref="PrivilegeException"/>); errno 0 when refused before the syscall.</summary>
    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    internal static void Privilege(string call, int errno, string cause, string fix) =>
        throw new PrivilegeException(call, errno, cause, fix);

    /// <summary>
    /// A generic explanation for an errno that a call site did not explain better;
    /// the common ones (privilege, memlock, missing device) are worded once here.
    /// </summary>
    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    internal static void Errno(string call, int errno)
    {
        (string cause, string fix) = errno switch
        {
            Interop.Errno.EPERM or Interop.Errno.EACCES =>
                ("the process lacks a capability: AF_XDP sockets need CAP_NET_RAW, XDP programs and maps need CAP_BPF and CAP_NET_ADMIN (or CAP_SYS_ADMIN).",
                 CapabilityNeed.GrantFix([Capabilities.CAP_NET_RAW, Capabilities.CAP_BPF, Capabilities.CAP_NET_ADMIN])),
            Interop.Errno.ENOBUFS or Interop.Errno.ENOMEM =>
                ("the locked-memory limit (RLIMIT_MEMLOCK) is too small for the UMEM or the rings, and the process lacks CAP_IPC_LOCK.",
                 "use fewer or smaller frames, raise `ulimit -l`, or grant CAP_IPC_LOCK."),
            Interop.Errno.ENODEV or Interop.Errno.ENXIO =>
                ("no such network interface in this network namespace.",
                 "check the name with `ip -br link` (in the right namespace: `ip netns exec NS ...`)."),
            Interop.Errno.EAFNOSUPPORT =>
                ("the kernel was built without AF_XDP (CONFIG_XDP_SOCKETS).",
                 "use a kernel with CONFIG_XDP_SOCKETS=y (any distribution kernel since 4.18)."),
            Interop.Errno.ENOSYS =>
                ("the kernel lacks this system call (built without CONFIG_BPF_SYSCALL?).",
                 "use a kernel with BPF enabled."),
            Interop.Errno.EBADF =>
                ("the descriptor is closed: the socket, UMEM, map or program was disposed.", "stop using an object after its Dispose; create a new one."),
            Interop.Errno.EMFILE =>
                ("the process ran out of file descriptors.", "raise `ulimit -n`, or dispose sockets you no longer use."),
            _ => ("the kernel refused the call.", "check the arguments against the kernel documentation (Documentation/networking/af_xdp.rst)."),
        };
        if (errno is Interop.Errno.EPERM or Interop.Errno.EACCES or Interop.Errno.ENOBUFS or Interop.Errno.ENOMEM)
            Privilege(call, errno, cause, fix);
        throw new AfXdpException(call, errno, cause, fix);
    }
}
