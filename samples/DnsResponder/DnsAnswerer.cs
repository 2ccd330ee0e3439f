using System.Buffers.Binary;
using System.Diagnostics;

namespace DnsResponder;

/// <summary>What <see cref="DnsAnswerer.Answer(Span{byte}, int, DnsZone, out DnsOutcome)"/> made of a message.</summary>
public enum DnsOutcome : byte
{
    /// <summary>
    /// No reply: not plausibly a query (shorter than a header; a response; TC set; not one question with
    /// empty answer and authority sections and at most two additional records). Answering those could make us
    /// a loop partner of a service that answers anything.
    /// </summary>
    Dropped,
    /// <summary>A served name: its A records (or no records for another type: NODATA).</summary>
    NoError,
    /// <summary>A name not served (RCODE 3).</summary>
    NameError,
    /// <summary>A plausible header, but a question or additional record that does not parse (RCODE 1).</summary>
    FormatError,
    /// <summary>An opcode other than QUERY, or a zone transfer (RCODE 4).</summary>
    NotImplemented,
    /// <summary>A class other than IN (RCODE 5).</summary>
    Refused,
    /// <summary>EDNS of a version above 0 (extended RCODE 16, BADVERS).</summary>
    BadVersion,
    /// <summary>An answer without records (an error, NXDOMAIN or NODATA) to a source over its rate (<see cref="ErrorRateLimiter"/>): not sent.</summary>
    Limited,
}

/// <summary>
/// An authoritative answerer for A records (RFC 1035, EDNS0 per RFC 6891), in place: the query is
/// rewritten into its reply in the same buffer (header, the question as it came, then the answers
/// and an OPT record if the query had one), so a responder sends back the buffer it received.
/// Allocates nothing; any input, however malformed, gets a reply or <see cref="DnsOutcome.Dropped"/>, and
/// costs bounded work: the header, the question's name (at most 255 bytes, 12 pointer hops), and at most two
/// additional records, whose owner names are passed over without following a pointer.
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

    /// <summary>
    /// The additional records a query may carry: an OPT (RFC 6891 6.1.1) and a TSIG or SIG(0), which comes last
    /// (RFC 8945 5.1, RFC 2931 3). A query with more is not answered, so no query costs more than two records' walk.
    /// </summary>
    public const int MaxAdditionalRecords = 2;

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
        ReadOnlySpan<byte> query = message[..length];
        ushort flags = BinaryPrimitives.ReadUInt16BigEndian(query[2..]);
        if (!IsPlausibleQuery(query, flags))
            return 0;
        if (((flags >> OpcodeShift) & OpcodeMask) != 0)
            return HeaderOnly(message, flags, RcodeNotImp, DnsOutcome.NotImplemented, out outcome);

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
    /// <see cref="Answer(Span{byte}, int, DnsZone, out DnsOutcome)"/> for a query from <paramref name="source"/>, whose
    /// answers without records (errors, NXDOMAIN, NODATA) <paramref name="limiter"/> rations: over its rate the reply is
    /// not sent (0, <see cref="DnsOutcome.Limited"/>), so a service that answers anything with something query-like
    /// gets a few answers, and the exchange ends.
    /// </summary>
    public static int Answer(Span<byte> message, int length, DnsZone zone, ErrorRateLimiter limiter, UInt128 source, out DnsOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(limiter);
        int reply = Answer(message, length, zone, out outcome);
        if (reply > 0 && Count(message, 6) == 0 && !limiter.TryTake(source, Stopwatch.GetTimestamp()))
        {
            outcome = DnsOutcome.Limited;
            return 0;
        }
        return reply;
    }

    /// <summary>
    /// What a client's query looks like (RFC 1035 4.1.1): QR and TC clear, one question, no answer or authority
    /// records, at most <see cref="MaxAdditionalRecords"/> additional ones. Anything else gets no reply, not even
    /// FORMERR: a reply to it would be a reply to a reply, or to bytes that were never a query.
    /// </summary>
    static bool IsPlausibleQuery(ReadOnlySpan<byte> query, ushort flags) =>
        (flags & (FlagResponse | FlagTruncated)) == 0
        && Count(query, 4) == 1 && Count(query, 6) == 0 && Count(query, 8) == 0 && Count(query, 10) <= MaxAdditionalRecords;

    /// <summary>
    /// Reads the name at <paramref name="offset"/> into <paramref name="name"/> in lower-case wire form and
    /// moves <paramref name="offset"/> past it (past the first pointer if it is compressed). A pointer must
    /// point before the labels that lead to it (never forwards or into itself), so each hop lands earlier than
    /// the last: read for the question, the message's first name, pointers can only lead back into the 12-byte
    /// header, at most 12 hops. The name holds at most 255 bytes (RFC 1035 3.1), so at most 127 labels.
    /// </summary>
    static bool TryReadName(ReadOnlySpan<byte> message, ref int offset, Span<byte> name, out int nameLength)
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

    /// <summary>
    /// Walks the additional section (at most <see cref="MaxAdditionalRecords"/>); an OPT record (at most one, owner
    /// the root) gives EDNS, another record (TSIG, SIG(0)) is passed over. False when a record does not parse.
    /// </summary>
    static bool TryReadEdns(ReadOnlySpan<byte> query, int offset, int records, out bool edns, out ushort payloadSize, out byte version)
    {
        (edns, payloadSize, version) = (false, 0, 0);
        for (int i = 0; i < records; i++)
        {
            if (!TrySkipName(query, ref offset, out bool root) || offset + 10 > query.Length)
                return false;
            ushort type = BinaryPrimitives.ReadUInt16BigEndian(query[offset..]);
            int dataLength = BinaryPrimitives.ReadUInt16BigEndian(query[(offset + 8)..]);
            if (offset + 10 + dataLength > query.Length)
                return false;
            if (type == TypeOpt)
            {
                if (edns || !root)
                    return false; // RFC 6891 6.1.1: one OPT, owned by the root (a zero byte, not a pointer to one)
                (edns, payloadSize, version) = (true, BinaryPrimitives.ReadUInt16BigEndian(query[(offset + 2)..]), query[offset + 5]);
            }
            offset += 10 + dataLength;
        }
        return true;
    }

    /// <summary>
    /// Moves <paramref name="offset"/> past the name there without reading it: its labels in place, then a zero or
    /// a pointer, which is not followed (where the name ends is all a record's owner is needed for here).
    /// <paramref name="root"/> says whether it is the root, a lone zero. False when it runs past the message, its
    /// labels in place exceed 255 bytes, or it uses an extended label type.
    /// </summary>
    static bool TrySkipName(ReadOnlySpan<byte> message, ref int offset, out bool root)
    {
        root = false;
        for (int position = offset; position < message.Length && position - offset < DnsZone.MaxNameLength;)
        {
            byte label = message[position];
            switch (label & 0xC0)
            {
                case 0xC0:
                    if (position + 1 >= message.Length)
                        return false;
                    offset = position + 2;
                    return true;
                case 0x00 when label == 0:
                    root = position == offset;
                    offset = position + 1;
                    return true;
                case 0x00:
                    position += 1 + label;
                    continue;
                default:
                    return false;
            }
        }
        return false;
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

    static ushort Count(ReadOnlySpan<byte> message, int offset) => BinaryPrimitives.ReadUInt16BigEndian(message[offset..]);
}
