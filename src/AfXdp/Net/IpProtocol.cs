namespace AfXdp.Net;

/// <summary>IPv4 protocol and IPv6 next-header numbers (IANA "Assigned Internet Protocol Numbers").</summary>
public enum IpProtocol : byte
{
    /// <summary>IPv6 hop-by-hop options extension header.</summary>
    Ipv6HopByHopOptions = 0,
    /// <summary>ICMP for IPv4.</summary>
    Icmp = 1,
    /// <summary>TCP.</summary>
    Tcp = 6,
    /// <summary>UDP.</summary>
    Udp = 17,
    /// <summary>IPv6 routing extension header.</summary>
    Ipv6Routing = 43,
    /// <summary>IPv6 fragment extension header.</summary>
    Ipv6Fragment = 44,
    /// <summary>ICMPv6.</summary>
    IcmpV6 = 58,
    /// <summary>Nothing follows the IPv6 header.</summary>
    Ipv6NoNextHeader = 59,
    /// <summary>IPv6 destination options extension header.</summary>
    Ipv6DestinationOptions = 60,
}
