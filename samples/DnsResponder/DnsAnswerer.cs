using System.Buffers.Binary;

namespace DnsResponder;

/// <summary>What <see cref="DnsAnswerer.Answer"/> made of a message.</summary>
public enum DnsOutcome : byte
{
    /// <summary>No reply: shorter than a header, or itself a response (answering those could start a loop).</summary>
    Dropped,
    /// <summary>A served name: its A records (or no records for another type: NODATA).</summary>
    NoError,
    /// <summary>A name not served (RCODE 3).</summary>
    NameError,
    /// <summary>A header, but a question that does not parse (RCODE 1).</summary>
    FormatError,
    /// <summary>An opcode other than QUERY, or a zone transfer (RCODE 4).</summary>
    NotImplemented,
    /// <summary>A class other than IN (RCODE 5).</summary>
    Refused,
    /// <summary>EDNS of a version above 0 (extended RCODE 16, BADVERS).</summary>
    BadVersion,
}

/// <summary>
/// An authoritative answerer for A records (RFC 1035, EDNS0 per RFC 6891), in place: the query is
/// rewritten into its reply in the same buffer (header, the question as it came, then the answers
/// and an OPT record if the query had one), so a responder sends back the buffer it received.
/// Allocates nothing; any input, however malformed, gets a reply or <see cref="DnsOutcome.Dropped"/>.
/// </summary>
public static class DnsAnswerer
{
    /// <summary>The fixed DNS header: id, flags and four counts.</summary>
    public const int HeaderLength = 12;

    /// <summary>Seconds a resolver may cache an answer.</summary>
    public const uint Ttl = 300;

    /// <summary>The UDP payload size this responder advertises in EDNS (the DNS flag day 2020 value: no IP fragmentation).</summary>
    public const ushort EdnsPayloadSize = 1232;

    /// <summary>Without EDNS a UDP reply holds at most 512 bytes (RFC 1035 4.2.1).</summary>
    public const int ClassicPayloadSize = 512;

    const ushort TypeA = 1, TypeOpt = 41, TypeIxfr = 251, TypeAny = 255, ClassIn = 1, ClassAny = 255;
    const ushort FlagResponse = 0x8000, FlagAuthoritative = 0x0400, FlagTruncated = 0x0200, FlagRecursionDesired = 0x0100;
    const int OpcodeShift = 11, OpcodeMask = 0xF;
    const byte RcodeFormErr = 1, RcodeNxDomain = 3, RcodeNotImp = 4, RcodeRefused = 5;
    const int AnswerLength = 16, OptLength = 11;
    // A name at offset 12 (the question's), as a compression pointer.
    const ushort PointerToQuestion = 0xC000 | HeaderLength;

