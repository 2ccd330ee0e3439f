namespace AfXdp.Engine;

/// <summary>
/// How long an idle worker spins and how long it coalesces, when its options leave it to choose (a null
/// <see cref="XdpEngineOptions.SpinTime"/> or <see cref="XdpEngineOptions.Coalesce"/>): software interrupt
/// moderation in the manner of the kernel's net_dim (lib/dim/net_dim.c), which tunes a NIC's rx-usecs from
/// what it measures. Pure logic: the worker reports each sleep (<see cref="Record"/>: the time and the packets
/// it took since the previous one) and each coalescing window it slept after a wakeup (<see cref="RecordWindow"/>:
/// a second wakeup), and reads <see cref="SpinTicks"/> and <see cref="CoalesceNanoseconds"/>.
/// <list type="bullet">
/// <item>Every <see cref="SampleCycles"/> sleeps (net_dim's DIM_NEVENTS) it closes a sample: packets per wakeup
/// and packets per second.</item>
/// <item>Coalescing chooses among five windows (<see cref="CoalesceLevelsNs"/>, five levels like net_dim's
/// profiles) by trying each for one sample, narrowest first, and keeps a wider one only where it brings
/// <see cref="SignificantPercent"/> % more packets per wakeup (net_dim's test) than the best narrower one for
/// each <see cref="SignificantStepNs"/> it adds: a window costs every packet latency, so the wider, the more
/// wakeups it must save. It tries them all, where net_dim steps to the next profile and stops at the first that
/// does no better: packets per wakeup over window widths has more than one top (at 20k packets a second a 64 µs
/// window catches a packet or two in each timed sleep, 8-32 µs fewer, no window the most), and a step search that
/// came down from a wide window stayed there (64 µs at 20k after a full-rate pass: 84 µs latency against Knot's
/// 50, docs/dns-cpu.md). It then parks, and tries again when the rate moves by more than
/// <see cref="RateChangePercent"/> % for two samples in a row (or spinning ends).</item>
/// <item>At a trickle (a mean gap over <see cref="QuietGapNs"/>, four times the widest window) no window brings a
/// second packet: the window closes, no search runs, and the worker sleeps at once. A search there would only try
/// windows that each cost a wakeup (every sample at 2k packets a second moves by more than
/// <see cref="RateChangePercent"/> % when the arrivals are random).</item>
/// <item>At a high rate (packets closer than <see cref="SpinBelowGapNs"/>, about what a sleep and a wakeup
/// cost in CPU) the worker spins for <see cref="SpinGaps"/> mean gaps before it sleeps and does not coalesce:
/// the next packet is due before a sleep would pay for itself. It stops spinning when the gap grows past
/// twice that.</item>
/// </list>
/// A fixed spin time or coalescing window (the options set) overrides its half of the decision.
/// </summary>
internal sealed class AdaptiveWait
{
    /// <summary>Coalescing windows, ns: zero, then doubling up to 64 µs, the latency the service may add at most.</summary>
    internal static readonly long[] CoalesceLevelsNs = [0, 8_000, 16_000, 32_000, 64_000];

    /// <summary>Sleeps per sample (DIM_NEVENTS, include/linux/dim.h).</summary>
    internal const int SampleCycles = 64;

    /// <summary>A wider window must bring this many percent more packets per wakeup than the best narrower one (IS_SIGNIFICANT_DIFF in include/linux/dim.h: 10) for each <see cref="SignificantStepNs"/> it adds.</summary>
    internal const int SignificantPercent = 10;

    /// <summary>The width a window must pay <see cref="SignificantPercent"/> % more packets per wakeup for: the narrowest window.</summary>
    internal const long SignificantStepNs = 8_000;

    /// <summary>A parked search starts again when the packet rate moves by more than this.</summary>
    internal const int RateChangePercent = 25;

    /// <summary>Mean gap between packets under which the worker spins: a poll(2) sleep and wakeup costs about 5 µs of CPU on the machines measured (docs/dns-cpu.md).</summary>
    internal const long SpinBelowGapNs = 5_000;

    /// <summary>Mean gaps the worker spins for at a high rate before it sleeps.</summary>
    internal const int SpinGaps = 4;

    /// <summary>Mean gap between packets over which no window is tried: four times the widest one (64 µs).</summary>
    internal const long QuietGapNs = 256_000;

    enum Search { Parked, Scan }

    readonly double _ticksPerNanosecond;
    readonly long? _fixedSpinTicks;
    readonly long? _fixedCoalesceNs;
    Search _search = Search.Parked;
    int _level;
    int _best;
    double _bestPerWakeup;
    double _scanRateSum;
    int _moved;
    double _parkedRate;
    long _sampleStart;
    int _cycles;
    int _windows;
    long _packets;
    bool _spinning;
    double _spinGapNs;

