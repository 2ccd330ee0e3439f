using System.Buffers.Binary;

namespace AfXdp.Net;

/// <summary>The ICMP message types of ping (RFC 792).</summary>
public enum IcmpV4Type : byte
{
    /// <summary>Echo reply: what a host answers.</summary>
    EchoReply = 0,
    /// <summary>Echo request: what ping sends.</summary>
    EchoRequest = 8,
}

/// <summary>A view over an ICMP echo request or reply (RFC 792), what <c>ping</c> sends.</summary>
public readonly ref struct IcmpV4Echo
{
    /// <summary>Type, code, checksum, identifier and sequence number.</summary>
    public const int HeaderLength = 8;

    const int TypeOffset = 0;
    const int CodeOffset = 1;
    const int ChecksumOffset = 2;
    const int IdentifierOffset = 4;
    const int SequenceNumberOffset = 6;

    readonly Span<byte> _bytes;

    IcmpV4Echo(Span<byte> bytes) => _bytes = bytes;

    /// <summary>Wraps <paramref name="bytes"/> (the whole IPv4 payload: the checksum covers it all) if it is an echo request or reply.</summary>
    public static bool TryCreate(Span<byte> bytes, out IcmpV4Echo echo)
    {
        echo = default;
        if (bytes.Length < HeaderLength || bytes[TypeOffset] is not ((byte)IcmpV4Type.EchoRequest or (byte)IcmpV4Type.EchoReply))
            return false;
        echo = new IcmpV4Echo(bytes);
        return true;
    }

    /// <summary>Request or reply. Setting it leaves the checksum stale (see <see cref="InternetChecksum.Update(ushort, ushort, ushort)"/>).</summary>
    public IcmpV4Type Type
    {
        get => (IcmpV4Type)_bytes[TypeOffset];
        set => _bytes[TypeOffset] = (byte)value;
    }

    /// <summary>The code, 0 for echo messages.</summary>
    public byte Code => _bytes[CodeOffset];

    /// <summary>The Internet checksum over the whole ICMP message.</summary>
    public ushort Checksum
    {
        get => BinaryPrimitives.ReadUInt16BigEndian(_bytes[ChecksumOffset..]);
        set => BinaryPrimitives.WriteUInt16BigEndian(_bytes[ChecksumOffset..], value);
    }

    /// <summary>The identifier the sender chose (ping uses one per process); a reply repeats it.</summary>
    public ushort Identifier => BinaryPrimitives.ReadUInt16BigEndian(_bytes[IdentifierOffset..]);

    /// <summary>The sequence number of the request; a reply repeats it.</summary>
    public ushort SequenceNumber => BinaryPrimitives.ReadUInt16BigEndian(_bytes[SequenceNumberOffset..]);

    /// <summary>The echoed data after the 8-byte header.</summary>
    public Span<byte> Data => _bytes[HeaderLength..];

    /// <summary>True when the checksum over the whole message verifies.</summary>
    public bool IsChecksumValid => InternetChecksum.Sum(_bytes) == 0xFFFF;

    /// <summary>
    /// Turns a request into its reply in place (RFC 792: type 0, identifier, sequence number and
    /// data echoed unchanged), updating the checksum incrementally (RFC 1624) instead of summing the data again.
    /// </summary>
    public void ConvertToReply()
    {
        // Type and code form the first 16-bit word of the message.
        ushort oldWord = (ushort)(_bytes[TypeOffset] << 8 | _bytes[CodeOffset]);
        Type = IcmpV4Type.EchoReply;
        Checksum = InternetChecksum.Update(Checksum, oldWord, (ushort)((byte)IcmpV4Type.EchoReply << 8 | _bytes[CodeOffset]));
    }

    /// <summary>Recomputes the checksum over the message as it now is.</summary>
    public void UpdateChecksum()
    {
        Checksum = 0;
        Checksum = InternetChecksum.Compute(_bytes);
    }
}
