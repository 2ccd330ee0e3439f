using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;

namespace AfXdp.Net;

/// <summary>The ICMPv6 messages <see cref="IcmpV6"/> understands (RFC 4443 4, RFC 4861 4.3-4.4).</summary>
public enum IcmpV6Type : byte
{
    /// <summary>Echo request (ping -6).</summary>
    EchoRequest = 128,
    /// <summary>Echo reply.</summary>
    EchoReply = 129,
    /// <summary>Neighbour solicitation: IPv6's "who has" (RFC 4861 4.3).</summary>
    NeighborSolicitation = 135,
    /// <summary>Neighbour advertisement: the answer (RFC 4861 4.4).</summary>
    NeighborAdvertisement = 136,
}

/// <summary>
/// A view over an ICMPv6 echo request/reply or neighbour solicitation/advertisement; other
/// message types are rejected. Echo fields are for echo messages, <see cref="TargetAddress"/>
/// for neighbour messages; asking the wrong kind throws <see cref="InvalidOperationException"/>.
/// </summary>
public readonly ref struct IcmpV6
{
    /// <summary>Type, code, checksum, identifier and sequence number.</summary>
    public const int EchoHeaderLength = 8;

    /// <summary>Type, code, checksum, flags/reserved and the 16-byte target (RFC 4861 4.3).</summary>
    public const int NeighborMessageLength = 24;

    const int TypeOffset = 0;
    const int CodeOffset = 1;
    const int ChecksumOffset = 2;
    const int IdentifierOffset = 4;
    const int SequenceNumberOffset = 6;
    const int TargetAddressOffset = 8;

    readonly Span<byte> _bytes;

    IcmpV6(Span<byte> bytes) => _bytes = bytes;

    /// <summary>Wraps <paramref name="bytes"/> (the whole upper-layer payload) if it is one of the <see cref="IcmpV6Type"/> messages, long enough for its fields.</summary>
    public static bool TryCreate(Span<byte> bytes, out IcmpV6 message)
    {
        message = default;
        if (bytes.Length < EchoHeaderLength)
            return false;
        int minimumLength = (IcmpV6Type)bytes[TypeOffset] switch
        {
            IcmpV6Type.EchoRequest or IcmpV6Type.EchoReply => EchoHeaderLength,
            IcmpV6Type.NeighborSolicitation or IcmpV6Type.NeighborAdvertisement => NeighborMessageLength,
            _ => int.MaxValue,
        };
        if (bytes.Length < minimumLength)
            return false;
        message = new IcmpV6(bytes);
        return true;
    }

    /// <summary>The message type.</summary>
    public IcmpV6Type Type => (IcmpV6Type)_bytes[TypeOffset];

    /// <summary>The code, 0 for these messages.</summary>
    public byte Code => _bytes[CodeOffset];

    /// <summary>The checksum, which also covers the IPv6 pseudo-header.</summary>
    public ushort Checksum => BinaryPrimitives.ReadUInt16BigEndian(_bytes[ChecksumOffset..]);

    /// <summary>True for an echo request or reply.</summary>
    public bool IsEcho => Type is IcmpV6Type.EchoRequest or IcmpV6Type.EchoReply;

    /// <summary>True for a neighbour solicitation or advertisement.</summary>
    public bool IsNeighborMessage => Type is IcmpV6Type.NeighborSolicitation or IcmpV6Type.NeighborAdvertisement;

    /// <summary>The echo identifier; throws for a neighbour message.</summary>
    public ushort Identifier => BinaryPrimitives.ReadUInt16BigEndian(EchoHeader[IdentifierOffset..]);

    /// <summary>The echo sequence number; throws for a neighbour message.</summary>
    public ushort SequenceNumber => BinaryPrimitives.ReadUInt16BigEndian(EchoHeader[SequenceNumberOffset..]);

    /// <summary>The address asked about (solicitation) or announced (advertisement).</summary>
    public Span<byte> TargetAddress
    {
        get
        {
            if (!IsNeighborMessage)
                ThrowWrongType("a neighbour");
            return _bytes.Slice(TargetAddressOffset, Ipv6Packet.AddressLength);
        }
    }

    /// <summary>True when the checksum verifies, given <see cref="Ipv6Packet.PseudoHeaderSum"/>.</summary>
    public bool IsChecksumValid(uint pseudoHeaderSum) => InternetChecksum.Sum(_bytes, pseudoHeaderSum) == 0xFFFF;

    /// <summary>Recomputes the checksum, given <see cref="Ipv6Packet.PseudoHeaderSum"/>.</summary>
    public void UpdateChecksum(uint pseudoHeaderSum)
    {
        BinaryPrimitives.WriteUInt16BigEndian(_bytes[ChecksumOffset..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(_bytes[ChecksumOffset..], InternetChecksum.Compute(_bytes, pseudoHeaderSum));
    }

    Span<byte> EchoHeader
    {
        get
        {
            if (!IsEcho)
                ThrowWrongType("an echo");
            return _bytes;
        }
    }

    [DoesNotReturn]
    void ThrowWrongType(string kind) =>
        throw new InvalidOperationException($"this field belongs to {kind} message; this is ICMPv6 type {(byte)Type}.");
}