    /// <summary>
    /// Rewrites the query in <paramref name="message"/>[..<paramref name="length"/>] into its reply and
    /// returns the reply's length (0 for <see cref="DnsOutcome.Dropped"/>). The reply may be longer than
    /// the query, up to <paramref name="message"/>'s length; answers that do not fit set TC.
    /// </summary>
    public static int Answer(Span<byte> message, int length, DnsZone zone, out DnsOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(zone);
        if ((uint)length > (uint)message.Length)
            throw new ArgumentOutOfRangeException(nameof(length), length, "the query is longer than the buffer");
        outcome = DnsOutcome.Dropped;
        if (length < HeaderLength)
            return 0;
        ushort flags = BinaryPrimitives.ReadUInt16BigEndian(message[2..]);
        if ((flags & FlagResponse) != 0)
            return 0;
        if (((flags >> OpcodeShift) & OpcodeMask) != 0)
            return HeaderOnly(message, flags, RcodeNotImp, DnsOutcome.NotImplemented, out outcome);
        ReadOnlySpan<byte> query = message[..length];
        if (Count(query, 4) != 1 || Count(query, 6) != 0 || Count(query, 8) != 0)
            return HeaderOnly(message, flags, RcodeFormErr, DnsOutcome.FormatError, out outcome);

        Span<byte> name = stackalloc byte[DnsZone.MaxNameLength];
        int offset = HeaderLength;
        if (!TryReadName(query, ref offset, name, out int nameLength) || offset + 4 > length)
            return HeaderOnly(message, flags, RcodeFormErr, DnsOutcome.FormatError, out outcome);
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(query[offset..]);
        ushort @class = BinaryPrimitives.ReadUInt16BigEndian(query[(offset + 2)..]);
        int questionEnd = offset + 4;
        if (!TryReadEdns(query, questionEnd, Count(query, 10), out bool edns, out ushort requestorSize, out byte version))
            return HeaderOnly(message, flags, RcodeFormErr, DnsOutcome.FormatError, out outcome);

        // Room for the reply: what the buffer holds, and what the requestor said it can take.
        int limit = Math.Min(message.Length, edns ? Math.Clamp((int)requestorSize, ClassicPayloadSize, EdnsPayloadSize) : ClassicPayloadSize);
        int end = questionEnd;
        int reserved = edns ? OptLength : 0;
        byte rcode = 0;
        ushort answers = 0, replyFlags = (ushort)(FlagResponse | FlagAuthoritative | (flags & FlagRecursionDesired));
        if (edns && version != 0)
            outcome = DnsOutcome.BadVersion;
        else if (@class != ClassIn && @class != ClassAny)
            (rcode, outcome) = (RcodeRefused, DnsOutcome.Refused);
        else if (type is >= TypeIxfr and < TypeAny)
            (rcode, outcome) = (RcodeNotImp, DnsOutcome.NotImplemented); // IXFR, AXFR, MAILB, MAILA: not over UDP here
        else if (!zone.TryGetAddresses(name[..nameLength], out ReadOnlySpan<byte> addresses))
            (rcode, outcome) = (RcodeNxDomain, DnsOutcome.NameError);
        else
        {
            outcome = DnsOutcome.NoError;
            if (type is TypeA or TypeAny)
            {
                for (int i = 0; i < addresses.Length; i += 4)
                {
                    if (end + AnswerLength + reserved > limit)
                    {
                        // RFC 2181 9: a truncated answer says so; the resolver retries over TCP.
                        replyFlags |= FlagTruncated;
                        break;
                    }
                    WriteAnswer(message[end..], addresses.Slice(i, 4));
                    end += AnswerLength;
                    answers++;
                }
            }
        }
        if (end + reserved > limit)
            return HeaderOnly(message, flags, RcodeFormErr, DnsOutcome.FormatError, out outcome); // a question too long to send back within the limit
        if (edns)
        {
            WriteOpt(message[end..], outcome == DnsOutcome.BadVersion);
            end += OptLength;
        }
        WriteHeader(message, (ushort)(replyFlags | rcode), questions: 1, answers, additional: (ushort)(edns ? 1 : 0));
        return end;
    }

