using System.CommandLine;
using System.Diagnostics;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using AfXdp.Apps;
using AfXdp.Bpf;
using AfXdp.Device;
using AfXdp.DevicePlugin;
using AfXdp.Xsk;

namespace AfXdp.Cli.Commands;

/// <summary><c>afxdp echo</c>: answer ARP, ping and UDP echo for an address over AF_XDP (<see cref="EchoResponder"/>).</summary>
internal static class EchoCommand
{
    public static Command Create()
    {
        var iface = new Option<string>("--interface", "-i") { Description = "interface to answer on", Required = true };
        var ip = new Option<IPAddress?>("--ip")
        {
            Description = "IPv4 address to answer for (default: the interface's first IPv4 address). Best one the kernel does not have, " +
                "e.g. a spare address of the subnet: the kernel then never answers too",
            CustomParser = r =>
            {
                string text = r.Tokens.Single().Value;
                if (IPAddress.TryParse(text, out IPAddress? address) && address.AddressFamily == AddressFamily.InterNetwork)
                    return address;
                r.AddError($"--ip: '{text}' is not an IPv4 address");
                return null;
            },
        };
        var port = new Option<ushort>("--port") { Description = "UDP echo port", DefaultValueFactory = _ => 7 };
        var queue = new Option<uint>("--queue", "-q") { Description = "queue id", DefaultValueFactory = _ => 0 };
        var attach = new Option<string>("--attach", "-a") { Description = "XDP attach mode: skb | drv | auto", DefaultValueFactory = _ => "auto" };
        attach.AcceptOnlyFromAmong("skb", "drv", "auto");
        var duration = new Option<double>("--duration", "-d") { Description = "seconds to run; 0 runs until Ctrl-C", DefaultValueFactory = _ => 0 };
        duration.Validators.Add(r => { if (r.GetValueOrDefault<double>() is < 0 or > 86400) r.AddError("--duration must be from 0 to 86400 seconds"); });
        var xskmap = XskMapOption.Create();

        var command = new Command("echo",
            "Answer ARP requests, ping (ICMP echo) and UDP echo for one IPv4 address entirely over AF_XDP: each request is turned around " +
            $"in the UMEM frame it arrived in and sent back on the same socket. The XDP program {EchoSteeringProgram.ProgramName} takes only " +
            "those requests from the queue; everything else (TCP, other addresses, other ports) still reaches the kernel.")
        { iface, ip, port, queue, attach, duration, xskmap };
        command.SetAction(r =>
        {
            if (!XskMapOption.TryGet(r, xskmap, out XskMapSource? source))
                return 2;
            string name = r.GetRequiredValue(iface);
            NetDevice.IndexOf(name); // a missing interface is reported as such, not as one without an address
            IPAddress? address = r.GetValue(ip) ?? FirstIpv4Address(name);
            if (address is null)
            {
                Console.Error.WriteLine($"{name} has no IPv4 address: give one to answer for with --ip");
                return 1;
            }
            using XskMap? map = source?.Open(name);
            return Run(new EchoResponderConfig
            {
                Interface = name,
                Address = address,
                UdpPort = r.GetValue(port),
                Queue = r.GetValue(queue),
                AttachMode = Enum.Parse<XdpAttachMode>(r.GetRequiredValue(attach), ignoreCase: true),
                XskMap = map,
            }, r.GetValue(duration), source);
        });
        return command;
    }

    static int Run(EchoResponderConfig config, double seconds, XskMapSource? source)
    {
        using var cancel = seconds > 0 ? new CancellationTokenSource(TimeSpan.FromSeconds(seconds)) : new CancellationTokenSource();
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; cancel.Cancel(); });
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; cancel.Cancel(); });

        using var responder = new EchoResponder(config);
        string socketMode = $"{(responder.Socket.IsZeroCopy ? "zero-copy" : "copy")}-mode socket";
        string how = responder.Program is { Link: var link }
            ? $"{EchoSteeringProgram.ProgramName} (prog id {link.ProgramId}) in {link.Mode.ToString().ToLowerInvariant()} mode, {socketMode}; everything else goes to the kernel."
            : $"registered in XSKMAP id {config.XskMap!.Id} from {source!.PathFor(config.Interface)}, {socketMode}; the program on {config.Interface} decides what arrives, and what is not a request is dropped.";
        Console.WriteLine($"answering ARP, ping and UDP port {config.UdpPort} for {config.Address} ({responder.Identity.Mac}) on {config.Interface} queue {config.Queue}: " +
            how + (seconds > 0 ? $" Running {seconds:0.###} s." : " Ctrl-C stops."));
        var clock = Stopwatch.StartNew();
        responder.Run(cancel.Token);
        EchoCounters counters = responder.Counters;
        Console.WriteLine($"answered {counters.Replies} in {clock.Elapsed.TotalSeconds:0.0} s: arp={counters.ArpReplies} icmp={counters.IcmpEchoReplies} " +
            $"udp={counters.UdpEchoReplies} ignored={counters.Ignored} tx_ring_full={counters.TxRingFull}");
        return 0;
    }

    static IPAddress? FirstIpv4Address(string interfaceName) =>
        NetworkInterface.GetAllNetworkInterfaces()
            .FirstOrDefault(n => n.Name == interfaceName)?
            .GetIPProperties().UnicastAddresses
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork);
}
