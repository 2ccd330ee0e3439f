using System.CommandLine;
using System.Diagnostics;
using AfXdp.Cli.Apps;
using AfXdp.Bpf;
using AfXdp.Device;
using AfXdp.DevicePlugin;
using AfXdp.Net;
using AfXdp.Xsk;

namespace AfXdp.Cli.Commands;

/// <summary><c>afxdp capture</c>: what an AF_XDP socket receives, to a pcap file (<see cref="PcapCapture"/>).</summary>
internal static class CaptureCommand
{
    const uint Frames = 4096;

    public static Command Create()
    {
        var iface = CliOptions.Interface("interface to capture on");
        var file = CliOptions.OutputFile("--write", "-w",
            "pcap file to write (nanosecond timestamps, Ethernet), mode 0600, written beside it and renamed onto it when the capture ends (also on Ctrl-C); " +
            "- writes to standard output (for `tshark -r -`, `tcpdump -r -`) and the command's own lines to stderr");
        var count = CliOptions.Count("stop after this many packets; 0 for no limit", 0, 0, long.MaxValue);
        var duration = CliOptions.Duration("stop after this many seconds; 0 runs until Ctrl-C (or --count)", 0, zeroRunsForever: true);
        var queue = CliOptions.Queue();
        var attach = CliOptions.Attach();
        var filter = CliOptions.Filter();
        var xskmap = XskMapOption.Create();

        var command = new Command("capture",
            "Write what an AF_XDP socket on one queue receives to a pcap file that tcpdump, tshark and Wireshark read, with nanosecond timestamps; " +
            "jumbo frames larger than a UMEM frame are received as multi-buffer chains and written as one packet. " +
            "CAPTURED FRAMES ARE TAKEN AWAY FROM THE KERNEL: every frame the program steers to the socket never reaches the kernel's stack " +
            "(without --filter that is everything on the queue: ARP, ping and TCP connections on that interface stop working while it runs). " +
            "--filter takes only matching frames and leaves the rest to the kernel; with --xskmap the program already on the interface decides.")
        { iface, file, count, duration, queue, attach, filter, xskmap };
        command.SetAction(r =>
        {
            XskMapSource? source = r.GetValue(xskmap);
            PacketFilter? steering = r.GetValue(filter);
            if (source is not null && steering is not null)
                throw XskMapOption.Conflict("--filter", "the steering program is one we would load, and with --xskmap the device plugin's program decides what reaches the socket.");
            return Run(r.GetRequiredValue(iface), r.GetRequiredValue(file), r.GetValue(count), r.GetValue(duration), r.GetValue(queue),
                Enum.Parse<XdpAttachMode>(r.GetRequiredValue(attach), ignoreCase: true), steering, source);
        });
        return command;
    }

    static int Run(string interfaceName, string path, long count, double seconds, uint queue, XdpAttachMode mode, PacketFilter? filter, XskMapSource? source)
    {
        using var cancel = seconds > 0 ? new CancellationTokenSource(TimeSpan.FromSeconds(seconds)) : new CancellationTokenSource();
        using var signals = new StopSignals(cancel.Cancel);

        NetDevice device = NetDevice.Get(interfaceName);
        using var umem = new Umem(new UmemOptions { FrameCount = Frames, FillRingSize = Frames });
        using var socket = new RxSocket(umem, device.Index, queue, new XskSocketOptions { MultiBuffer = true });
        socket.Fill.Populate(0, Frames);
        // The output once the socket is up, so that a bad interface or queue leaves no file and touches none;
        // before the program, so that an output that cannot be written fails before anything is attached.
        using var output = PcapFile.Create(path);
        TextWriter log = output.IsStandardOutput ? Console.Error : Console.Out;
        var capture = new PcapCapture(socket.Rx, output.Writer);
        using XskRedirectProgram? program = source is null ? XskRedirectProgram.Attach(device, mode, filter: filter, multiBuffer: true) : null;
        string how;
        if (program is not null)
        {
            program.Register(socket);
            how = $"{program.Program.Name}{(filter is null ? "" : $" for \"{filter}\"")} (prog id {program.Link.ProgramId}) in {program.Link.Mode.ToString().ToLowerInvariant()} mode; " +
                $"{(filter is null ? "these frames" : "matching frames")} no longer reach the kernel.";
        }
        else
        {
            using XskMap map = source!.Open(interfaceName);
            map.Register(socket);
            how = $"registered in XSKMAP id {map.Id} from {source.PathFor(interfaceName)}; the program on {interfaceName} decides what arrives.";
        }
        log.WriteLine($"capturing {interfaceName} queue {queue} to {output.Name}: {how} " +
            (count, seconds) switch
            {
                ( > 0, > 0) => $"Stops after {count} packets or {seconds:0.###} s.",
                ( > 0, _) => $"Stops after {count} packets or on Ctrl-C.",
                (_, > 0) => $"Stops after {seconds:0.###} s.",
                _ => "Stops on Ctrl-C.",
            });

        var clock = Stopwatch.StartNew();
        long limit = count > 0 ? count : long.MaxValue;
        var liveness = new XskLiveness(socket, program?.Link);
        try
        {
            while (capture.Packets < limit && !cancel.IsCancellationRequested)
            {
                if (capture.CaptureBatch(timeoutMs: 100, limit - capture.Packets) > 0)
                    output.Commit(capture.Packets);
                liveness.Check();
            }
        }
        catch (IOException e)
        {
            throw output.Failed(e);
        }
        finally
        {
            output.Complete();
        }
        XdpStatistics statistics = socket.Statistics;
        log.WriteLine($"wrote {capture.Packets} packets ({capture.Bytes} bytes) in {clock.Elapsed.TotalSeconds:0.0} s to {output.Name}; " +
            $"kernel drops: rx_dropped={statistics.RxDropped} rx_ring_full={statistics.RxRingFull} rx_fill_ring_empty_descs={statistics.RxFillRingEmptyDescriptors}" +
            (program?.Filter is null ? "" : $"; steering: {program.ReadCounters()}"));
        return 0;
    }
}
