using System.CommandLine;
using System.CommandLine.Parsing;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
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
        var iface = new Option<string>("--interface", "-i") { Description = "interface to bind", Required = true };
        var mode = new Option<string>("--mode", "-m") { Description = "rxdrop | txonly | l2fwd", DefaultValueFactory = _ => "rxdrop" };
        mode.AcceptOnlyFromAmong("rxdrop", "txonly", "l2fwd");
        var queue = new Option<uint>("--queue", "-q") { Description = "queue id", DefaultValueFactory = _ => 0 };
        var attach = new Option<string>("--attach", "-a") { Description = "XDP attach mode: skb | drv | auto", DefaultValueFactory = _ => "auto" };
        attach.AcceptOnlyFromAmong("skb", "drv", "auto");
        var bind = new Option<string>("--bind", "-c") { Description = "AF_XDP bind mode: copy | zc | auto", DefaultValueFactory = _ => "auto" };
        bind.AcceptOnlyFromAmong("copy", "zc", "auto");
        var batch = new Option<uint>("--batch", "-b") { Description = "descriptors per ring operation (1-1024)", DefaultValueFactory = _ => 64 };
        batch.Validators.Add(r => Check(r, r.GetValueOrDefault<uint>() is >= 1 and <= 1024, "--batch must be from 1 to 1024"));
        var ring = new Option<uint>("--ring", "-r") { Description = "size of all four rings (a power of two)", DefaultValueFactory = _ => 2048 };
        ring.Validators.Add(r => Check(r, r.GetValueOrDefault<uint>() is var v && v >= 64 && (v & (v - 1)) == 0 && v <= 1 << 16, "--ring must be a power of two from 64 to 65536"));
        var frame = new Option<uint>("--frame-size", "-f") { Description = "UMEM frame size (2048 or 4096; others with -u)", DefaultValueFactory = _ => 4096 };
        var size = new Option<int>("--size", "-s") { Description = "txonly frame length in bytes (42 to the frame size)", DefaultValueFactory = _ => 64 };
        var noWakeup = new Option<bool>("--no-need-wakeup", "-W") { Description = "do not use XDP_USE_NEED_WAKEUP (kick TX on every batch)" };
        var poll = new Option<bool>("--poll", "-p") { Description = "poll() when idle instead of spinning" };
        var busyPoll = new Option<bool>("--busy-poll", "-B") { Description = "preferred busy polling (SO_PREFER_BUSY_POLL, SO_BUSY_POLL 20 us, budget = batch)" };
        var awaiting = new Option<bool>("--async") { Description = "rxdrop: await batches (XskAsyncReceiver: spin 50 us, then sleep in epoll) instead of spinning; alloc_bytes then counts the whole process" };
        var duration = new Option<double>("--duration", "-d") { Description = "measured seconds (rx modes start the clock at the first packet)", DefaultValueFactory = _ => 10 };
        duration.Validators.Add(r => Check(r, r.GetValueOrDefault<double>() is > 0 and <= 86400, "--duration must be from 0 to 86400 seconds"));
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
        var smac = MacOption("--smac", "txonly source MAC (default: the interface's)");
        var dmac = MacOption("--dmac", "txonly destination MAC (default ff:ff:ff:ff:ff:ff)");
        var sip = IpOption("--sip", "txonly source IPv4", "10.77.0.1");
        var dip = IpOption("--dip", "txonly destination IPv4", "10.77.0.2");
        var sport = new Option<ushort>("--sport") { Description = "txonly UDP source port", DefaultValueFactory = _ => 9 };
        var dport = new Option<ushort>("--dport") { Description = "txonly UDP destination port", DefaultValueFactory = _ => 9 };
        var txBudget = new Option<uint?>("--tx-budget") { Description = "frames one TX wakeup may send (XDP_MAX_TX_SKB_BUDGET, 32 to the ring size; default: the ring size on Linux 6.17+, else 32)" };
        var sndbuf = new Option<int?>("--sndbuf") { Description = "socket send buffer in bytes (SO_SNDBUFFORCE; default: net.core.wmem_default)" };
        var json = new Option<bool>("--json") { Description = "print the summary as one JSON object" };
        var filter = FilterOption.Create();
        var xskmap = XskMapOption.Create();

        var command = new Command("bench",
            "AF_XDP throughput like the kernel's xdpsock: rxdrop (receive, recycle), txonly (send a prebuilt UDP frame), l2fwd (swap MACs, send back). " +
            "Per-second figures go to a live table on a terminal, else to stderr; the last line on stdout is the summary (mode=... pps=N ...).")
        {
            iface, mode, queue, attach, bind, batch, ring, frame, size, noWakeup, poll, busyPoll, awaiting, duration, rate, noRx, unaligned,
            smac, dmac, sip, dip, sport, dport, txBudget, sndbuf, filter, xskmap, json,
        };
        command.SetAction(r =>
        {
            int length = r.GetValue(size);
            uint frameSize = r.GetValue(frame);
            if (length < 42 || length > frameSize - UmemConfig.KernelHeadroom)
            {
                Console.Error.WriteLine($"--size {length}: must be from 42 (Ethernet + IPv4 + UDP headers) to {frameSize - UmemConfig.KernelHeadroom} (frame size minus the kernel's headroom)");
                return 1;
            }
            if (r.GetValue(awaiting) && r.GetRequiredValue(mode) != "rxdrop")
            {
                Console.Error.WriteLine("--async: only with -m rxdrop");
                return 1;
            }
            if (r.GetValue(rate) is not null && r.GetRequiredValue(mode) != "txonly")
            {
                Console.Error.WriteLine("--rate: only with -m txonly");
                return 1;
            }
            if (!XskMapOption.TryGet(r, xskmap, out XskMapSource? source))
                return 2;
            if (source is not null && r.GetValue(filter) is not null)
                return XskMapOption.Conflict("--filter", "the steering program is one we would load, and with --xskmap the device plugin's program decides what reaches the socket.");
            if (source is not null && r.GetValue(noRx))
                return XskMapOption.Conflict("--no-rx", "a socket without an RX ring has nothing to register in the XSKMAP.");
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
                Rate = r.GetValue(rate),
                NoRx = r.GetValue(noRx),
                Unaligned = r.GetValue(unaligned),
                SourceMac = r.GetValue(smac),
                DestinationMac = r.GetValue(dmac) ?? MacAddress.Broadcast,
                SourceIp = r.GetRequiredValue(sip),
                DestinationIp = r.GetRequiredValue(dip),
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
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; engine.Stop(); });
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; engine.Stop(); });
        if (engine.XskMapId is uint mapId)
            Console.Error.WriteLine($"registered queue {options.Queue} in XSKMAP id {mapId} from {options.XskMap!.PathFor(options.Interface)}; the program on {options.Interface} is left as it is");
        Process self = Process.GetCurrentProcess();
        TimeSpan user0 = self.UserProcessorTime, system0 = self.PrivilegedProcessorTime, cpu0 = ProcessCpuTime.Now();
        long started = Stopwatch.GetTimestamp();
        using (new BenchProgress(engine, live: !Console.IsOutputRedirected && !Console.IsErrorRedirected))
            engine.Run();
        if (engine.Program?.Filter is { } steering)
            Console.Error.WriteLine($"steering \"{steering}\": {engine.Program.ReadCounters()}");
        long ended = Stopwatch.GetTimestamp();
        TimeSpan cpu = ProcessCpuTime.Now() - cpu0;
        self.Refresh();
        double wall = (double)(ended - started) / Stopwatch.Frequency;
        long start = engine.Counters.StartTimestamp;
        double seconds = start == 0 ? 0 : (double)(ended - start) / Stopwatch.Frequency;
        return new BenchResult(options, engine.Socket.Config.TxBudget == 0 ? 32 : engine.Socket.Config.TxBudget, seconds, engine.Counters.RxPackets, engine.Counters.TxPackets, engine.Counters.Kicks,
            100 * (self.UserProcessorTime - user0).TotalSeconds / wall, 100 * (self.PrivilegedProcessorTime - system0).TotalSeconds / wall, 100 * cpu.TotalSeconds / wall,
            engine.Socket.Statistics, engine.AllocatedBytes, engine.Socket.IsZeroCopy);
    }

    static void Check(OptionResult result, bool valid, string message)
    {
        if (!valid)
            result.AddError(message);
    }

    static Option<MacAddress?> MacOption(string name, string description) => new(name)
    {
        Description = description,
        CustomParser = r =>
        {
            string text = r.Tokens.Single().Value;
            if (MacAddress.TryParse(text, out MacAddress mac))
                return mac;
            r.AddError($"{name}: '{text}' is not a MAC address (like 02:00:00:00:0b:01)");
            return null;
        },
    };

    static Option<IPAddress> IpOption(string name, string description, string fallback) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => IPAddress.Parse(fallback),
        CustomParser = r =>
        {
            string text = r.Tokens.Single().Value;
            if (IPAddress.TryParse(text, out IPAddress? ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
                return ip;
            r.AddError($"{name}: '{text}' is not an IPv4 address");
            return IPAddress.None;
        },
    };
}
