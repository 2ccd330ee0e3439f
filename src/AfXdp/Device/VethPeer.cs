using System.Buffers.Binary;
using AfXdp.Interop;

namespace AfXdp.Device;

/// <summary>
/// The other end of a veth pair, as the calling thread's network namespace sees it: what sends the frames
/// the device receives. A container's end usually has its peer in the host's namespace, where this
/// namespace can name it only by index.
/// </summary>
/// <param name="Index">The peer's interface index, in its own namespace (IFLA_LINK).</param>
/// <param name="Name">The peer's name; null when it is in another network namespace.</param>
/// <param name="NamespaceId">The peer namespace's id as this one knows it (IFLA_LINK_NETNSID); null when it is this namespace.</param>
/// <param name="TxChecksumOffload">Whether the peer leaves checksums to the device (ETHTOOL_GTXCSUM); null when it cannot be asked (another namespace).</param>
public sealed record VethPeer(int Index, string? Name, int? NamespaceId, bool? TxChecksumOffload)
{
    /// <summary>The peer of <paramref name="device"/>; null when the device is not a veth.</summary>
    public static unsafe VethPeer? Of(NetDevice device)
    {
        if (device.QueryDriver()?.Name != "veth")
            return null;
        Dictionary<ushort, byte[]> link;
        try
        {
            using var netlink = new NetlinkRoute();
            link = netlink.GetLink(device.Index, out _);
        }
        catch (NetlinkException e)
        {
            Throw.Errno(e.Call, e.Errno);
            throw;
        }
        if (!link.TryGetValue(NetlinkRoute.IFLA_LINK, out byte[]? index) || index.Length < 4)
            return null;
        int peer = BinaryPrimitives.ReadInt32LittleEndian(index);
        if (link.TryGetValue(NetlinkRoute.IFLA_LINK_NETNSID, out byte[]? nsid) && nsid.Length >= 4)
            return new VethPeer(peer, null, BinaryPrimitives.ReadInt32LittleEndian(nsid), null);
        string name = NetDevice.Get(peer).Name;
        ethtool_value tx = new() { cmd = Sys.ETHTOOL_GTXCSUM };
        return new VethPeer(peer, name, null, Sys.Ethtool(name, &tx) == 0 ? tx.data != 0 : null);
    }
}
