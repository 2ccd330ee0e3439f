using System.Diagnostics;

namespace DnsResponder;

/// <summary>
/// Response-rate limiting for answers without records (errors, NXDOMAIN, NODATA), as Knot's and BIND's RRL do
/// it: each source gets <see cref="PerSecond"/> such answers a second, and no reply past them. A service that
/// answers anything sends back something query-like at best, which gets such an answer; once the source's
/// tokens are spent the exchange stops, since each side only ever answers the other. Positive answers are not
/// rationed: only a client asking for a served name gets them.
/// </summary>
/// <remarks>
/// A fixed table of token buckets indexed by a hash of the source address, seeded per process (<see cref="HashCode"/>)
/// so that no one can aim a source at another's bucket; two sources that share a bucket share its tokens, which
/// errs on the side of fewer error answers. One per serving thread: no locks, nothing allocated per query.
/// A source's queries on several threads (several queues or sockets) get a budget on each. No "slip" (a
/// truncated answer in place of some dropped ones, for a client to retry over TCP): this responder has no TCP.
/// </remarks>
public sealed class ErrorRateLimiter
{
    /// <summary>Answers without records a source may get each second; also the burst, since the bucket fills once a second.</summary>
    public const int PerSecond = 10;

    // 4096 buckets of 16 bytes (64 KiB a thread): small, and a few hundred sources rarely share one.
    const int Buckets = 4096;

    readonly Bucket[] _buckets = new Bucket[Buckets];

    /// <summary>An empty table: every source starts with <see cref="PerSecond"/> tokens.</summary>
    public ErrorRateLimiter() => Array.Fill(_buckets, new Bucket { Second = -1 });

    /// <summary>
    /// True when <paramref name="source"/> (an address in IPv6 form, IPv4 ones IPv4-mapped: <c>AfXdp.Udp.UdpEndpoint.Address</c>) may get one more answer without records now;
    /// <paramref name="timestamp"/> is <see cref="Stopwatch.GetTimestamp"/>'s.
    /// </summary>
    public bool TryTake(UInt128 source, long timestamp)
    {
        ref Bucket bucket = ref _buckets[(uint)HashCode.Combine(source) % Buckets];
        long second = timestamp / Stopwatch.Frequency;
        if (bucket.Second != second)
            (bucket.Second, bucket.Tokens) = (second, PerSecond);
        if (bucket.Tokens == 0)
            return false;
        bucket.Tokens--;
        return true;
    }

    struct Bucket
    {
        public long Second;
        public int Tokens;
    }
}
