using AfXdp.Interop;

namespace AfXdp.Device;

/// <summary>An IPv4 address an interface has (most significant byte first), with its subnet's prefix length.</summary>
public readonly record struct Ipv4InterfaceAddress(uint Address, int PrefixLength)
{
    /// <summary>The IPv4 addresses of the interface with index <paramref name="interfaceIndex"/>, in the calling thread's network namespace (RTM_GETADDR).</summary>
    public static IReadOnlyList<Ipv4InterfaceAddress> Query(int interfaceIndex)
    {
        using var netlink = new NetlinkRoute();
        try
        {
            return netlink.GetIpv4Addresses(interfaceIndex).Select(a => new Ipv4InterfaceAddress(a.Address, a.PrefixLength)).ToList();
        }
        catch (NetlinkException e)
        {
            Throw.Errno(e.Call, e.Errno);
            throw;
        }
    }
}
