using System.Diagnostics;

namespace DnsResponder;

/// <summary>Queries by outcome, counted by one serving thread (plain increments) and summed at the end.</summary>
public sealed class DnsCounters
{
    readonly long[] _byOutcome = new long[Enum.GetValues<DnsOutcome>().Length];

    /// <summary>Counts one query.</summary>
    public void Add(DnsOutcome outcome) => _byOutcome[(int)outcome]++;

    /// <summary>Queries that got <paramref name="outcome"/>.</summary>
    public long this[DnsOutcome outcome] => _byOutcome[(int)outcome];

    /// <summary>Queries answered (every outcome but <see cref="DnsOutcome.Dropped"/> and <see cref="DnsOutcome.Limited"/>).</summary>
    public long Answered => _byOutcome.Sum() - this[DnsOutcome.Dropped] - this[DnsOutcome.Limited];

    /// <summary>The sum of several threads' counters.</summary>
    public static DnsCounters Sum(IEnumerable<DnsCounters> all)
    {
        var sum = new DnsCounters();
        foreach (DnsCounters counters in all)
            for (int i = 0; i < sum._byOutcome.Length; i++)
                sum._byOutcome[i] += counters._byOutcome[i];
        return sum;
    }

    /// <summary>The summary line both modes print when they stop (tests and the benchmark script read it).</summary>
    public string Summary(string mode, Stopwatch clock) =>
        $"{mode}: answered {Answered} queries in {clock.Elapsed.TotalSeconds:0.0} s: noerror={this[DnsOutcome.NoError]} nxdomain={this[DnsOutcome.NameError]} " +
        $"formerr={this[DnsOutcome.FormatError]} notimp={this[DnsOutcome.NotImplemented]} refused={this[DnsOutcome.Refused]} badvers={this[DnsOutcome.BadVersion]} dropped={this[DnsOutcome.Dropped]} limited={this[DnsOutcome.Limited]}";
}
