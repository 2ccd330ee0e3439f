using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace AfXdp.Net;

/// <summary>
/// IPv4 addresses as the packet views, policies and endpoints hold them, a uint most significant byte first
/// (10.0.0.1 is 0x0A000001), and as an <see cref="IPAddress"/>: the one place the two forms meet.
/// </summary>
public static class Ipv4Address
{
    /// <summary>The address as a uint, most significant byte first.</summary>
    /// <exception cref="ArgumentException"><paramref name="address"/> is not IPv4.</exception>
    public static uint ToUInt32(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily != AddressFamily.InterNetwork)
            throw new ArgumentException($"{address} is not an IPv4 address.", nameof(address));
        Span<byte> bytes = stackalloc byte[4];
        address.TryWriteBytes(bytes, out _);
        return BinaryPrimitives.ReadUInt32BigEndian(bytes);
    }

    /// <summary>The address as an <see cref="IPAddress"/> (allocates: for logs and set-up, not the packet path).</summary>
    public static IPAddress ToIPAddress(uint address)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, address);
        return new IPAddress(bytes);
    }
}
