using System.Globalization;
using System.Net;
using System.Net.Sockets;
using AfXdp.Net;

namespace AfXdp.Udp;

/// <summary>
/// An IPv4 or IPv6 address and a UDP port, held by value. The address is in IPv6 form, most significant byte first
/// (<see cref="Ipv6Address"/>); an IPv4 one is IPv4-mapped, ::ffff:a.b.c.d (RFC 4291 2.5.5.2), as dual-stack sockets hold it.
/// </summary>
public readonly record struct UdpEndpoint
{
    /// <summary>The IPv4 endpoint <paramref name="address"/> (most significant byte first: 10.0.0.1 is 0x0A000001), <paramref name="port"/>.</summary>
    public UdpEndpoint(uint address, ushort port)
    {
        Address = Ipv6Address.MapIpv4(address);
        Port = port;
    }

    /// <summary>The endpoint <paramref name="address"/> (IPv6 form, most significant byte first; an IPv4-mapped one is IPv4), <paramref name="port"/>.</summary>
    public UdpEndpoint(UInt128 address, ushort port)
    {
        Address = address;
        Port = port;
    }

    /// <summary>The address in IPv6 form, most significant byte first; IPv4 addresses IPv4-mapped.</summary>
    public UInt128 Address { get; }

    /// <summary>The UDP port.</summary>
    public ushort Port { get; }

    /// <summary>True for an IPv6 endpoint, false for an IPv4 one (an IPv4-mapped <see cref="Address"/>).</summary>
    public bool IsIpv6 => !Ipv6Address.IsIpv4Mapped(Address);

    /// <summary>The endpoint of an <see cref="IPEndPoint"/>, IPv4 or IPv6 (an IPv6 scope id is not kept: the service checks it against its interface).</summary>
    public static UdpEndpoint From(IPEndPoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (endpoint.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
            Throw.Argument(nameof(endpoint), $"endpoint {endpoint}", "the UDP service serves IPv4 and IPv6 endpoints.", "give an IPv4 or IPv6 address, e.g. 192.0.2.1:53 or [2001:db8::1]:53.");
        return new UdpEndpoint(Ipv6Address.ToUInt128(endpoint.Address), (ushort)endpoint.Port);
    }

    /// <summary>As an <see cref="IPEndPoint"/> (allocates: for logs and setup, not the datagram path).</summary>
    public IPEndPoint ToIPEndPoint() => new(Ipv6Address.ToIPAddress(Address), Port);

    /// <summary>"a.b.c.d:port" or "[v6]:port".</summary>
    public override string ToString() => IsIpv6
        ? ToIPEndPoint().ToString()
        : string.Create(CultureInfo.InvariantCulture, $"{(byte)(Address >> 24)}.{(byte)(Address >> 16)}.{(byte)(Address >> 8)}.{(byte)Address}:{Port}");
}
