using AfXdp.Interop;

namespace AfXdp.Device;

/// <summary>An IPv6 address an interface has (most significant byte first, as <c>AfXdp.Net.Ipv6Address</c> holds it), with its prefix length.</summary>
public readonly record struct Ipv6InterfaceAddress(UInt128 Address, int PrefixLength)
{
    /// <summary>The IPv6 addresses of the interface with index <paramref name="interfaceIndex"/>, in the calling thread's network namespace (RTM_GETADDR, AF_INET6).</summary>
    public static IReadOnlyList<Ipv6InterfaceAddress> Query(int interfaceIndex)
    {
        using var netlink = new NetlinkRoute();
        try
        {
            return netlink.GetIpv6Addresses(interfaceIndex).Select(a => new Ipv6InterfaceAddress(a.Address, a.PrefixLength)).ToList();
        }
        catch (NetlinkException e)
        {
            Throw.Errno(e.Call, e.Errno);
            throw;
        }
    }
}
