using System.Buffers.Binary;

namespace AfXdp.Net;

/// <summary>TCP control bits (RFC 9293 3.1, RFC 3168 for ECE and CWR).</summary>
[Flags]
public enum TcpFlags : byte
{
    /// <summary>No bit set.</summary>
    None = 0,
    /// <summary>FIN: the sender has finished sending.</summary>
    Fin = 0x01,
    /// <summary>SYN: synchronise sequence numbers (opens a connection).</summary>
    Syn = 0x02,
    /// <summary>RST: reset the connection.</summary>
    Rst = 0x04,
    /// <summary>PSH: push the data to the application.</summary>
    Psh = 0x08,
    /// <summary>ACK: the acknowledgment number is valid.</summary>
    Ack = 0x10,
    /// <summary>URG: the urgent pointer is valid.</summary>
    Urg = 0x20,
    /// <summary>ECE: ECN echo.</summary>
    Ece = 0x40,
    /// <summary>CWR: congestion window reduced.</summary>
    Cwr = 0x80,
}

/// <summary>
/// A view over a TCP header (RFC 9293 3.1): enough to classify and steer segments, not a TCP stack.
/// Validated once: data offset at least 5 words and within the buffer.
/// </summary>
public readonly ref struct TcpHeader
{
    /// <summary>The length of a header without options (data offset 5).</summary>
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

    /// <summary>The source port.</summary>
    public ushort SourcePort => BinaryPrimitives.ReadUInt16BigEndian(_bytes[SourcePortOffset..]);

    /// <summary>The destination port.</summary>
    public ushort DestinationPort => BinaryPrimitives.ReadUInt16BigEndian(_bytes[DestinationPortOffset..]);

    /// <summary>The sequence number of the segment's first byte.</summary>
    public uint SequenceNumber => BinaryPrimitives.ReadUInt32BigEndian(_bytes[SequenceNumberOffset..]);

    /// <summary>The next sequence number the sender expects (with ACK).</summary>
    public uint AcknowledgmentNumber => BinaryPrimitives.ReadUInt32BigEndian(_bytes[AcknowledgmentNumberOffset..]);

    /// <summary>The header length in bytes, options included (data offset * 4).</summary>
    public int HeaderLength => _bytes.Length;

    /// <summary>The control bits.</summary>
    public TcpFlags Flags => (TcpFlags)_bytes[FlagsOffset];

    /// <summary>The receive window, before scaling.</summary>
    public ushort WindowSize => BinaryPrimitives.ReadUInt16BigEndian(_bytes[WindowOffset..]);

    /// <summary>The checksum over pseudo-header, header and data.</summary>
    public ushort Checksum => BinaryPrimitives.ReadUInt16BigEndian(_bytes[ChecksumOffset..]);

    /// <summary>The urgent pointer (with URG).</summary>
    public ushort UrgentPointer => BinaryPrimitives.ReadUInt16BigEndian(_bytes[UrgentPointerOffset..]);

    /// <summary>The option bytes after the fixed 20; empty for data offset 5.</summary>
    public Span<byte> Options => _bytes[MinimumLength..];
}
