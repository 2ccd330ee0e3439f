using System.Buffers.Binary;
using System.Net;
using AfXdp.Net;

namespace AfXdp.KernelTests;

/// <summary>
/// UDP datagrams damaged on purpose, for a raw IPPROTO_UDP socket (IPv4 or IPv6): the kernel adds the IP header and leaves
/// ours alone (an IPv6 raw socket computes a checksum only when told to, IPV6_CHECKSUM).
/// </summary>
internal static class DamagedDatagram
{
    /// <summary>UDP header and <paramref name="payload"/> with the checksum one bit off: a wrong checksum, not one left for offload (or zero: none).</summary>
    public static byte[] WrongChecksum(IPAddress from, ushort sourcePort, IPAddress to, ushort destinationPort, ReadOnlySpan<byte> payload)
    {
        byte[] datagram = new byte[UdpDatagram.HeaderLength + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(datagram, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(datagram.AsSpan(2), destinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(datagram.AsSpan(4), (ushort)datagram.Length);
        payload.CopyTo(datagram.AsSpan(UdpDatagram.HeaderLength));
        uint pseudo = from.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? InternetChecksum.PseudoHeaderSum(from.GetAddressBytes(), to.GetAddressBytes(), IpProtocol.Udp, datagram.Length)
            : InternetChecksum.PseudoHeaderSum(Ipv4Address.ToUInt32(from), Ipv4Address.ToUInt32(to), IpProtocol.Udp, datagram.Length);
        BinaryPrimitives.WriteUInt16BigEndian(datagram.AsSpan(6), (ushort)(InternetChecksum.Compute(datagram, pseudo) ^ 0x0100));
        return datagram;
    }
}
