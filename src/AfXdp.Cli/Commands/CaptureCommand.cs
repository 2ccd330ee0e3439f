using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using AfXdp.Apps;
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
        var iface = new Option<string>("--interface", "-i") { Description = "interface to capture on", Required = true };
        var file = new Option<FileInfo>("--write", "-w") { Description = "pcap file to write (nanosecond timestamps, Ethernet)", Required = true };
        var count = new Option<long>("--count", "-c") { Description = "stop after this many packets; 0 for no limit", DefaultValueFactory = _ => 0 };
        count.Validators.Add(r => { if (r.GetValueOrDefault<long>() < 0) r.AddError("--count must be 0 or more"); });
        var duration = new Option<double>("--duration", "-d") { Description = "stop after this many seconds; 0 runs until Ctrl-C (or --count)", DefaultValueFactory = _ => 0 };
        duration.Validators.Add(r => { if (r.GetValueOrDefault<double>() is < 0 or > 86400) r.AddError("--duration must be from 0 to 86400 seconds"); });
        var queue = new Option<uint>("--queue", "-q") { Description = "queue id", DefaultValueFactory = _ => 0 };
        var attach = new Option<string>("--attach", "-a") { Description = "XDP attach mode: skb | drv | auto", DefaultValueFactory = _ => "auto" };
        attach.AcceptOnlyFromAmong("skb", "drv", "auto");
        var xskmap = XskMapOption.Create();

        var command = new Command("capture",
            "Write what an AF_XDP socket on one queue receives to a pcap file that tcpdump, tshark and Wireshark read, with nanosecond timestamps; " +
            "jumbo frames larger than a UMEM frame are received as multi-buffer chains and written as one packet. " +
            "CAPTURED FRAMES ARE TAKEN AWAY FROM THE KERNEL: every frame arriving on the queue goes to the socket and never reaches the " +
            "kernel's stack (ARP, ping, TCP connections on that interface stop working while it runs). A --filter option choosing what to " +
            "take will come with the XDP steering-program generator; until then everything on the queue is captured.")
        { iface, file, count, duration, queue, attach, xskmap };
        command.SetAction(r => XskMapOption.TryGet(r, xskmap, out XskMapSource? source)
            ? Run(r.GetRequiredValue(iface), r.GetRequiredValue(file), r.GetValue(count), r.GetValue(duration), r.GetValue(queue),
                Enum.Parse<XdpAttachMode>(r.GetRequiredValue(attach), ignoreCase: true), source)
            : 2);
        return command;
    }

    static int Run(string interfaceName, FileInfo file, long count, double seconds, uint queue, XdpAttachMode mode, XskMapSource? source)
    {
        using var cancel = seconds > 0 ? new CancellationTokenSource(TimeSpan.FromSeconds(seconds)) : new CancellationTokenSource();
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; cancel.Cancel(); });
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; cancel.Cancel(); });

        NetDevice device = NetDevice.Get(interfaceName);
        using var umem = new Umem(new UmemConfig { FrameCount = Frames, FillRingSize = Frames });
        using var socket = new RxSocket(umem, device.Index, queue, new XskSocketConfig { MultiBuffer = true });
        socket.Fill.Populate(0, Frames);
        using var stream = new FileStream(file.FullName, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 1 << 16);
        using var writer = new PcapWriter(stream);
        var capture = new PcapCapture(socket.Rx, writer);
        using XskRedirectProgram? program = source is null ? XskRedirectProgram.Attach(device, mode, multiBuffer: true) : null;
        string how;
        if (program is not null)
        {
            program.Register(socket);
            how = $"{XskRedirectProgram.ProgramName} (prog id {program.Link.ProgramId}) in {program.Link.Mode.ToString().ToLowerInvariant()} mode; these frames no longer reach the kernel.";
        }
        else
        {
            using XskMap map = source!.Open(interfaceName);
            map.Register(socket);
            how = $"registered in XSKMAP id {map.Id} from {source.PathFor(interfaceName)}; the program on {interfaceName} decides what arrives.";
        }
        Console.WriteLine($"capturing {interfaceName} queue {queue} to {file.FullName}: {how} " +
            (count > 0 ? $"Stops after {count} packets" : "Stops") + (seconds > 0 ? $" or {seconds:0.###} s." : count > 0 ? " or on Ctrl-C." : " on Ctrl-C."));

        var clock = Stopwatch.StartNew();
        long limit = count > 0 ? count : long.MaxValue;
        while (capture.Packets < limit && !cancel.IsCancellationRequested)
            capture.CaptureBatch(timeoutMs: 100, limit - capture.Packets);
        writer.Flush();
        XdpStatistics statistics = socket.Statistics;
        Console.WriteLine($"wrote {capture.Packets} packets ({capture.Bytes} bytes) in {clock.Elapsed.TotalSeconds:0.0} s to {file.FullName}; " +
            $"kernel drops: rx_dropped={statistics.RxDropped} rx_ring_full={statistics.RxRingFull} rx_fill_ring_empty_descs={statistics.RxFillRingEmptyDescriptors}");
        return 0;
    }
}