    /// <summary>
    /// Reads the name at <paramref name="offset"/> into <paramref name="name"/> in lower-case wire form and
    /// moves <paramref name="offset"/> past it (past the first pointer if it is compressed). A pointer must
    /// point before the labels that lead to it, so following pointers always ends (no loops).
    /// </summary>
    internal static bool TryReadName(ReadOnlySpan<byte> message, ref int offset, Span<byte> name, out int nameLength)
    {
        nameLength = 0;
        int position = offset, segmentStart = offset, resumeAt = -1;
        while (true)
        {
            if (position >= message.Length)
                return false;
            byte label = message[position];
            if (label == 0)
            {
                if (nameLength >= name.Length)
                    return false;
                name[nameLength++] = 0;
                offset = resumeAt >= 0 ? resumeAt : position + 1;
                return true;
            }
            switch (label & 0xC0)
            {
                case 0xC0:
                    if (position + 1 >= message.Length)
                        return false;
                    int target = ((label & 0x3F) << 8) | message[position + 1];
                    if (target >= segmentStart)
                        return false;
                    if (resumeAt < 0)
                        resumeAt = position + 2;
                    position = segmentStart = target;
                    continue;
                case 0x00:
                    if (position + 1 + label > message.Length || nameLength + 1 + label + 1 > name.Length)
                        return false;
                    name[nameLength++] = label;
                    // Names compare case-insensitively in ASCII only (RFC 4343).
                    foreach (byte b in message.Slice(position + 1, label))
                        name[nameLength++] = b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b | 0x20) : b;
                    position += 1 + label;
                    continue;
                default:
                    return false; // 0x40 and 0x80: extended label types (RFC 6891 5), none in use
            }
        }
    }

    /// <summary>Walks the additional section; an OPT record (at most one, owner the root) gives EDNS. False when a record does not parse.</summary>
    static bool TryReadEdns(ReadOnlySpan<byte> query, int offset, int records, out bool edns, out ushort payloadSize, out byte version)
    {
        (edns, payloadSize, version) = (false, 0, 0);
        Span<byte> owner = stackalloc byte[DnsZone.MaxNameLength];
        for (int i = 0; i < records; i++)
        {
            if (!TryReadName(query, ref offset, owner, out int ownerLength) || offset + 10 > query.Length)
                return false;
            ushort type = BinaryPrimitives.ReadUInt16BigEndian(query[offset..]);
            int dataLength = BinaryPrimitives.ReadUInt16BigEndian(query[(offset + 8)..]);
            if (offset + 10 + dataLength > query.Length)
                return false;
            if (type == TypeOpt)
            {
                if (edns || ownerLength != 1)
                    return false; // RFC 6891 6.1.1: one OPT, owned by the root
                (edns, payloadSize, version) = (true, BinaryPrimitives.ReadUInt16BigEndian(query[(offset + 2)..]), query[offset + 5]);
            }
            offset += 10 + dataLength;
        }
        return true;
    }

    static void WriteAnswer(Span<byte> at, ReadOnlySpan<byte> address)
    {
        BinaryPrimitives.WriteUInt16BigEndian(at, PointerToQuestion);
        BinaryPrimitives.WriteUInt16BigEndian(at[2..], TypeA);
        BinaryPrimitives.WriteUInt16BigEndian(at[4..], ClassIn);
        BinaryPrimitives.WriteUInt32BigEndian(at[6..], Ttl);
        BinaryPrimitives.WriteUInt16BigEndian(at[10..], 4);
        address.CopyTo(at[12..]);
    }

    /// <summary>Our OPT: root owner, our payload size, extended RCODE (BADVERS is 16: 1 in the upper bits), version 0, no DO, no options.</summary>
    static void WriteOpt(Span<byte> at, bool badVersion)
    {
        at[0] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(at[1..], TypeOpt);
        BinaryPrimitives.WriteUInt16BigEndian(at[3..], EdnsPayloadSize);
        BinaryPrimitives.WriteUInt32BigEndian(at[5..], badVersion ? 0x0100_0000u : 0);
        BinaryPrimitives.WriteUInt16BigEndian(at[9..], 0);
    }

    /// <summary>A reply of the header alone (no question: it did not parse or is not ours to echo) with <paramref name="rcode"/>.</summary>
    static int HeaderOnly(Span<byte> message, ushort flags, byte rcode, DnsOutcome why, out DnsOutcome outcome)
    {
        outcome = why;
        // Opcode and RD are kept (RFC 1035 4.1.1); AA is not claimed for what was not answered.
        WriteHeader(message, (ushort)(FlagResponse | (flags & (OpcodeMask << OpcodeShift)) | (flags & FlagRecursionDesired) | rcode), 0, 0, 0);
        return HeaderLength;
    }

    static void WriteHeader(Span<byte> message, ushort flags, ushort questions, ushort answers, ushort additional)
    {
        BinaryPrimitives.WriteUInt16BigEndian(message[2..], flags);
        BinaryPrimitives.WriteUInt16BigEndian(message[4..], questions);
        BinaryPrimitives.WriteUInt16BigEndian(message[6..], answers);
        BinaryPrimitives.WriteUInt16BigEndian(message[8..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(message[10..], additional);
    }

    static ushort Count(ReadOnlySpan<byte> query, int offset) => BinaryPrimitives.ReadUInt16BigEndian(query[offset..]);
}
