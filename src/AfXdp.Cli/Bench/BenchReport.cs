using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using AfXdp.Xsk;
using Spectre.Console;

namespace AfXdp.Cli.Bench;

/// <summary>The end-of-run figures: one line in the baseline's contract, or JSON.</summary>
internal sealed record BenchResult(BenchOptions Options, uint TxBudget, double Seconds, long RxPackets, long TxPackets, long Kicks,
    double UserPercent, double SystemPercent, double CpuPercent, XdpStatistics Statistics, long AllocatedBytes, bool ZeroCopy)
{
    /// <summary>Frames of the mode's own kind: received for rxdrop, sent (completed) otherwise.</summary>
    public long Packets => Options.Mode == BenchMode.RxDrop ? RxPackets : TxPackets;

    public double PacketsPerSecond => Seconds > 0 ? Packets / Seconds : 0;

    /// <summary>`mode=... secs=8.00 pkts=N pps=N rx=N tx=N kicks=N ...` (../shared/baseline/README.md).</summary>
    public string ToSummaryLine()
    {
        BenchOptions o = Options;
        return string.Create(CultureInfo.InvariantCulture,
            $"mode={o.ModeName} if={o.Interface} q={o.Queue} attach={o.Attach.ToString().ToLowerInvariant()} bind={(ZeroCopy ? "zc" : "copy")} " +
            $"need_wakeup={(o.NeedWakeup ? 1 : 0)} poll={(o.Poll ? 1 : 0)} busy_poll={(o.BusyPoll ? 1 : 0)} async={(o.Async ? 1 : 0)} batch={o.Batch} tx_budget={TxBudget} frame={o.FrameSize} size={o.PacketSize} " +
            $"secs={Seconds:0.00} pkts={Packets} pps={PacketsPerSecond:0} rx={RxPackets} tx={TxPackets} kicks={Kicks} " +
            $"usr_pct={UserPercent:0} sys_pct={SystemPercent:0} cpu_pct={CpuPercent:0} rx_dropped={Statistics.RxDropped} rx_ring_full={Statistics.RxRingFull} " +
            $"fill_empty={Statistics.RxFillRingEmptyDescriptors} tx_invalid={Statistics.TxInvalidDescriptors} " +
            $"rx_invalid={Statistics.RxInvalidDescriptors} tx_ring_empty={Statistics.TxRingEmptyDescriptors} alloc_bytes={AllocatedBytes}");
    }

    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false }))
        {
            BenchOptions o = Options;
            json.WriteStartObject();
            json.WriteString("mode", o.ModeName);
            json.WriteString("interface", o.Interface);
            json.WriteNumber("queue", o.Queue);
            json.WriteString("attach", o.Attach.ToString().ToLowerInvariant());
            json.WriteString("bind", ZeroCopy ? "zc" : "copy");
            json.WriteBoolean("need_wakeup", o.NeedWakeup);
            json.WriteBoolean("poll", o.Poll);
            json.WriteBoolean("busy_poll", o.BusyPoll);
            json.WriteBoolean("async", o.Async);
            json.WriteNumber("batch", o.Batch);
            json.WriteNumber("tx_budget", TxBudget);
            json.WriteNumber("frame", o.FrameSize);
            json.WriteNumber("size", o.PacketSize);
            json.WriteNumber("secs", Math.Round(Seconds, 3));
            json.WriteNumber("pkts", Packets);
            json.WriteNumber("pps", Math.Round(PacketsPerSecond));
            json.WriteNumber("rx", RxPackets);
            json.WriteNumber("tx", TxPackets);
            json.WriteNumber("kicks", Kicks);
            json.WriteNumber("usr_pct", Math.Round(UserPercent));
            json.WriteNumber("sys_pct", Math.Round(SystemPercent));
            json.WriteNumber("cpu_pct", Math.Round(CpuPercent));
            json.WriteNumber("rx_dropped", Statistics.RxDropped);
            json.WriteNumber("rx_invalid", Statistics.RxInvalidDescriptors);
            json.WriteNumber("tx_invalid", Statistics.TxInvalidDescriptors);
            json.WriteNumber("rx_ring_full", Statistics.RxRingFull);
            json.WriteNumber("fill_empty", Statistics.RxFillRingEmptyDescriptors);
            json.WriteNumber("tx_ring_empty", Statistics.TxRingEmptyDescriptors);
            json.WriteNumber("alloc_bytes", AllocatedBytes);
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}

