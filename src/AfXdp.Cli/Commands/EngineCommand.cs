using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using AfXdp.Cli.Bench;
using AfXdp.Device;
using AfXdp.Engine;
using AfXdp.Xsk;

namespace AfXdp.Cli.Commands;

/// <summary><c>afxdp engine</c>: the multi-queue engine on an interface, with a drop or reflect handler; aggregate and per-queue pps.</summary>
internal static class EngineCommand
{
    public static Command Create()
    {
        var iface = CliOptions.Interface("interface whose queues to open");
        var queues = CliOptions.Numbers<uint>("--queue", "-q", "a queue to open; repeat or list for several, e.g. -q 0 1 (default: all)", 0, 4095, "a queue id");
        var cores = CliOptions.Numbers<int>("--cores", null, "CPU per queue, in the order of --queue (default: not pinned)", 0, int.MaxValue, "a CPU number");
        var handler = CliOptions.Choice("--handler", null, "drop | reflect (swap MACs, IPv4 addresses and ports; send back)", "drop", "drop", "reflect");
        var umem = CliOptions.Choice("--umem", null, "shared | per-queue", "shared", "shared", "per-queue");
        var attach = CliOptions.Attach();
        var spin = new Option<double?>("--spin-us")
        {
            Description = "microseconds an idle worker polls before it sleeps in poll(); -1 never sleeps (default: adaptive, from the packet rate)",
            CustomParser = r =>
            {
                string text = r.Tokens.Count == 1 ? r.Tokens[0].Value : "";
                if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double us) && (us == -1 || us is >= 0 and <= 1_000_000))
                    return us;
                r.AddError($"--spin-us: '{text}' is not a number of microseconds from 0 to 1000000, or -1");
                return 0;
            },
        };
        var coalesce = CliOptions.OptionalNumber<uint>("--coalesce-us",
            "microseconds a worker woken by a packet waits for more, so that they share one wakeup and one TX kick, 0 to 10000 (default: adaptive, 0 to 64)", 0, 10_000);
        var busyPoll = new Option<bool>("--busy-poll", "-B") { Description = "preferred busy polling on every socket (SO_PREFER_BUSY_POLL, SO_BUSY_POLL 20 us, budget = batch)" };
        var batch = CliOptions.Number<uint>("--batch", "-b", "packets per handler call", 64, 1, 65536);
        var ring = CliOptions.Number<uint>("--ring", "-r", "size of all four rings of every queue (a power of two); each queue gets 2 x ring frames", 2048, 64, 65536, "a power of two", uint.IsPow2);
        var duration = CliOptions.Duration("measured seconds, from the first packet", 10, zeroRunsForever: false);
        var command = new Command("engine",
            "Run the multi-queue engine: one AF_XDP socket and one worker thread per queue. Per-second totals go to stderr; " +
            "the last line on stdout is the summary (queues=... pps=N q0_pps=N ... cpu_pct=N).")
        {
            iface, queues, cores, handler, umem, attach, spin, coalesce, busyPoll, batch, ring, duration,
        };
        XdpEngineOptions Options(ParseResult r)
        {
            double? spinUs = r.GetValue(spin);
            return new XdpEngineOptions
            {
                Interface = r.GetValue(iface)!,
                Queues = r.GetValue(queues) is { Length: > 0 } q ? q : null,
                Cores = r.GetValue(cores) is { Length: > 0 } c ? c : null,
                Umem = r.GetValue(umem) == "shared" ? UmemLayout.Shared : UmemLayout.PerQueue,
                AttachMode = Enum.Parse<XdpAttachMode>(r.GetValue(attach)!, ignoreCase: true),
                SpinTime = spinUs is not { } us ? null : us < 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromMicroseconds(us),
                Coalesce = r.GetValue(coalesce) is { } coalesceUs ? TimeSpan.FromMicroseconds(coalesceUs) : null,
                BusyPoll = r.GetValue(busyPoll) ? new BusyPollOptions(20, (int)r.GetValue(batch)) : null,
                BatchSize = r.GetValue(batch),
                RingSize = r.GetValue(ring),
                FramesPerQueue = 2 * r.GetValue(ring),
            };
        }
        command.SetAction(r =>
        {
            XdpEngineOptions options = Options(r);
            CliOptions.Validate(options.Validate);
            Console.Out.WriteLine(Run(options, r.GetRequiredValue(handler), r.GetValue(duration)));
            return 0;
        });
        return command;
    }

    static string Run(XdpEngineOptions options, string handlerName, double seconds)
    {
        using var engine = new XdpEngine(options);
        using var stop = new ManualResetEventSlim();
        using var signals = new StopSignals(stop.Set);
        engine.Start(_ => handlerName == "reflect" ? new PacketReflector() : new DropAll());
        using CancellationTokenRegistration failed = engine.WorkerFailed.Register(stop.Set);

        IReadOnlyList<XdpQueue> queues = engine.Queues;
        long Total() => queues.Sum(q => q.Counters.RxPackets);
        var clock = Stopwatch.StartNew();
        while (Total() == 0)
        {
            if (stop.Wait(10))
            {
                engine.Stop(); // throws what ended a worker
                return "interrupted before the first packet";
            }
            if (clock.Elapsed > TimeSpan.FromSeconds(30))
                throw new AfXdpException($"engine on {options.Interface}", 0, "no packet arrived within 30 s.", "send traffic to the interface.");
        }
        long[] start = queues.Select(q => q.Counters.RxPackets).ToArray();
        // The kernel counts from bind, including the start-up before the workers ran: only the window counts.
        ulong droppedBefore = DroppedByKernel(queues);
        long startTime = Stopwatch.GetTimestamp();
        TimeSpan cpu0 = ProcessCpuTime.Now();
        long last = start.Sum(), lastTime = startTime;
        while (!stop.Wait(1000))
        {
            long now = Stopwatch.GetTimestamp(), total = Total();
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[{(double)(now - startTime) / Stopwatch.Frequency,5:0.0}s] pps={(total - last) * Stopwatch.Frequency / (double)(now - lastTime):0} {string.Join(" ", queues.Select(q => $"q{q.QueueId}={q.Counters.RxPackets}"))}"));
            (last, lastTime) = (total, now);
            if (now - startTime >= seconds * Stopwatch.Frequency)
                break;
        }
        long end = Stopwatch.GetTimestamp();
        TimeSpan cpu = ProcessCpuTime.Now() - cpu0;
        engine.Stop();
        double elapsed = (double)(end - startTime) / Stopwatch.Frequency;
        long[] received = queues.Select((q, i) => q.Counters.RxPackets - start[i]).ToArray();
        return string.Create(CultureInfo.InvariantCulture,
            $"engine if={options.Interface} queues={queues.Count} handler={handlerName} umem={(options.Umem == UmemLayout.Shared ? "shared" : "per-queue")} " +
            $"secs={elapsed:0.00} pkts={received.Sum()} pps={received.Sum() / elapsed:0} {string.Join(" ", queues.Select((q, i) => FormattableString.Invariant($"q{q.QueueId}_pps={received[i] / elapsed:0}")))} " +
            $"tx={queues.Sum(q => q.Counters.TxPackets)} tx_dropped={queues.Sum(q => q.Counters.TxDropped)} wakeups={queues.Sum(q => q.Counters.Wakeups)} " +
            $"cpu_pct={100 * cpu.TotalSeconds / elapsed:0} rx_dropped={DroppedByKernel(queues) - droppedBefore}");
    }

    static ulong DroppedByKernel(IReadOnlyList<XdpQueue> queues) =>
        queues.Aggregate(0UL, (sum, q) => sum + q.Socket.Statistics.RxDropped + q.Socket.Statistics.RxRingFull);

    /// <summary>Every packet keeps the default verdict, drop: the engine's own cost.</summary>
    sealed class DropAll : IPacketHandler
    {
        public void Handle(XdpQueue queue, Span<Packet> packets)
        {
        }
    }
}
