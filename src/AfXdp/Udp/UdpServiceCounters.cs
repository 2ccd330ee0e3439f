namespace AfXdp.Udp;

/// <summary>
/// What one queue of a <see cref="UdpService"/> saw, counted by its worker (plain increments) and read by
/// the metrics collector and <see cref="UdpService.ReadCounters"/>.
/// </summary>
public sealed class UdpServiceCounters
{
    /// <summary>Datagrams handed to the handler.</summary>
    public long Received { get; internal set; }

    /// <summary>Datagrams sent: replies and new ones.</summary>
    public long Sent { get; internal set; }

    /// <summary>Frames dropped for a wrong IPv4 header or UDP checksum, or a UDP checksum left for offload on a device not known to hand such frames over.</summary>
    public long BadChecksums { get; internal set; }

    /// <summary>Frames dropped as malformed (lengths, fragments, options, not UDP).</summary>
    public long Malformed { get; internal set; }

    /// <summary>Frames dropped because a correct host would not answer them (source address, source MAC, reflector port, another MAC).</summary>
    public long Unanswerable { get; internal set; }

    /// <summary>Exceptions the handler threw (from Handle or Idle); each cost its batch's unanswered datagrams, not the service.</summary>
    public long HandlerErrors { get; internal set; }

    /// <summary>The sum of several queues' counters.</summary>
    public static UdpServiceCounters Sum(IEnumerable<UdpServiceCounters> all)
    {
        var sum = new UdpServiceCounters();
        foreach (UdpServiceCounters c in all)
        {
            sum.Received += c.Received;
            sum.Sent += c.Sent;
            sum.BadChecksums += c.BadChecksums;
            sum.Malformed += c.Malformed;
            sum.Unanswerable += c.Unanswerable;
            sum.HandlerErrors += c.HandlerErrors;
        }
        return sum;
    }

    /// <summary>The counters as key=value pairs, for logs.</summary>
    public override string ToString() => $"received={Received} sent={Sent} bad_checksums={BadChecksums} malformed={Malformed} unanswerable={Unanswerable} handler_errors={HandlerErrors}";
}
