using System.CommandLine;
using AfXdp.DevicePlugin;

namespace AfXdp.Cli.Commands;

/// <summary>
/// <c>--xskmap uds[:PATH] | pin[:PATH]</c>: register the socket in the XSKMAP the AF_XDP device plugin (or
/// <c>afxdp plugin</c>) serves, instead of loading and attaching a program.
/// </summary>
internal static class XskMapOption
{
    public static Option<XskMapSource?> Create() => new("--xskmap")
    {
        Description = "take the XSKMAP from the AF_XDP device plugin instead of loading a program (nothing is attached; the program on the interface stays): " +
            $"uds[:PATH] asks its unix socket (default {DevicePluginProtocol.DefaultSocketPath("IF")}), pin[:PATH] opens its pinned map " +
            $"(default {DevicePluginProtocol.DefaultPinPath("IF")}); needs only CAP_NET_RAW (and CAP_IPC_LOCK above the memlock limit)",
        CustomParser = r =>
        {
            if (r.Tokens.Count == 0)
                return null;
            if (XskMapSource.TryParse(r.Tokens[0].Value, out XskMapSource? source, out string error))
                return source;
            r.AddError($"--xskmap: {error}");
            return null;
        },
    };

    /// <summary>An option that cannot go with --xskmap: a usage error (exit code 2) saying why.</summary>
    public static UsageException Conflict(string option, string why) => new($"--xskmap and {option}: {why}");
}
