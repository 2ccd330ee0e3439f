using System.Text.Json;
using AfXdp.Device;
using AfXdp.Xsk;

namespace AfXdp.Testing;

/// <summary>One end of a lab's veth pair as the kernel reports it (<c>ip -d -j addr show</c>).</summary>
public sealed record VethEndStatus(
    string Namespace,
    string Interface,
    string Mac,
    string OperState,
    int Mtu,
    int RxQueues,
    int TxQueues,
    IReadOnlyList<string> Addresses,
    XdpAttachment Xdp)
{
    /// <summary>The first IPv4 address without its prefix length, or null.</summary>
    public string? Ipv4Address => Addresses.Where(a => !a.Contains(':')).Select(a => a.Split('/')[0]).FirstOrDefault();

    /// <summary>Reads the interface <paramref name="ifName"/> out of <c>ip -d -j addr show</c> output; null when it is not listed.</summary>
    internal static VethEndStatus? Parse(string ns, string ifName, string ipJson)
    {
        using JsonDocument document = JsonDocument.Parse(ipJson);
        foreach (JsonElement link in document.RootElement.EnumerateArray())
        {
            if (link.GetProperty("ifname").GetString() != ifName)
                continue;
            var addresses = new List<string>();
            if (link.TryGetProperty("addr_info", out JsonElement addrInfo))
                foreach (JsonElement a in addrInfo.EnumerateArray())
                    if (a.TryGetProperty("local", out JsonElement local))
                        addresses.Add($"{local.GetString()}/{a.GetProperty("prefixlen").GetInt32()}");
            return new VethEndStatus(
                ns,
                ifName,
                link.TryGetProperty("address", out JsonElement mac) ? mac.GetString() ?? "" : "",
                link.TryGetProperty("operstate", out JsonElement state) ? state.GetString() ?? "" : "",
                link.TryGetProperty("mtu", out JsonElement mtu) ? mtu.GetInt32() : 0,
                link.TryGetProperty("num_rx_queues", out JsonElement rx) ? rx.GetInt32() : 0,
                link.TryGetProperty("num_tx_queues", out JsonElement tx) ? tx.GetInt32() : 0,
                addresses,
                link.TryGetProperty("xdp", out JsonElement xdp) ? ParseXdp(xdp) : default);
        }
        return null;
    }

    // iproute2 lists each program under "attached" with its XDP_ATTACHED_* mode (linux/if_link.h: 1 driver,
    // 2 generic, 3 offload); versions before that give only the top-level "mode" and "prog".
    static XdpAttachment ParseXdp(JsonElement xdp)
    {
        uint drv = 0, skb = 0, hw = 0;
        IEnumerable<JsonElement> entries = xdp.TryGetProperty("attached", out JsonElement attached) ? attached.EnumerateArray() : [xdp];
        foreach (JsonElement one in entries)
        {
            if (!one.TryGetProperty("prog", out JsonElement prog) || !prog.TryGetProperty("id", out JsonElement idElement))
                continue;
            uint id = idElement.GetUInt32();
            switch (one.GetProperty("mode").GetInt32())
            {
                case 1: drv = id; break;
                case 2: skb = id; break;
                case 3: hw = id; break;
            }
        }
        return new XdpAttachment(drv, skb, hw);
    }
}
