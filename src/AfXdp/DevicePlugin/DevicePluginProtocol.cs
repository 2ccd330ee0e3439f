namespace AfXdp.DevicePlugin;

/// <summary>What a request to the device plugin asks for.</summary>
public enum DevicePluginCommand
{
    /// <summary>A request the server does not know, or a known one in the wrong form; answered <see cref="DevicePluginProtocol.Nak"/>.</summary>
    Unknown,
    /// <summary><c>/connect,HOSTNAME</c>: the first request, naming the pod; answered /host_ok or /host_nak.</summary>
    Connect,
    /// <summary><c>/version</c>: answered with the protocol version.</summary>
    Version,
    /// <summary><c>/xsk_map_fd,INTERFACE</c>: answered /fd_ack with the XSKMAP's descriptor, or /fd_nak.</summary>
    XskMapFd,
    /// <summary><c>/fin</c>: answered /fin_ack, then the connection ends.</summary>
    Fin,
}

/// <summary>One parsed request: the command and its argument.</summary>
/// <param name="Command">What the request asks for.</param>
/// <param name="Argument">The host name (/connect) or interface name (/xsk_map_fd); null when there is none.</param>
public readonly record struct DevicePluginRequest(DevicePluginCommand Command, string? Argument);

/// <summary>
/// The messages of the AF_XDP device plugin for Kubernetes (afxdp-plugins-for-kubernetes, constants.go
/// and udsserver.go) as DPDK's af_xdp driver speaks them (rte_eth_af_xdp.c, uds_get_xskmap_fd): ASCII
/// requests and answers, one per SOCK_SEQPACKET message, the XSKMAP travelling as SCM_RIGHTS with /fd_ack.
/// </summary>
public static class DevicePluginProtocol
{
    /// <summary>First request, followed by ",HOSTNAME" (the pod's name, from gethostname).</summary>
    public const string Connect = "/connect";

    /// <summary>The host name belongs to a pod the plugin gave devices to.</summary>
    public const string HostOk = "/host_ok";

    /// <summary>The host name is not a pod the plugin knows on this node.</summary>
    public const string HostNak = "/host_nak";

    /// <summary>Asks the protocol version.</summary>
    public const string Version = "/version";

    /// <summary>Asks for an interface's XSKMAP, followed by ",INTERFACE".</summary>
    public const string XskMapFd = "/xsk_map_fd";

    /// <summary>The XSKMAP's descriptor comes with this answer (SCM_RIGHTS).</summary>
    public const string FdAck = "/fd_ack";

    /// <summary>The plugin does not serve that interface to this pod.</summary>
    public const string FdNak = "/fd_nak";

    /// <summary>Ends the conversation.</summary>
    public const string Fin = "/fin";

    /// <summary>Acknowledges <see cref="Fin"/>.</summary>
    public const string FinAck = "/fin_ack";

    /// <summary>A bad request: one the plugin does not know, or a known one in the wrong form.</summary>
    public const string Nak = "/nak";

    /// <summary>Something failed on the plugin's side (e.g. asking the kubelet about the pod).</summary>
    public const string Error = "/error";

    /// <summary>The protocol version the plugin answers to <see cref="Version"/> (its handshakeHandshakeVersion).</summary>
    public const string ProtocolVersion = "0.1";

    /// <summary>Where the plugin mounts each device's socket and pinned map in a pod: /tmp/afxdp_dp/INTERFACE/.</summary>
    public const string BaseDirectory = "/tmp/afxdp_dp";

    /// <summary>The socket's file name under <see cref="BaseDirectory"/>/INTERFACE.</summary>
    public const string SocketFileName = "afxdp.sock";

    /// <summary>The pinned XSKMAP's file name under <see cref="BaseDirectory"/>/INTERFACE (the map's name in the plugin's program).</summary>
    public const string PinFileName = "xsks_map";

    /// <summary>The longest request the plugin reads: a longer one is cut (its udsMsgBufSize).</summary>
    public const int MaxRequestLength = 64;

    /// <summary>The longest answer a client reads (DPDK's UDS_MAX_CMD_RESP).</summary>
    public const int MaxAnswerLength = 128;

    /// <summary>The socket DPDK's driver connects to for an interface when no dp_path is given.</summary>
    public static string DefaultSocketPath(string interfaceName) => $"{BaseDirectory}/{interfaceName}/{SocketFileName}";

    /// <summary>The pinned map DPDK's driver opens for an interface when no dp_path is given.</summary>
    public static string DefaultPinPath(string interfaceName) => $"{BaseDirectory}/{interfaceName}/{PinFileName}";

    /// <summary>A request: the command, and ",ARGUMENT" when there is one.</summary>
    public static string Request(string command, string? argument = null) => argument is null ? command : $"{command},{argument}";

    /// <summary>
    /// Reads a request the way the plugin's server does: /version and /fin exactly; /connect and /xsk_map_fd
    /// with exactly one argument after a comma, spaces removed from it. A /connect in another form is still a
    /// /connect, with no name (the plugin answers it /host_nak); anything else is <see cref="DevicePluginCommand.Unknown"/>.
    /// </summary>
    public static DevicePluginRequest ParseRequest(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        string[] words = message.Split(',');
        string? argument = words.Length == 2 ? words[1].Replace(" ", "", StringComparison.Ordinal) : null;
        return words[0] switch
        {
            Version when words.Length == 1 => new(DevicePluginCommand.Version, null),
            Fin when words.Length == 1 => new(DevicePluginCommand.Fin, null),
            Connect => new(DevicePluginCommand.Connect, argument is { Length: > 0 } ? argument : null),
            XskMapFd when argument is not null => new(DevicePluginCommand.XskMapFd, argument),
            _ => new(DevicePluginCommand.Unknown, null),
        };
    }

    /// <summary>True for the answers that refuse any request: <see cref="Nak"/> (bad request) and <see cref="Error"/> (the plugin failed).</summary>
    public static bool IsRefusal(string answer) => answer is Nak or Error;
}
