using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace AfXdp.Net;

/// <summary>
/// IPv6 addresses as the packet views, policies and endpoints hold them, a <see cref="UInt128"/> most significant
/// byte first (fd00::1 is 0xFD00_0000_..._0001), and as an <see cref="IPAddress"/>: the one place the two forms meet.
/// An IPv4 address held in the same form is IPv4-mapped, ::ffff:a.b.c.d (RFC 4291 2.5.5.2), as dual-stack sockets hold it.
/// </summary>
public static class Ipv6Address
{
    /// <summary>The address as a <see cref="UInt128"/>, most significant byte first; an IPv4 address comes back IPv4-mapped (<see cref="MapIpv4"/>).</summary>
    public static UInt128 ToUInt128(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily == AddressFamily.InterNetwork)
            return MapIpv4(Ipv4Address.ToUInt32(address));
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
            throw new ArgumentException($"{address} is neither an IPv6 nor an IPv4 address.", nameof(address));
        Span<byte> bytes = stackalloc byte[Ipv6Packet.AddressLength];
        address.TryWriteBytes(bytes, out _);
        return BinaryPrimitives.ReadUInt128BigEndian(bytes);
    }

    /// <summary>
    /// The address as an <see cref="IPAddress"/> (allocates: for logs and set-up, not the packet path); an IPv4-mapped
    /// one as the IPv4 address it stands for. <paramref name="scopeId"/> is a link-local address's interface index.
    /// </summary>
    public static IPAddress ToIPAddress(UInt128 address, long scopeId = 0)
    {
        if (IsIpv4Mapped(address))
            return Ipv4Address.ToIPAddress((uint)address);
        Span<byte> bytes = stackalloc byte[Ipv6Packet.AddressLength];
        BinaryPrimitives.WriteUInt128BigEndian(bytes, address);
        return new IPAddress(bytes, scopeId);
    }

    /// <summary>::ffff:a.b.c.d for the IPv4 address <paramref name="ipv4"/> (most significant byte first).</summary>
    public static UInt128 MapIpv4(uint ipv4) => ((UInt128)0xFFFF << 32) | ipv4;

    /// <summary>True for ::ffff:0:0/96, an IPv4 address in IPv6 form (RFC 4291 2.5.5.2).</summary>
    public static bool IsIpv4Mapped(UInt128 address) => address >> 32 == 0xFFFF;

    /// <summary>True for fe80::/10, a link-local unicast address (RFC 4291 2.5.6): it names a host only together with an interface.</summary>
    public static bool IsLinkLocal(UInt128 address) => address >> 118 == 0x3FA;
}
