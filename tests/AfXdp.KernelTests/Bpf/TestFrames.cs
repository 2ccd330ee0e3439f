using System.Buffers.Binary;
using System.Net;

namespace AfXdp.KernelTests.Bpf;

/// <summary>Hand-made frames for steering tests: only the fields a filter reads are meaningful (no checksums).</summary>
internal static class TestFrames
{
    public const byte UdpProtocol = 17, Tcp = 6, Icmp = 1, Icmpv6 = 58;

    /// <summary>Ethernet (02:.. MACs), an optional VLAN tag (TPID 0x8100 or 0x88a8, TCI), then <paramref name="payload"/>.</summary>
    public static byte[] Ethernet(ushort etherType, byte[] payload, ushort? tci = null, ushort tpid = 0x8100)
    {
        var frame = new List<byte>([0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01]);
        if (tci is { } tag)
            frame.AddRange([(byte)(tpid >> 8), (byte)tpid, (byte)(tag >> 8), (byte)tag]);
        frame.AddRange([(byte)(etherType >> 8), (byte)etherType]);
        frame.AddRange(payload);
        return [.. frame];
    }

    /// <summary>An IPv4 header (<paramref name="headerWords"/> 4-byte words, options zero) and <paramref name="l4"/>.</summary>
    public static byte[] Ipv4(byte protocol, string destination, byte[] l4, ushort fragmentOffset = 0, int headerWords = 5)
    {
        var header = new byte[headerWords * 4];
        header[0] = (byte)(0x40 | headerWords);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(2), (ushort)(header.Length + l4.Length));
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(6), fragmentOffset);
        header[8] = 64;
        header[9] = protocol;
        IPAddress.Parse("10.99.0.1").GetAddressBytes().CopyTo(header, 12);
        IPAddress.Parse(destination).GetAddressBytes().CopyTo(header, 16);
        return [.. header, .. l4];
    }

    public static byte[] Ipv6(byte nextHeader, string destination, byte[] l4)
    {
        var header = new byte[40];
        header[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(4), (ushort)l4.Length);
        header[6] = nextHeader;
        header[7] = 64;
        IPAddress.Parse("fd00::1").GetAddressBytes().CopyTo(header, 8);
        IPAddress.Parse(destination).GetAddressBytes().CopyTo(header, 24);
        return [.. header, .. l4];
    }

    /// <summary>A UDP (8-byte) or TCP (20-byte) header with the ports, and a few payload bytes.</summary>
    public static byte[] Ports(byte protocol, ushort destinationPort, ushort sourcePort = 40000)
    {
        var header = new byte[(protocol == Tcp ? 20 : 8) + 6];
        BinaryPrimitives.WriteUInt16BigEndian(header, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(2), destinationPort);
        return header;
    }

    public static byte[] Udp4(string destination, ushort port, ushort? tci = null) => Ethernet(0x0800, Ipv4(UdpProtocol, destination, Ports(UdpProtocol, port)), tci);

    public static byte[] Tcp4(string destination, ushort port) => Ethernet(0x0800, Ipv4(Tcp, destination, Ports(Tcp, port)));

    public static byte[] Udp6(string destination, ushort port) => Ethernet(0x86dd, Ipv6(UdpProtocol, destination, Ports(UdpProtocol, port)));

    public static byte[] Tcp6(string destination, ushort port) => Ethernet(0x86dd, Ipv6(Tcp, destination, Ports(Tcp, port)));

    public static byte[] Arp() => Ethernet(0x0806, new byte[28]);

    /// <summary>An ARP packet (28 bytes, RFC 826) with only the operation and the target protocol address set.</summary>
    public static byte[] Arp(ushort operation, string target)
    {
        var arp = new byte[28];
        BinaryPrimitives.WriteUInt16BigEndian(arp.AsSpan(6), operation);
        IPAddress.Parse(target).GetAddressBytes().CopyTo(arp, 24);
        return Ethernet(0x0806, arp);
    }

    /// <summary>An ICMP (or ICMPv6) message of <paramref name="length"/> bytes whose first byte is <paramref name="type"/>.</summary>
    public static byte[] IcmpMessage(byte type, int length = 8)
    {
        var message = new byte[length];
        message[0] = type;
        return message;
    }
}
