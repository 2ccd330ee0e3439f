using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using AfXdp.Cli.Bench;
using AfXdp.Device;
using AfXdp.DevicePlugin;
using AfXdp.Net;
using AfXdp.Xsk;

namespace AfXdp.Cli.Commands;

/// <summary><c>afxdp bench</c>: rxdrop / txonly / l2fwd, with the kernel xdpsock sample's option letters.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var iface = CliOptions.Interface("interface to bind");
        var mode = CliOptions.Choice("--mode", "-m", "rxdrop | txonly | l2fwd", "rxdrop", "rxdrop", "txonly", "l2fwd");
        var queue = CliOptions.Queue();
        var attach = CliOptions.Attach();
        var bind = CliOptions.Choice("--bind", "-c", "AF_XDP bind mode: copy | zc | auto", "auto", "copy", "zc", "auto");
        var batch = CliOptions.Number<uint>("--batch", "-b", "descriptors per ring operation (1-1024)", 64, 1, 1024);
        var ring = CliOptions.Number<uint>("--ring", "-r", "size of all four rings (a power of two)", 2048, 64, 65536, "a power of two", uint.IsPow2);
        var frame = CliOptions.Number<uint>("--frame-size", "-f", "UMEM frame size (2048 or 4096; others with -u)", 4096, 2048, 65536);
        var size = CliOptions.Number<int>("--size", "-s", "txonly frame length in bytes (42 to the frame size minus 256)", 64, 42, 65536);
        var noWakeup = new Option<bool>("--no-need-wakeup", "-W") { Description = "do not use XDP_USE_NEED_WAKEUP (kick TX on every batch)" };
        var poll = new Option<bool>("--poll", "-p") { Description = "poll() when idle instead of spinning" };
        var busyPoll = new Option<bool>("--busy-poll", "-B") { Description = "preferred busy polling (SO_PREFER_BUSY_POLL, SO_BUSY_POLL 20 us, budget = batch)" };
        var awaiting = new Option<bool>("--async") { Description = "rxdrop: await batches (XskAsyncReceiver: spin 50 us, then sleep in epoll) instead of spinning; alloc_bytes then counts what the receive loop allocated on the pool threads it ran on, from the first packet" };
        var duration = CliOptions.Duration("measured seconds (rx modes start the clock at the first packet and wait for it as long, see --wait)", 10, zeroRunsForever: false);
        var wait = new Option<double?>("--wait")
        {
            Description = "rx modes: seconds to wait for the first packet before giving up with exit code 1 (default: the duration)",
            CustomParser = r => CliOptions.Seconds(r, "--wait", zeroAllowed: false),
        };
        var rate = new Option<double?>("--rate")
        {
            Description = "txonly: pace to this many frames per second (default: as fast as possible)",
            CustomParser = r =>
            {
                string text = r.Tokens.Single().Value;
                if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double pps) && pps is >= 1 and <= 100_000_000)
                    return pps;
                r.AddError($"--rate: '{text}' is not a rate from 1 to 100000000 frames per second");
                return null;
            },
        };
        var noRx = new Option<bool>("--no-rx", "-R") { Description = "txonly: no RX ring and no XDP program" };
        var unaligned = new Option<bool>("--unaligned", "-u") { Description = "unaligned chunk mode (XDP_UMEM_UNALIGNED_CHUNK_FLAG)" };
        var smac = CliOptions.Mac("--smac", "txonly source MAC (default: the interface's)");
        var dmac = CliOptions.Mac("--dmac", "txonly destination MAC (default ff:ff:ff:ff:ff:ff)");
        var sip = CliOptions.Ipv4("--sip", "txonly source IPv4", "10.77.0.1");
        var dip = CliOptions.Ipv4("--dip", "txonly destination IPv4", "10.77.0.2");
        var sport = CliOptions.Number<ushort>("--sport", null, "txonly UDP source port", 9, 0, ushort.MaxValue, "a port");
        var dport = CliOptions.Number<ushort>("--dport", null, "txonly UDP destination port", 9, 0, ushort.MaxValue, "a port");
        var txBudget = CliOptions.OptionalNumber<uint>("--tx-budget", "frames one TX wakeup may send (XDP_MAX_TX_SKB_BUDGET, 32 to the ring size; default: the ring size on Linux 6.17+, else 32)", 32, 65536);
        var sndbuf = CliOptions.OptionalNumber<int>("--sndbuf", "socket send buffer in bytes (SO_SNDBUFFORCE; default: net.core.wmem_default)", 0, int.MaxValue);
        var json = new Option<bool>("--json") { Description = "print the summary as one JSON object" };
        var filter = CliOptions.Filter();
        var xskmap = XskMapOption.Create();

        var command = new Command("bench",
            "AF_XDP throughput like the kernel's xdpsock: rxdrop (receive, recycle), txonly (send a prebuilt UDP frame), l2fwd (swap MACs, send back). " +
            "Per-second figures go to a live table on a terminal, else to stderr; the last line on stdout is the summary (mode=... pps=N ...).")
        {
            iface, mode, queue, attach, bind, batch, ring, frame, size, noWakeup, poll, busyPoll, awaiting, duration, wait, rate, noRx, unaligned,
            smac, dmac, sip, dip, sport, dport, txBudget, sndbuf, filter, xskmap, json,
        };
        command.SetAction(r =>
        {
            PhaseReport.Write("started");
            int length = r.GetValue(size);
            uint frameSize = r.GetValue(frame);
            // The UMEM's own rules (frame size 2048 or 4096 unless unaligned), checked before anything is created.
            CliOptions.Validate(() => new UmemOptions { FrameCount = 2 * r.GetValue(ring), FrameSize = frameSize, UnalignedChunks = r.GetValue(unaligned) }.Validate());
            if (length > frameSize - UmemOptions.KernelHeadroom)
                throw new UsageException($"--size: '{length}' is not a frame length from 42 (Ethernet + IPv4 + UDP headers) to {frameSize - UmemOptions.KernelHeadroom} (the frame size minus the kernel's headroom)");
            if (r.GetValue(awaiting) && r.GetValue(mode) != "rxdrop")
                throw new UsageException($"--async: only with -m rxdrop, not -m {r.GetValue(mode)}");
            if (r.GetValue(rate) is not null && r.GetValue(mode) != "txonly")
                throw new UsageException($"--rate: only with -m txonly, not -m {r.GetValue(mode)}");
            XskMapSource? source = r.GetValue(xskmap);
            if (source is not null && r.GetValue(filter) is not null)
                throw XskMapOption.Conflict("--filter", "the steering program is one we would load, and with --xskmap the device plugin's program decides what reaches the socket.");
            if (source is not null && r.GetValue(noRx))
                throw XskMapOption.Conflict("--no-rx", "a socket without an RX ring has nothing to register in the XSKMAP.");
            var options = new BenchOptions
            {
                XskMap = source,
                Interface = r.GetRequiredValue(iface),
                Mode = Enum.Parse<BenchMode>(r.GetRequiredValue(mode), ignoreCase: true),
                Queue = r.GetValue(queue),
                Attach = Enum.Parse<XdpAttachMode>(r.GetRequiredValue(attach), ignoreCase: true),
                Filter = r.GetValue(filter),
                Bind = r.GetRequiredValue(bind) switch { "copy" => XdpBindMode.Copy, "zc" => XdpBindMode.ZeroCopy, _ => XdpBindMode.Auto },
                Batch = r.GetValue(batch),
                Ring = r.GetValue(ring),
                FrameSize = r.GetValue(frame),
                PacketSize = r.GetValue(size),
                NeedWakeup = !r.GetValue(noWakeup),
                TxBudget = r.GetValue(txBudget),
                SendBuffer = r.GetValue(sndbuf),
                Poll = r.GetValue(poll),
                BusyPoll = r.GetValue(busyPoll),
                Async = r.GetValue(awaiting),
                Duration = r.GetValue(duration),
                Wait = r.GetValue(wait),
                Rate = r.GetValue(rate),
                NoRx = r.GetValue(noRx),
                Unaligned = r.GetValue(unaligned),
                SourceMac = r.GetValue(smac),
                DestinationMac = r.GetValue(dmac) ?? MacAddress.Broadcast,
                SourceIp = r.GetValue(sip)!,
                DestinationIp = r.GetValue(dip)!,
                SourcePort = r.GetValue(sport),
                DestinationPort = r.GetValue(dport),
            };
            BenchResult result = Run(options);
            Console.Out.WriteLine(r.GetValue(json) ? result.ToJson() : result.ToSummaryLine());
            return 0;
        });
        return command;
    }

    /// <summary>Sets up, runs until the duration or Ctrl-C/SIGTERM, and tears down.</summary>
    public static BenchResult Run(BenchOptions options)
    {
        using var engine = new BenchEngine(options);
        using var signals = new StopSignals(engine.Stop);
        if (engine.XskMapId is uint mapId)
            Console.Error.WriteLine($"registered queue {options.Queue} in XSKMAP id {mapId} from {options.XskMap!.PathFor(options.Interface)}; the program on {options.Interface} is left as it is");
        Process self = Process.GetCurrentProcess();
        TimeSpan user0 = self.UserProcessorTime, system0 = self.PrivilegedProcessorTime, cpu0 = ProcessCpuTime.Now();
        long started = Stopwatch.GetTimestamp();
        using (new BenchProgress(engine, options, live: !Console.IsOutputRedirected && !Console.IsErrorRedirected))
            engine.Run();
        if (engine.Program?.Filter is { } steering)
            Console.Error.WriteLine($"steering \"{steering}\": {engine.Program.ReadCounters()}");
        long ended = Stopwatch.GetTimestamp();
        TimeSpan cpu = ProcessCpuTime.Now() - cpu0;
        self.Refresh();
        double wall = (double)(ended - started) / Stopwatch.Frequency;
        long start = engine.Counters.StartTimestamp;
        double seconds = start == 0 ? 0 : (double)(ended - start) / Stopwatch.Frequency;
        return new BenchResult(options, engine.Socket.Options.TxBudget == 0 ? 32 : engine.Socket.Options.TxBudget, seconds, engine.Counters.RxPackets, engine.Counters.TxPackets, engine.Counters.Kicks,
            100 * (self.UserProcessorTime - user0).TotalSeconds / wall, 100 * (self.PrivilegedProcessorTime - system0).TotalSeconds / wall, 100 * cpu.TotalSeconds / wall,
            engine.Socket.Statistics, engine.AllocatedBytes, engine.Socket.IsZeroCopy);
    }
}
