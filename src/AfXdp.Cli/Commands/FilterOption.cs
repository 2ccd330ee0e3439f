using System.CommandLine;
using AfXdp.Bpf;

namespace AfXdp.Cli.Commands;

/// <summary><c>--filter "udp dst port 4791"</c>: steer only matching frames to the socket (the grammar of <see cref="PacketFilter"/>).</summary>
internal static class FilterOption
{
    public static Option<PacketFilter?> Create() => new("--filter")
    {
        Description = "steer only matching frames to the socket, pass the rest to the kernel, e.g. \"udp dst port 4791\", " +
            "\"tcp dst port 8000-8100\", \"ip dst 10.0.0.2 and udp\", \"ip6 dst fd00::2\", \"vlan 100 and udp dst port 9\", \"ether proto 0x88b5\"",
        CustomParser = r =>
        {
            if (PacketFilter.TryParse(r.Tokens.Single().Value, out PacketFilter? filter, out string error))
                return filter;
            r.AddError($"--filter: {error}");
            return null;
        },
    };
}
