using System.Diagnostics;

namespace AfXdp.Xsk;

/// <summary>How long a verb retries a momentarily full ring before it gives up (see <see cref="FillRing"/> and <see cref="TxRing"/>).</summary>
internal static class RingRetry
{
    /// <summary>
    /// 1 ms, for a full TX ring: the send verbs kick the kernel that long, then count what did not fit as
    /// dropped. A drop policy, so short: a forwarding loop should not stall behind a slow peer.
    /// </summary>
    internal static readonly TimeSpan Limit = TimeSpan.FromMilliseconds(1);

    /// <summary>
    /// 100 ms, for a full FILL ring: not a drop policy but a wait for the kernel's FILL release, which follows
    /// its RX update within a few hundred ns unless its CPU is taken away (on a loaded VM it once took
    /// more than 1 ms, most likely a stolen vCPU). Long enough for that; short enough that a ring given more frames than it
    /// holds fails at once to a person.
    /// </summary>
    internal static readonly TimeSpan FillLimit = TimeSpan.FromMilliseconds(100);

    internal static readonly long LimitTicks = (long)(Limit.TotalSeconds * Stopwatch.Frequency);

    internal static readonly long FillLimitTicks = (long)(FillLimit.TotalSeconds * Stopwatch.Frequency);
}
