using System.Buffers.Binary;

namespace AfXdp.Net;

/// <summary>The ARP opcode (RFC 826).</summary>
public enum ArpOperation : ushort
{
    /// <summary>Who has the target IP? Tell the sender.</summary>
    Request = 1,
    /// <summary>The target IP is at the sender MAC.</summary>
    Reply = 2,
}

/// <summary>A view over an ARP packet for Ethernet and IPv4 (RFC 826), the only pairing on a modern LAN.</summary>
public readonly ref struct ArpPacket
{
    /// <summary>The length of an Ethernet/IPv4 ARP packet; Ethernet padding may follow.</summary>
    public const int Length = 28;

    const int HardwareTypeOffset = 0;
    const int ProtocolTypeOffset = 2;
    const int HardwareLengthOffset = 4;
    const int ProtocolLengthOffset = 5;
    const int OperationOffset = 6;
    const int SenderMacOffset = 8;
    const int SenderIpOffset = 14;
    const int TargetMacOffset = 18;
    const int TargetIpOffset = 24;
    // IANA ARP hardware type 1 (Ethernet).
    const ushort EthernetHardwareType = 1;
    const byte Ipv4AddressLength = 4;

    readonly Span<byte> _bytes;

    ArpPacket(Span<byte> bytes) => _bytes = bytes;

    /// <summary>Wraps <paramref name="bytes"/> if it is a whole Ethernet/IPv4 ARP packet.</summary>
    public static bool TryCreate(Span<byte> bytes, out ArpPacket packet)
    {
        packet = default;
        if (bytes.Length < Length
            || BinaryPrimitives.ReadUInt16BigEndian(bytes[HardwareTypeOffset..]) != EthernetHardwareType
            || BinaryPrimitives.ReadUInt16BigEndian(bytes[ProtocolTypeOffset..]) != (ushort)EtherType.Ipv4
            || bytes[HardwareLengthOffset] != MacAddress.Length
            || bytes[ProtocolLengthOffset] != Ipv4AddressLength)
            return false;
        packet = new ArpPacket(bytes[..Length]);
        return true;
    }

    /// <summary>Request or reply.</summary>
    public ArpOperation Operation => (ArpOperation)BinaryPrimitives.ReadUInt16BigEndian(_bytes[OperationOffset..]);

    /// <summary>The sender's MAC address.</summary>
    public MacAddress SenderMac => new(_bytes[SenderMacOffset..]);

    /// <summary>The sender's IPv4 address, most significant byte first (10.0.0.1 is 0x0A000001).</summary>
    public uint SenderIp => BinaryPrimitives.ReadUInt32BigEndian(_bytes[SenderIpOffset..]);

    /// <summary>The target's MAC address; all zeros in a request.</summary>
    public MacAddress TargetMac => new(_bytes[TargetMacOffset..]);

    /// <summary>The address being asked about (request) or answered to (reply).</summary>
    public uint TargetIp => BinaryPrimitives.ReadUInt32BigEndian(_bytes[TargetIpOffset..]);

    /// <summary>
    /// Rewrites a request in place into the reply "<see cref="TargetIp"/> is at <paramref name="localMac"/>",
    /// addressed to the requester. The Ethernet header is the caller's: send it to the old <see cref="SenderMac"/>.
    /// </summary>
    public void ConvertToReply(MacAddress localMac) =>
        Write(_bytes, ArpOperation.Reply, localMac, TargetIp, SenderMac, SenderIp);

    /// <summary>Writes a whole Ethernet/IPv4 ARP packet to the start of <paramref name="destination"/> and returns <see cref="Length"/>.</summary>
    public static int Write(Span<byte> destination, ArpOperation operation, MacAddress senderMac, uint senderIp, MacAddress targetMac, uint targetIp)
    {
        if (destination.Length < Length)
            throw new ArgumentException($"an ARP packet needs {Length} bytes, got {destination.Length}.", nameof(destination));
        BinaryPrimitives.WriteUInt16BigEndian(destination[HardwareTypeOffset..], EthernetHardwareType);
        BinaryPrimitives.WriteUInt16BigEndian(destination[ProtocolTypeOffset..], (ushort)EtherType.Ipv4);
        destination[HardwareLengthOffset] = MacAddress.Length;
        destination[ProtocolLengthOffset] = Ipv4AddressLength;
        BinaryPrimitives.WriteUInt16BigEndian(destination[OperationOffset..], (ushort)operation);
        senderMac.WriteTo(destination[SenderMacOffset..]);
        BinaryPrimitives.WriteUInt32BigEndian(destination[SenderIpOffset..], senderIp);
        targetMac.WriteTo(destination[TargetMacOffset..]);
        BinaryPrimitives.WriteUInt32BigEndian(destination[TargetIpOffset..], targetIp);
        return Length;
    }
}
