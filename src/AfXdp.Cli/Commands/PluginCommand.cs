using System.CommandLine;
using AfXdp.Bpf;
using AfXdp.Device;
using AfXdp.Cli.DevicePlugin;
using AfXdp.DevicePlugin;
using AfXdp.Xsk;

namespace AfXdp.Cli.Commands;

/// <summary>
/// <c>afxdp plugin</c>: the AF_XDP device plugin's side on a single host: attaches the redirect program and hands
/// its XSKMAP out over the plugin's socket protocol (<see cref="DevicePluginServer"/>) and/or as a pin
/// (<see cref="DevicePluginPin"/>), so that unprivileged processes register sockets with <c>--xskmap</c>.
/// </summary>
internal static class PluginCommand
{
    public static Command Create()
    {
        var iface = CliOptions.Interface("interface to attach the redirect program to and serve");
        var uds = new Option<string?>("--uds")
        {
            Description = $"serve the device plugin's protocol on this unix socket (SOCK_SEQPACKET; the plugin's place in a pod is {DevicePluginProtocol.DefaultSocketPath("IF")})",
        };
        var pin = new Option<string?>("--pin")
        {
            Description = $"pin the XSKMAP as DIR/{DevicePluginProtocol.PinFileName}; DIR on a bpffs (made and mounted under /sys/fs/bpf when missing)",
        };
        var uid = CliOptions.OptionalNumber<int>("--uid", "give the socket and the pin to this user (mode 0600), as the plugin's pool `uid` does; default: root only", 0, int.MaxValue, "a user id");
        var hostnames = new Option<string[]>("--hostname")
        {
            Description = "accept /connect only from this host name (repeatable); default: any, since a single host has no kubelet to ask which pod holds the device",
            AllowMultipleArgumentsPerToken = false,
        };
        var idle = Timeout("--idle-timeout", "seconds a connected client may stay silent (the plugin's UdsTimeout)", 30);
        var exchange = Timeout("--exchange-timeout", "seconds a client's whole conversation may last, however busy", 60);
        var attach = CliOptions.Attach();
        var duration = CliOptions.Duration("seconds to serve; 0 serves until Ctrl-C or SIGTERM", 0, zeroRunsForever: true);

        var command = new Command("plugin",
            "Act as the AF_XDP device plugin for Kubernetes on a single host: attach the redirect program to the interface and hand its XSKMAP " +
            "to unprivileged processes over the plugin's unix-socket protocol (/connect, /version, /xsk_map_fd, /fin; clients side by side, each for at most --exchange-timeout) " +
            "and/or as a pinned map. They register their sockets with `--xskmap uds:PATH` or `--xskmap pin:PATH` and need only CAP_NET_RAW. " +
            "Asked for another interface it answers /fd_nak. The socket's directories must be root's and not writable by others. On exit (duration, Ctrl-C, SIGTERM) it unpins, detaches and removes the socket.")
        { iface, uds, pin, uid, hostnames, idle, exchange, attach, duration };
        command.SetAction(r =>
        {
            string? socketPath = r.GetValue(uds);
            string? pinDirectory = r.GetValue(pin);
            if (socketPath is null && pinDirectory is null)
                throw new UsageException("nothing to serve: give --uds PATH, --pin DIR or both");
            return Run(r.GetRequiredValue(iface), socketPath, pinDirectory, r.GetValue(uid), r.GetValue(hostnames) ?? [],
                TimeSpan.FromSeconds(r.GetValue(idle)), TimeSpan.FromSeconds(r.GetValue(exchange)), Enum.Parse<XdpAttachMode>(r.GetRequiredValue(attach), ignoreCase: true), r.GetValue(duration));
        });
        return command;
    }

    /// <summary>A timeout in seconds, from the server's floor (<see cref="DevicePluginServerOptions.MinimumTimeout"/>) to 300.</summary>
    static Option<double> Timeout(string name, string description, double defaultValue)
    {
        double minimum = DevicePluginServerOptions.MinimumTimeout.TotalSeconds;
        return new Option<double>(name)
        {
            Description = $"{description}, from {minimum.ToString(System.Globalization.CultureInfo.InvariantCulture)} to 300",
            DefaultValueFactory = _ => defaultValue,
            CustomParser = r => r.Tokens.Count == 0 ? defaultValue : CliOptions.Seconds(r, name, zeroAllowed: false, maximum: 300, minimum: minimum),
        };
    }

    static int Run(string interfaceName, string? socketPath, string? pinDirectory, int? uid, string[] hostnames, TimeSpan idle, TimeSpan exchange, XdpAttachMode mode, double seconds)
    {
        using var cancel = seconds > 0 ? new CancellationTokenSource(TimeSpan.FromSeconds(seconds)) : new CancellationTokenSource();
        using var signals = new StopSignals(cancel.Cancel);

        NetDevice device = NetDevice.Get(interfaceName);
        int clients;
        using (XskRedirectProgram program = XskRedirectProgram.Attach(device, mode))
        using (DevicePluginPin? pinned = pinDirectory is null ? null : new DevicePluginPin(program.XskMap, pinDirectory, uid))
        using (DevicePluginServer? server = socketPath is null ? null : new DevicePluginServer(socketPath,
            new Dictionary<string, XskMap> { [device.Name] = program.XskMap },
            new DevicePluginServerOptions { OwnerUid = uid, Hostnames = hostnames, IdleTimeout = idle, ExchangeTimeout = exchange, Log = Console.WriteLine }))
        {
            string where = string.Join(" and ", new[] { server is null ? null : $"socket {server.SocketPath}", pinned is null ? null : $"pin {pinned.Path}" }.OfType<string>());
            Console.WriteLine($"serving the XSKMAP of {device.Name} (map id {program.XskMap.Id}, {XskRedirectProgram.ProgramName} prog id {program.Link.ProgramId} " +
                $"in {program.Link.Mode.ToString().ToLowerInvariant()} mode) on {where}{(uid is int u ? $" for uid {u}" : "")}. " +
                (seconds > 0 ? $"Serving {seconds:0.###} s." : "Ctrl-C stops."));
            if (server is not null)
                server.Run(cancel.Token);
            else
                cancel.Token.WaitHandle.WaitOne();
            clients = server?.Clients ?? 0;
        }
        Console.WriteLine($"stopped after {clients} client(s): " +
            string.Join(", ", new[] { pinDirectory is null ? null : "unpinned", "detached", socketPath is null ? null : "socket removed" }.OfType<string>()));
        return 0;
    }
}