/// <summary>
/// Once a second, off the hot thread: rates, totals, wakeups and the kernel's six counters, as a
/// live Spectre.Console table on a terminal or one plain line on stderr otherwise.
/// </summary>
internal sealed class BenchProgress : IDisposable
{
    readonly BenchEngine _engine;
    readonly string _waiting;
    readonly bool _live;
    readonly Thread _thread;
    readonly ManualResetEventSlim _done = new();

    public BenchProgress(BenchEngine engine, BenchOptions options, bool live)
    {
        _engine = engine;
        _waiting = $"waiting up to {options.FirstPacketTimeout:0.#} s (--wait) for the first packet on {options.Interface} queue {options.Queue}; the {options.Duration:0.#} s measured start with it";
        _live = live;
        _thread = new Thread(_live ? RunLive : RunPlain) { IsBackground = true, Name = "bench-progress" };
        _thread.Start();
    }

    public void Dispose()
    {
        _done.Set();
        _thread.Join();
        _done.Dispose();
    }

    /// <summary>One second's figures; <paramref name="Started"/> is false while an rx mode waits for its first packet.</summary>
    readonly record struct Sample(bool Started, double Elapsed, double RxPps, double TxPps, long Rx, long Tx, long Kicks, XdpStatistics Statistics);

    IEnumerable<Sample> Samples()
    {
        BenchCounters c = _engine.Counters;
        long lastRx = 0, lastTx = 0, lastTime = Stopwatch.GetTimestamp();
        while (!_done.Wait(1000))
        {
            long start = Volatile.Read(ref c.StartTimestamp);
            long now = Stopwatch.GetTimestamp();
            long rx = Volatile.Read(ref c.RxPackets), tx = Volatile.Read(ref c.TxPackets);
            double interval = (double)(now - lastTime) / Stopwatch.Frequency;
            yield return new Sample(start != 0, start == 0 ? 0 : (double)(now - start) / Stopwatch.Frequency,
                (rx - lastRx) / interval, (tx - lastTx) / interval, rx, tx, Volatile.Read(ref c.Kicks), _engine.Socket.Statistics);
            (lastRx, lastTx, lastTime) = (rx, tx, now);
        }
    }

    void RunPlain()
    {
        bool waitingShown = false;
        foreach (Sample s in Samples())
        {
            if (!s.Started)
            {
                // One line for the whole wait, not a line of zeros every second.
                if (!waitingShown)
                    Console.Error.WriteLine(_waiting);
                waitingShown = true;
                continue;
            }
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[{s.Elapsed,5:0.0}s] rx_pps={s.RxPps:0} tx_pps={s.TxPps:0} rx={s.Rx} tx={s.Tx} kicks={s.Kicks} " +
                $"rx_dropped={s.Statistics.RxDropped} rx_invalid={s.Statistics.RxInvalidDescriptors} tx_invalid={s.Statistics.TxInvalidDescriptors} " +
                $"rx_ring_full={s.Statistics.RxRingFull} fill_empty={s.Statistics.RxFillRingEmptyDescriptors} tx_ring_empty={s.Statistics.TxRingEmptyDescriptors}"));
        }
    }

    void RunLive()
    {
        var table = new Table().Title("afxdp bench").AddColumns("", "value");
        string[] rows = ["elapsed", "rx pps", "tx pps", "rx total", "tx total", "wakeup syscalls", "rx_dropped", "rx_invalid_descs", "tx_invalid_descs", "rx_ring_full", "fill_ring_empty", "tx_ring_empty"];
        foreach (string row in rows)
            table.AddRow(row, "-");
        AnsiConsole.Live(table).Start(context =>
        {
            foreach (Sample s in Samples())
            {
                string[] values = [s.Started ? $"{s.Elapsed:0.0} s" : _waiting, $"{s.RxPps:N0}", $"{s.TxPps:N0}", $"{s.Rx:N0}", $"{s.Tx:N0}", $"{s.Kicks:N0}",
                    $"{s.Statistics.RxDropped:N0}", $"{s.Statistics.RxInvalidDescriptors:N0}", $"{s.Statistics.TxInvalidDescriptors:N0}",
                    $"{s.Statistics.RxRingFull:N0}", $"{s.Statistics.RxFillRingEmptyDescriptors:N0}", $"{s.Statistics.TxRingEmptyDescriptors:N0}"];
                for (int i = 0; i < values.Length; i++)
                    table.UpdateCell(i, 1, values[i]);
                context.Refresh();
            }
        });
    }
}
