using AfXdp.Bpf;

namespace AfXdp.DevicePlugin;

/// <summary>The two ways the device plugin hands out an XSKMAP (DPDK's use_cni and use_pinned_map).</summary>
public enum XskMapSourceKind
{
    /// <summary>Over the plugin's unix socket (<see cref="DevicePluginClient"/>).</summary>
    Uds,
    /// <summary>Pinned in a bpffs the plugin mounts into the pod.</summary>
    Pin,
}

/// <summary>
/// Where a socket's XSKMAP comes from when another process (the AF_XDP device plugin, <c>afxdp plugin</c>)
/// attached the XDP program: its unix socket or its pin. Written <c>uds[:PATH]</c> or <c>pin[:PATH]</c>; without
/// a path, the plugin's default for the interface (/tmp/afxdp_dp/INTERFACE/afxdp.sock or .../xsks_map).
/// </summary>
/// <param name="Kind">The socket or the pin.</param>
/// <param name="Path">Where it is; null for the plugin's default for the interface.</param>
public sealed record XskMapSource(XskMapSourceKind Kind, string? Path = null)
{
    /// <summary>What <see cref="TryParse"/> accepts, for messages.</summary>
    public const string Forms = "uds[:PATH] (the device plugin's unix socket) or pin[:PATH] (its pinned XSKMAP)";

    /// <summary>How long each step of the socket's protocol may take.</summary>
    public TimeSpan Timeout { get; init; } = DevicePluginClient.DefaultTimeout;

    /// <summary>The host name given with /connect; null for this host's (in a pod, the pod's name).</summary>
    public string? Hostname { get; init; }

    /// <summary>Reads <c>uds</c>, <c>uds:PATH</c>, <c>pin</c> or <c>pin:PATH</c>; false with the reason otherwise.</summary>
    public static bool TryParse(string text, out XskMapSource? source, out string error)
    {
        ArgumentNullException.ThrowIfNull(text);
        source = null;
        error = $"'{text}' is not {Forms}, e.g. uds:{DevicePluginProtocol.DefaultSocketPath("eth0")} or pin:{DevicePluginProtocol.DefaultPinPath("eth0")}; " +
            "without PATH the plugin's default for the interface";
        int colon = text.IndexOf(':', StringComparison.Ordinal);
        string kind = colon < 0 ? text : text[..colon];
        string? path = colon < 0 ? null : text[(colon + 1)..];
        if (path is { Length: 0 })
            return false;
        source = kind switch
        {
            "uds" => new XskMapSource(XskMapSourceKind.Uds, path),
            "pin" => new XskMapSource(XskMapSourceKind.Pin, path),
            _ => null,
        };
        return source is not null;
    }

    /// <summary>Like <see cref="TryParse"/>, throwing an <see cref="ArgumentException"/> naming the text and the expected forms.</summary>
    public static XskMapSource Parse(string text)
    {
        if (!TryParse(text, out XskMapSource? source, out string error))
            Throw.Argument(nameof(text), $"XskMapSource \"{text}\"", error + ".", $"write {Forms}.");
        return source!;
    }

    /// <summary>The socket or pin used for <paramref name="interfaceName"/>: <see cref="Path"/>, or the plugin's default.</summary>
    public string PathFor(string interfaceName) => Path ?? (Kind == XskMapSourceKind.Uds
        ? DevicePluginProtocol.DefaultSocketPath(interfaceName)
        : DevicePluginProtocol.DefaultPinPath(interfaceName));

    /// <summary>
    /// The XSKMAP serving <paramref name="interfaceName"/>: asked of the socket (the exchange DPDK's driver makes)
    /// or opened from the pin. Register sockets in it (<see cref="XskMap.Register"/>); the caller disposes it.
    /// </summary>
    public XskMap Open(string interfaceName)
    {
        ArgumentException.ThrowIfNullOrEmpty(interfaceName);
        string path = PathFor(interfaceName);
        return Kind == XskMapSourceKind.Uds
            ? DevicePluginClient.GetXskMap(path, interfaceName, Hostname, Timeout)
            : XskMap.Open(BpfMap.OpenPinned(path));
    }

    /// <inheritdoc/>
    public override string ToString() => Path is null ? Kind.ToString().ToLowerInvariant() : $"{Kind.ToString().ToLowerInvariant()}:{Path}";
}
