using System.Diagnostics;

namespace AfXdp.Cli.Bench;

/// <summary>
/// Paces txonly to a fixed rate (`afxdp bench --rate`): frames are released as time passes, about one
/// millisecond's worth at a time, and the caller sleeps in between. Never ahead of the rate; a sender
/// that woke up late catches up, in batches, on at most 100 ms of backlog.
/// </summary>
internal sealed class TxPacer
{
    readonly double _ticksPerFrame;
    readonly uint _chunk;
    readonly long _maxBacklog;
    long _start;
    long _released;

    /// <summary>A pacer for <paramref name="framesPerSecond"/>, releasing at most <paramref name="batch"/> frames at once.</summary>
    public TxPacer(double framesPerSecond, uint batch)
    {
        _ticksPerFrame = Stopwatch.Frequency / framesPerSecond;
        // About 1 ms of frames per release (Thread.Sleep's granularity), so a slow rate sleeps between releases.
        _chunk = (uint)Math.Clamp(framesPerSecond / 1000, 1, batch);
        _maxBacklog = Math.Max(batch, (long)(framesPerSecond / 10));
    }

    /// <summary>How many of up to <paramref name="max"/> frames may go now (counted as sent); 0 after a short wait when none may.</summary>
    public uint Take(uint max)
    {
        long now = Stopwatch.GetTimestamp();
        if (_start == 0)
            _start = now;
        long elapsed = now - _start;
        long due = (long)(elapsed / _ticksPerFrame) - _released;
        if (due < Math.Min(_chunk, max))
        {
            double untilChunk = (_released + _chunk) * _ticksPerFrame - elapsed;
            // Sleep (about 1.1 ms) only when the next chunk is at least half that away; the rate follows the clock either way.
            if (untilChunk >= Stopwatch.Frequency / 2000)
                Thread.Sleep(1);
            else
                Thread.Yield();
            return 0;
        }
        if (due > _maxBacklog)
            _released += due - _maxBacklog; // catch up after a late wake-up (a busy machine), but not after a long stall
        uint take = (uint)Math.Min(due, max);
        _released += take;
        return take;
    }
}