    /// <param name="ticksPerSecond">Units of the times given to <see cref="Record"/> (<see cref="System.Diagnostics.Stopwatch.Frequency"/>).</param>
    /// <param name="now">The start of the first sample.</param>
    /// <param name="spinTime">A fixed spin time (<see cref="Timeout.InfiniteTimeSpan"/>: forever), or null to choose.</param>
    /// <param name="coalesce">A fixed coalescing window, or null to choose.</param>
    internal AdaptiveWait(long ticksPerSecond, long now, TimeSpan? spinTime, TimeSpan? coalesce)
    {
        _ticksPerNanosecond = ticksPerSecond / 1e9;
        _fixedSpinTicks = spinTime is not { } spin ? null : spin == Timeout.InfiniteTimeSpan ? long.MaxValue : (long)(spin.TotalSeconds * ticksPerSecond);
        _fixedCoalesceNs = coalesce is { } c ? (long)c.TotalNanoseconds : null;
        _sampleStart = now;
    }

    /// <summary>How long the worker keeps polling its rings before it sleeps, in ticks; <see cref="long.MaxValue"/> for ever.</summary>
    internal long SpinTicks => _fixedSpinTicks ?? (_spinning ? (long)(_spinGapNs * SpinGaps * _ticksPerNanosecond) : 0);

    /// <summary>How long the worker sleeps to let frames gather (after a wakeup, and between batches while they flow), ns; 0: not at all.</summary>
    internal long CoalesceNanoseconds => _fixedCoalesceNs ?? (_spinning ? 0 : CoalesceLevelsNs[_level]);

    /// <summary>The rung of <see cref="CoalesceLevelsNs"/> the search stands on (for tests and metrics).</summary>
    internal int Level => _level;

    /// <summary>
    /// The worker, woken by a packet, slept <see cref="CoalesceNanoseconds"/> more to let others gather: that is a
    /// second wakeup, and the window must buy it back in packets.
    /// </summary>
    internal void RecordWindow() => _windows++;

    /// <summary>The worker goes to sleep at <paramref name="now"/>, having taken <paramref name="packets"/> since it last did.</summary>
    internal void Record(long now, uint packets)
    {
        _packets += packets;
        if (++_cycles < SampleCycles)
            return;
        double elapsedNs = Math.Max(1, now - _sampleStart) / _ticksPerNanosecond;
        double perWakeup = (double)_packets / (_cycles + _windows);
        double rate = _packets * 1e9 / elapsedNs;
        double gapNs = _packets == 0 ? double.PositiveInfinity : elapsedNs / _packets;
        (_sampleStart, _cycles, _windows, _packets) = (now, 0, 0, 0);
        // Hysteresis: spinning, the worker sleeps only at pauses, which stretch the mean gap it sees.
        bool wasSpinning = _spinning;
        _spinning = gapNs < (_spinning ? 2 * SpinBelowGapNs : SpinBelowGapNs);
        _spinGapNs = _spinning ? gapNs : 0;
        // Spinning, the worker sleeps only at pauses: its wakeups say nothing about a coalescing window.
        if (_spinning)
            return;
        if (gapNs > QuietGapNs)
        {
            // A trickle: no window, no search; a rise in rate from here starts one.
            _level = 0;
            Park(rate);
            return;
        }
        if (wasSpinning)
            StartScan();
        else
            Tune(perWakeup, rate);
    }

    void Tune(double perWakeup, double rate)
    {
        if (_search == Search.Parked)
        {
            // Two samples in a row off the parked rate, the same way: one is not enough, as random arrivals move a
            // sample of 64 sleeps by more than RateChangePercent now and then, and each scan tries four windows.
            int moved = !Differs(rate, _parkedRate, RateChangePercent) ? 0 : rate > _parkedRate ? 1 : -1;
            if (moved != 0 && moved == _moved)
                StartScan();
            else if (moved == 0)
                _parkedRate += (rate - _parkedRate) / 4; // follow slow drift, so that only a real change starts a scan
            _moved = moved;
            return;
        }
        // Scanning: this sample ran at _level. A wider window must beat the best narrower one by 10 % per 8 µs it adds.
        double required = 100 + SignificantPercent * (CoalesceLevelsNs[_level] - CoalesceLevelsNs[_best]) / (double)SignificantStepNs;
        if (_level == 0 || perWakeup * 100 > _bestPerWakeup * required)
            (_best, _bestPerWakeup) = (_level, perWakeup);
        _scanRateSum += rate;
        if (_level < CoalesceLevelsNs.Length - 1)
            _level++;
        else
        {
            // The rate the scan saw, over all its samples: one sample of 64 sleeps at no window is too few packets
            // to stand for it (random arrivals move it by more than RateChangePercent now and then).
            _level = _best;
            Park(_scanRateSum / CoalesceLevelsNs.Length);
        }
    }

    /// <summary>A new rate: the next samples try each window in turn, from none (a sample from before the change would mislead).</summary>
    void StartScan() => (_search, _level, _scanRateSum, _moved) = (Search.Scan, 0, 0, 0);

    void Park(double rate) => (_search, _parkedRate) = (Search.Parked, rate);

    static bool Differs(double value, double reference, int percent) =>
        Math.Abs(value - reference) * 100 > reference * percent || (reference == 0 && value != 0);
}
