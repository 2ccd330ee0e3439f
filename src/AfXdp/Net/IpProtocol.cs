namespace AfXdp.Net;

/// <summary>IPv4 protocol and IPv6 next-header numbers (IANA "Assigned Internet Protocol Numbers").</summary>
public enum IpProtocol : byte
{
    Ipv6HopByHopOptions = 0,
    Icmp = 1,
    Tcp = 6,
    Udp = 17,
    Ipv6Routing = 43,
    Ipv6Fragment = 44,
    IcmpV6 = 58,
    Ipv6NoNextHeader = 59,
    Ipv6DestinationOptions = 60,
}
