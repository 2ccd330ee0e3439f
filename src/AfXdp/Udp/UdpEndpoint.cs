using System.Globalization;
using System.Net;
using System.Net.Sockets;
using AfXdp.Net;

namespace AfXdp.Udp;

/// <summary>An IPv4 address (most significant byte first: 10.0.0.1 is 0x0A000001) and a UDP port, held by value.</summary>
public readonly record struct UdpEndpoint(uint Address, ushort Port)
{
    /// <summary>The endpoint of an <see cref="IPEndPoint"/>, which must be IPv4.</summary>
    public static UdpEndpoint From(IPEndPoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (endpoint.AddressFamily != AddressFamily.InterNetwork)
            Throw.Argument(nameof(endpoint), $"endpoint {endpoint}", "the UDP service serves IPv4 (IPv6 datagrams keep going to the kernel).", "give an IPv4 address, e.g. 192.0.2.1:53.");
        return new UdpEndpoint(Ipv4Address.ToUInt32(endpoint.Address), (ushort)endpoint.Port);
    }

    /// <summary>As an <see cref="IPEndPoint"/> (allocates: for logs and setup, not the datagram path).</summary>
    public IPEndPoint ToIPEndPoint() => new(Ipv4Address.ToIPAddress(Address), Port);

    /// <summary>"a.b.c.d:port".</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Address >> 24}.{(Address >> 16) & 0xFF}.{(Address >> 8) & 0xFF}.{Address & 0xFF}:{Port}");
}
