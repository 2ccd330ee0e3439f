using System.Buffers.Binary;

namespace AfXdp.Net;

/// <summary>TCP control bits (RFC 9293 3.1, RFC 3168 for ECE and CWR).</summary>
[Flags]
public enum TcpFlags : byte
{
    None = 0,
    Fin = 0x01,
    Syn = 0x02,
    Rst = 0x04,
    Psh = 0x08,
    Ack = 0x10,
    Urg = 0x20,
    Ece = 0x40,
    Cwr = 0x80,
}

/// <summary>
/// A view over a TCP header (RFC 9293 3.1): enough to classify and steer segments, not a TCP stack.
/// Validated once: data offset at least 5 words and within the buffer.
/// </summary>
public readonly ref struct TcpHeader
{
    public const int MinimumLength = 20;

    const int SourcePortOffset = 0;
    const int DestinationPortOffset = 2;
    const int SequenceNumberOffset = 4;
    const int AcknowledgmentNumberOffset = 8;
    const int DataOffsetOffset = 12;
    const int FlagsOffset = 13;
    const int WindowOffset = 14;
    const int ChecksumOffset = 16;
    const int UrgentPointerOffset = 18;

    readonly Span<byte> _bytes;

    TcpHeader(Span<byte> bytes) => _bytes = bytes;

    /// <summary>Wraps the header at the start of <paramref name="bytes"/> (an IP payload); false when the data offset does not hold.</summary>
    public static bool TryCreate(Span<byte> bytes, out TcpHeader header)
    {
        header = default;
        if (bytes.Length < MinimumLength)
            return false;
        int length = (bytes[DataOffsetOffset] >> 4) * 4;
        if (length < MinimumLength || length > bytes.Length)
            return false;
        header = new TcpHeader(bytes[..length]);
        return true;
    }

    public ushort SourcePort => BinaryPrimitives.ReadUInt16BigEndian(_bytes[SourcePortOffset..]);

    public ushort DestinationPort => BinaryPrimitives.ReadUInt16BigEndian(_bytes[DestinationPortOffset..]);

    public uint SequenceNumber => BinaryPrimitives.ReadUInt32BigEndian(_bytes[SequenceNumberOffset..]);

    public uint AcknowledgmentNumber => BinaryPrimitives.ReadUInt32BigEndian(_bytes[AcknowledgmentNumberOffset..]);

    /// <summary>The header length in bytes, options included (data offset * 4).</summary>
    public int HeaderLength => _bytes.Length;

    public TcpFlags Flags => (TcpFlags)_bytes[FlagsOffset];

    public ushort WindowSize => BinaryPrimitives.ReadUInt16BigEndian(_bytes[WindowOffset..]);

    public ushort Checksum => BinaryPrimitives.ReadUInt16BigEndian(_bytes[ChecksumOffset..]);

    public ushort UrgentPointer => BinaryPrimitives.ReadUInt16BigEndian(_bytes[UrgentPointerOffset..]);

    /// <summary>The option bytes after the fixed 20; empty for data offset 5.</summary>
    public Span<byte> Options => _bytes[MinimumLength..];
}
