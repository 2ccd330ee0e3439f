using AfXdp.Udp;

namespace DnsResponder;

/// <summary>One queue's answerer over AF_XDP (made by the host, one per queue): each query becomes its reply in place.</summary>
public sealed class DnsHandler(DnsZone zone, DnsRun run) : IUdpHandler
{
    readonly ErrorRateLimiter _limiter = new();
    readonly DnsCounters _counters = run.NewCounters();

    /// <inheritdoc/>
    public void Handle(UdpBatch batch)
    {
        foreach (Datagram query in batch)
        {
            int length = DnsAnswerer.Answer(query.ReplyPayload, query.Payload.Length, zone, _limiter, query.Remote.Address, out DnsOutcome outcome);
            _counters.Add(outcome);
            if (length > 0)
                query.Reply(length);
        }
    }
}
