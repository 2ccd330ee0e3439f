using System.CommandLine;
using AfXdp.DevicePlugin;

namespace AfXdp.Cli.Commands;

/// <summary>
/// <c>--xskmap uds[:PATH] | pin[:PATH]</c>: register the socket in the XSKMAP the AF_XDP device plugin (or
/// <c>afxdp plugin</c>) serves, instead of loading and attaching a program.
/// </summary>
internal static class XskMapOption
{
    public static Option<string?> Create() => new("--xskmap")
    {
        Description = "take the XSKMAP from the AF_XDP device plugin instead of loading a program (nothing is attached; the program on the interface stays): " +
            $"uds[:PATH] asks its unix socket (default {DevicePluginProtocol.DefaultSocketPath("IF")}), pin[:PATH] opens its pinned map " +
            $"(default {DevicePluginProtocol.DefaultPinPath("IF")}); needs only CAP_NET_RAW (and CAP_IPC_LOCK above the memlock limit)",
    };

    /// <summary>The source given, or null; false after printing one line on stderr when the value is not one.</summary>
    public static bool TryGet(ParseResult result, Option<string?> option, out XskMapSource? source)
    {
        source = null;
        if (result.GetValue(option) is not string text)
            return true;
        if (XskMapSource.TryParse(text, out source, out string error))
            return true;
        Console.Error.WriteLine($"--xskmap: {error}");
        return false;
    }

    /// <summary>One line on stderr for an option that cannot go with --xskmap; the exit code to return.</summary>
    public static int Conflict(string option, string why)
    {
        Console.Error.WriteLine($"--xskmap and {option}: {why}");
        return 2;
    }
}
