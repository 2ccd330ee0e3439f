using System.CommandLine;
using System.Diagnostics;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using AfXdp.Cli.Apps;
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
        var iface = CliOptions.Interface("interface to answer on");
        var ip = new Option<(IPAddress Address, int? Prefix)?>("--ip")
        {
            Description = "IPv4 address to answer for, optionally with its prefix length (A.B.C.D/24; default: the prefix of the interface's " +
                "address on that subnet, which places the subnet broadcast, never answered). Default address: the interface's first IPv4 address. " +
                "Best one the kernel does not have, e.g. a spare address of the subnet: the kernel then never answers too",
            CustomParser = r =>
            {
                string text = r.Tokens.Single().Value;
                string[] parts = text.Split('/');
                int? prefix = null;
                if (parts.Length == 2)
                {
                    if (!int.TryParse(parts[1], out int bits) || bits is < 0 or > 32)
                    {
                        r.AddError($"--ip: '{parts[1]}' in '{text}' is not a prefix length from 0 to 32");
                        return null;
                    }
                    prefix = bits;
                }
                if (parts.Length <= 2 && IPAddress.TryParse(parts[0], out IPAddress? address) && address.AddressFamily == AddressFamily.InterNetwork)
                    return (address, prefix);
                r.AddError($"--ip: '{text}' is not an IPv4 address");
                return null;
            },
        };
        var port = CliOptions.Number<ushort>("--port", null, "UDP echo port", 7, 1, ushort.MaxValue, "a port");
        var queue = CliOptions.Queue();
        var attach = CliOptions.Attach();
        var duration = CliOptions.Duration("seconds to run; 0 runs until Ctrl-C", 0, zeroRunsForever: true);
        var xskmap = XskMapOption.Create();

        var command = new Command("echo",
            "Answer ARP requests, ping (ICMP echo) and UDP echo for one IPv4 address entirely over AF_XDP: each request is turned around " +
            $"in the UMEM frame it arrived in and sent back on the same socket. The XDP program {EchoResponder.ProgramName} takes only " +
            "those requests from the queue; everything else (TCP, other addresses, other ports) still reaches the kernel. It answers only what a correct " +
            "host answers (RFC 1122): no reply to broadcast, multicast, loopback, reserved, own or subnet-broadcast sources, to group source MACs, to bad " +
            "IPv4/ICMP/UDP checksums, or to UDP from port 0, reflector ports (echo, chargen, DNS, NTP, ...) or the echo port itself; the last line counts " +
            "each refusal by reason.")
        { iface, ip, port, queue, attach, duration, xskmap };
        command.SetAction(r =>
        {
            XskMapSource? source = r.GetValue(xskmap);
            string name = r.GetRequiredValue(iface);
            NetDevice.IndexOf(name); // a missing interface is reported as such, not as one without an address
            (IPAddress Address, int? Prefix)? given = r.GetValue(ip);
            IPAddress? address = given?.Address ?? FirstIpv4Address(name);
            if (address is null)
                throw new AfXdpException($"echo on {name}", 0, $"{name} has no IPv4 address to answer for.", "give one with --ip.");
            using XskMap? map = source?.Open(name);
            return Run(new EchoResponderOptions
            {
                Interface = name,
                Address = address,
                PrefixLength = given?.Prefix,
                UdpPort = r.GetValue(port),
                Queue = r.GetValue(queue),
                AttachMode = Enum.Parse<XdpAttachMode>(r.GetRequiredValue(attach), ignoreCase: true),
                XskMap = map,
            }, r.GetValue(duration), source);
        });
        return command;
    }

    static int Run(EchoResponderOptions config, double seconds, XskMapSource? source)
    {
        using var cancel = seconds > 0 ? new CancellationTokenSource(TimeSpan.FromSeconds(seconds)) : new CancellationTokenSource();
        using var signals = new StopSignals(cancel.Cancel);

        using var responder = new EchoResponder(config);
        string socketMode = $"{(responder.Socket.IsZeroCopy ? "zero-copy" : "copy")}-mode socket";
        string how = responder.Program is { Link: var link }
            ? $"{EchoResponder.ProgramName} (prog id {link.ProgramId}) in {link.Mode.ToString().ToLowerInvariant()} mode, {socketMode}; everything else goes to the kernel."
            : $"registered in XSKMAP id {config.XskMap!.Id} from {source!.PathFor(config.Interface)}, {socketMode}; the program on {config.Interface} decides what arrives, and what is not a request is dropped.";
        Console.WriteLine($"answering ARP, ping and UDP port {config.UdpPort} for {config.Address}/{responder.Identity.Host.PrefixLength} ({responder.Identity.Mac}) on {config.Interface} queue {config.Queue}: " +
            how + (seconds > 0 ? $" Running {seconds:0.###} s." : " Ctrl-C stops."));
        var clock = Stopwatch.StartNew();
        responder.Run(cancel.Token);
        EchoCounters counters = responder.Counters;
        Console.WriteLine($"answered {counters.Replies} in {clock.Elapsed.TotalSeconds:0.0} s: arp={counters.ArpReplies} icmp={counters.IcmpEchoReplies} " +
            $"udp={counters.UdpEchoReplies} ignored={counters.Ignored} malformed={counters.Malformed} bad_checksum={counters.BadChecksum} " +
            $"bad_source={counters.BadSource} reflector_port={counters.ReflectorPort} tx_ring_full={counters.TxRingFull}");
        return 0;
    }

    static IPAddress? FirstIpv4Address(string interfaceName) =>
        NetworkInterface.GetAllNetworkInterfaces()
            .FirstOrDefault(n => n.Name == interfaceName)?
            .GetIPProperties().UnicastAddresses
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork);
}
