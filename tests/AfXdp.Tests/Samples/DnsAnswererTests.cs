using System.Buffers.Binary;
using System.Text;
using CsCheck;
using DnsResponder;

namespace AfXdp.Tests.Samples;

/// <summary>The DNS sample's codec: answers, errors, and what malformed input gets (never an exception).</summary>
public class DnsAnswererTests
{
    internal static readonly DnsZone Zone = DnsZone.Parse(["www.example.com=192.0.2.10", "www.example.com=192.0.2.11", "a.=198.51.100.1", "www.a=198.51.100.2"]);

    /// <summary>A query: id 0x1234, RD, one question, and an OPT record (EDNS version <paramref name="ednsVersion"/>) unless null.</summary>
    internal static byte[] Query(string name, ushort type = 1, ushort @class = 1, int? ednsVersion = 0, ushort flags = 0x0100, ushort payloadSize = 4096)
    {
        var q = new List<byte> { 0x12, 0x34, (byte)(flags >> 8), (byte)flags, 0, 1, 0, 0, 0, 0, 0, (byte)(ednsVersion is null ? 0 : 1) };
        foreach (string label in name.TrimEnd('.').Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            q.Add((byte)label.Length);
            q.AddRange(Encoding.ASCII.GetBytes(label));
        }
        q.AddRange([0, (byte)(type >> 8), (byte)type, (byte)(@class >> 8), (byte)@class]);
        if (ednsVersion is { } version)
            q.AddRange([0, 0, 41, (byte)(payloadSize >> 8), (byte)payloadSize, 0, (byte)version, 0x80, 0, 0, 0]); // DO set
        return [.. q];
    }

    static (int Length, DnsOutcome Outcome, byte[] Reply) Answer(byte[] query, int bufferSize = 1500)
    {
        var buffer = new byte[Math.Max(bufferSize, query.Length)];
        query.CopyTo(buffer, 0);
        int length = DnsAnswerer.Answer(buffer.AsSpan(0, bufferSize < query.Length ? query.Length : bufferSize), query.Length, Zone, out DnsOutcome outcome);
        return (length, outcome, buffer[..length]);
    }

    static ushort U16(byte[] b, int at) => BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(at));

    [Fact]
    public void A_served_name_gets_its_A_records_after_the_question_it_asked()
    {
        byte[] query = Query("WWW.Example.COM");
        (int length, DnsOutcome outcome, byte[] reply) = Answer(query);
        Assert.Equal(DnsOutcome.NoError, outcome);
        int questionEnd = query.Length - 11;
        Assert.Equal(questionEnd + 2 * 16 + 11, length);
        Assert.Equal(0x1234, U16(reply, 0));
        Assert.Equal(0x8500, U16(reply, 2)); // QR, AA, RD; no RA, RCODE 0
        Assert.Equal([1, 2, 0, 1], [U16(reply, 4), U16(reply, 6), U16(reply, 8), U16(reply, 10)]);
        Assert.Equal(query[12..questionEnd], reply[12..questionEnd]); // the question as asked, case and all
        Assert.Equal(new byte[] { 0xC0, 12, 0, 1, 0, 1, 0, 0, 0x01, 0x2C, 0, 4, 192, 0, 2, 10 }, reply[questionEnd..(questionEnd + 16)]);
        Assert.Equal(new byte[] { 192, 0, 2, 11 }, reply[(questionEnd + 28)..(questionEnd + 32)]);
        // OPT: root, type 41, our size 1232, version 0, DO clear (no DNSSEC here).
        Assert.Equal(new byte[] { 0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 0 }, reply[^11..]);
    }

    [Theory]
    [InlineData("nothere.example.com", 1, DnsOutcome.NameError, 3)]
    [InlineData("example.com", 1, DnsOutcome.NameError, 3)]
    [InlineData("www.example.com", 28, DnsOutcome.NoError, 0)] // AAAA of a served name: no data, no error
    [InlineData("www.example.com", 255, DnsOutcome.NoError, 0)]
    [InlineData("www.example.com", 252, DnsOutcome.NotImplemented, 4)] // AXFR
    public void Other_names_and_types_get_the_rcode_a_server_gives(string name, ushort type, DnsOutcome expected, int rcode)
    {
        (int length, DnsOutcome outcome, byte[] reply) = Answer(Query(name, type));
        Assert.Equal(expected, outcome);
        Assert.Equal(rcode, U16(reply, 2) & 0xF);
        Assert.Equal(1, U16(reply, 4));
        Assert.Equal(type == 255 ? 2 : 0, U16(reply, 6));
        Assert.True(length > 12);
    }

    [Fact]
    public void Class_chaos_is_refused_and_edns_above_version_0_is_badvers()
    {
        Assert.Equal(DnsOutcome.Refused, Answer(Query("version.bind", type: 16, @class: 3)).Outcome);
        (_, DnsOutcome outcome, byte[] reply) = Answer(Query("www.example.com", ednsVersion: 1));
        Assert.Equal(DnsOutcome.BadVersion, outcome);
        Assert.Equal(0, U16(reply, 2) & 0xF);
        Assert.Equal(0, U16(reply, 6));
        Assert.Equal(1, reply[^6]); // extended RCODE 1 << 4 = 16, BADVERS
    }

    [Fact]
    public void Without_edns_a_reply_stays_within_512_bytes_and_says_it_was_truncated()
    {
        var zone = DnsZone.Parse(Enumerable.Range(1, 40).Select(i => $"many.example=10.0.0.{i}"));
        byte[] buffer = new byte[1500];
        byte[] query = Query("many.example", ednsVersion: null);
        query.CopyTo(buffer, 0);
        int length = DnsAnswerer.Answer(buffer, query.Length, zone, out DnsOutcome outcome);
        Assert.Equal(DnsOutcome.NoError, outcome);
        Assert.True(length <= 512, $"{length} bytes");
        Assert.Equal(0x0200, U16(buffer, 2) & 0x0200);
        Assert.Equal((512 - query.Length) / 16, U16(buffer, 6));
    }

    [Fact]
    public void A_reply_never_outgrows_the_buffer_it_is_written_in()
    {
        byte[] query = Query("www.example.com", ednsVersion: null);
        (int length, _, byte[] reply) = Answer(query, bufferSize: query.Length + 20);
        Assert.Equal(query.Length + 16, length);
        Assert.Equal(1, U16(reply, 6));
        Assert.Equal(0x0200, U16(reply, 2) & 0x0200);
    }

    [Fact]
    public void A_compression_pointer_backwards_is_followed()
    {
        // The header's first two bytes (id 0x0161) read as the label "a", the flags' high byte 0 ends the
        // name: "www" plus a pointer to offset 0 is www.a.
        byte[] query = [0x01, 0x61, 0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, (byte)'w', (byte)'w', (byte)'w', 0xC0, 0x00, 0, 1, 0, 1];
        (int length, DnsOutcome outcome, byte[] reply) = Answer(query);
        Assert.Equal(DnsOutcome.NoError, outcome);
        Assert.Equal(query.Length + 16, length);
        Assert.Equal(new byte[] { 198, 51, 100, 2 }, reply[^4..]);
    }

    public static TheoryData<string, byte[]> Malformed => new()
    {
        { "the question cut short", [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, (byte)'w', (byte)'w'] },
        { "no type and class", [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, (byte)'a', 0, 0] },
        { "a pointer to itself", [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1] },
        { "a loop of two", [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, (byte)'a', 0xC0, 12, 0, 1, 0, 1] },
        { "a pointer forwards", [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 14, 1, (byte)'a', 0, 0, 1, 0, 1] },
        { "an OPT owned by a pointer", [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 1, (byte)'a', 0, 0, 1, 0, 1, 0xC0, 14, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0] },
        { "an additional record's owner over 255 bytes", [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 1, (byte)'a', 0, 0, 1, 0, 1, .. Enumerable.Repeat<byte[]>([63, .. new byte[63]], 5).SelectMany(l => l), 0, 0, 16, 0, 1, 0, 0, 0, 0, 0, 0] },
        { "an additional record's owner running off the end", [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 1, (byte)'a', 0, 0, 1, 0, 1, 3, (byte)'k', (byte)'e'] },
        { "a pointer cut in half", [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0] },
        { "an extended label type", [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x41, 0, 0, 1, 0, 1] },
        { "a name over 255 bytes", [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, .. Enumerable.Repeat<byte[]>([63, .. new byte[63]], 5).SelectMany(l => l), 0, 0, 1, 0, 1] },
        { "an additional record cut short", [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 1, (byte)'a', 0, 0, 1, 0, 1, 0, 0, 41] },
        { "two OPT records", [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 2, 1, (byte)'a', 0, 0, 1, 0, 1, 0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0] },
        { "an OPT not owned by the root", [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 1, (byte)'a', 0, 0, 1, 0, 1, 1, (byte)'a', 0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0] },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void A_query_that_does_not_parse_gets_a_bare_formerr(string why, byte[] query)
    {
        (int length, DnsOutcome outcome, byte[] reply) = Answer(query);
        Assert.True(DnsOutcome.FormatError == outcome, why);
        Assert.Equal(12, length);
        Assert.Equal(0x1234, U16(reply, 0));
        Assert.Equal(0x8101, U16(reply, 2)); // QR, RD kept, RCODE 1
        Assert.Equal([0, 0, 0, 0], [U16(reply, 4), U16(reply, 6), U16(reply, 8), U16(reply, 10)]);
    }

    /// <summary>Headers no client's query has: no reply at all, so that a service answering anything gets nothing back.</summary>
    public static TheoryData<string, byte[]> NotQueries => new()
    {
        { "a response", Query("www.example.com", flags: 0x8100) },
        { "a runt of 11 bytes", [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0] },
        { "TC set", Query("www.example.com", flags: 0x0300) },
        { "two questions", [0x12, 0x34, 1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 1, (byte)'a', 0, 0, 1, 0, 1, 1, (byte)'a', 0, 0, 1, 0, 1] },
        { "no question", [0x12, 0x34, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0] },
        { "an answer in a query", [0x12, 0x34, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1, (byte)'a', 0, 0, 1, 0, 1] },
        { "an authority record in a query", [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, (byte)'a', 0, 0, 1, 0, 1] },
        { "three additional records", [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 3, 1, (byte)'a', 0, 0, 1, 0, 1] },
        { "text of 12 bytes or more", "hello, world\n"u8.ToArray() },
        { "an unknown opcode with a count of 0x6f2c questions", [0x12, 0x34, 0x6c, 0x6c, 0x6f, 0x2c, 0, 0, 0, 0, 0, 0] },
        { "the issue's 1,470-byte query with a 361-hop pointer chain", DnsAnswererCostTests.PointerChainQuery(additionalRecords: 59) },
    };

    [Theory]
    [MemberData(nameof(NotQueries))]
    public void What_is_not_plausibly_a_query_gets_no_reply(string why, byte[] message)
    {
        byte[] before = [.. message];
        (int length, DnsOutcome outcome, _) = Answer(message);
        Assert.True((0, DnsOutcome.Dropped) == (length, outcome), why);
        Assert.Equal(before, message);
    }

    [Fact]
    public void Other_opcodes_in_a_plausible_query_are_not_implemented()
    {
        (int length, DnsOutcome outcome, byte[] reply) = Answer(Query("www.example.com", flags: 0x1000)); // opcode 2, STATUS
        Assert.Equal((12, DnsOutcome.NotImplemented), (length, outcome));
        Assert.Equal(0x9004, U16(reply, 2));
        Assert.Equal((12, DnsOutcome.NotImplemented), Pick(Answer(Query("www.example.com", flags: 0x2000)))); // opcode 4, NOTIFY
    }

    /// <summary>A TSIG (or SIG(0)) after the OPT is passed over: this responder signs nothing.</summary>
    [Fact]
    public void A_record_after_the_opt_is_passed_over()
    {
        byte[] query = [.. Query("www.example.com"), 3, (byte)'k', (byte)'e', (byte)'y', 0, 0, 250, 0, 255, 0, 0, 0, 0, 0, 2, 0xAB, 0xCD];
        query[11] = 2;
        (int length, DnsOutcome outcome, byte[] reply) = Answer(query);
        Assert.Equal(DnsOutcome.NoError, outcome);
        Assert.Equal(2, U16(reply, 6));
        Assert.Equal(1, U16(reply, 10)); // our OPT only
        Assert.Equal(query.Length - 17 + 2 * 16, length); // the question, two answers and our OPT, without their TSIG
    }

    /// <summary>An additional record's owner is passed over where it stands: its pointer, 361 hops from a label, is not followed.</summary>
    [Fact]
    public void The_pointer_chain_with_its_records_cut_to_two_is_answered_without_following_the_chain()
    {
        (int length, DnsOutcome outcome, byte[] reply) = Answer(DnsAnswererCostTests.PointerChainQuery(additionalRecords: 2));
        Assert.Equal((12 + 21 + 2 * 16, DnsOutcome.NoError), (length, outcome));
        Assert.Equal([1, 2, 0, 0], [U16(reply, 4), U16(reply, 6), U16(reply, 8), U16(reply, 10)]);
    }

    /// <summary>The longest name there is: 127 one-letter labels, 255 bytes; one label more is refused.</summary>
    [Fact]
    public void A_question_of_255_bytes_is_read_and_of_257_refused()
    {
        var zone = DnsZone.Parse([$"{string.Join('.', Enumerable.Repeat("a", 127))}=192.0.2.1"]);
        foreach ((int labels, DnsOutcome expected) in new[] { (127, DnsOutcome.NoError), (128, DnsOutcome.FormatError) })
        {
            byte[] query = Query(string.Join('.', Enumerable.Repeat("a", labels)));
            byte[] buffer = new byte[1500];
            query.CopyTo(buffer, 0);
            DnsAnswerer.Answer(buffer, query.Length, zone, out DnsOutcome outcome);
            Assert.Equal(expected, outcome);
        }
    }

    [Fact]
    public void Answers_without_records_are_limited_per_source_and_answers_with_records_are_not()
    {
        var limiter = new ErrorRateLimiter();
        byte[] nx = Query("nothere.example"), served = Query("www.example.com"), buffer = new byte[1500];
        for (int i = 0; i < ErrorRateLimiter.PerSecond; i++)
            Assert.Equal(DnsOutcome.NameError, Run(nx, 0x0A00_0001));
        Assert.Equal(DnsOutcome.Limited, Run(nx, 0x0A00_0001));
        Assert.Equal(DnsOutcome.Limited, Run(Query("www.example.com", type: 28), 0x0A00_0001)); // NODATA
        Assert.Equal(DnsOutcome.NoError, Run(served, 0x0A00_0001));

        DnsOutcome Run(byte[] query, uint source)
        {
            query.CopyTo(buffer, 0);
            int length = DnsAnswerer.Answer(buffer, query.Length, Zone, limiter, source, out DnsOutcome outcome);
            Assert.Equal(outcome is DnsOutcome.Limited or DnsOutcome.Dropped, length == 0);
            return outcome;
        }
    }

    [Fact]
    public void A_source_gets_its_tokens_back_each_second()
    {
        var limiter = new ErrorRateLimiter();
        long second = System.Diagnostics.Stopwatch.Frequency;
        for (int i = 0; i < ErrorRateLimiter.PerSecond; i++)
            Assert.True(limiter.TryTake(0x0A00_0001, 5 * second));
        Assert.False(limiter.TryTake(0x0A00_0001, 5 * second + second - 1));
        Assert.True(limiter.TryTake(0x0A00_0001, 6 * second));
    }

    static (int, DnsOutcome) Pick((int Length, DnsOutcome Outcome, byte[] _) r) => (r.Length, r.Outcome);

    [Fact]
    public void Any_bytes_get_a_reply_within_the_buffer_or_none_and_never_an_exception() =>
        Gen.Byte.Array[0, 600].Select(Gen.Int[0, 700]).Sample((bytes, extra) =>
        {
            byte[] buffer = new byte[bytes.Length + extra % 64];
            bytes.CopyTo(buffer, 0);
            int length = DnsAnswerer.Answer(buffer, bytes.Length, Zone, out DnsOutcome outcome);
            Assert.InRange(length, 0, buffer.Length);
            Assert.Equal(outcome == DnsOutcome.Dropped, length == 0);
            if (length != 0)
            {
                Assert.True(length >= 12);
                Assert.Equal(bytes[..2], buffer[..2]);
                Assert.Equal(0x8000, U16(buffer, 2) & 0x8000);
            }
        }, iter: 200_000);

    [Fact]
    public void Mutated_queries_get_a_reply_within_the_buffer_or_none_and_never_an_exception()
    {
        byte[] valid = Query("www.example.com");
        Gen.Select(Gen.Int[0, valid.Length - 1].Array[1, 6], Gen.Byte.Array[6], Gen.Int[0, valid.Length]).Sample((positions, values, cut) =>
        {
            byte[] query = valid[..Math.Max(cut, 1)];
            for (int i = 0; i < positions.Length; i++)
                if (positions[i] < query.Length)
                    query[positions[i]] = values[i];
            byte[] buffer = new byte[600];
            query.CopyTo(buffer, 0);
            int length = DnsAnswerer.Answer(buffer, query.Length, Zone, out DnsOutcome outcome);
            Assert.InRange(length, 0, 600);
            Assert.Equal(outcome == DnsOutcome.Dropped, length == 0);
        }, iter: 200_000);
    }

    [Fact]
    public void Answering_allocates_nothing()
    {
        byte[] query = Query("www.example.com"), nx = Query("nothere.example"), buffer = new byte[1500];
        for (int warm = 0; warm < 100; warm++)
            Run();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
            Run();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        void Run()
        {
            query.CopyTo(buffer, 0);
            DnsAnswerer.Answer(buffer, query.Length, Zone, out _);
            nx.CopyTo(buffer, 0);
            DnsAnswerer.Answer(buffer, nx.Length, Zone, out _);
        }
    }

    [Theory]
    [InlineData("www.example.com", "no records")]
    [InlineData("www.example.com=10.0.0", "'10.0.0' is not an IPv4 address")]
    [InlineData("www.example.com=fd00::1", "'fd00::1' is not an IPv4 address")]
    [InlineData("www..example.com=10.0.0.1", "has an empty label")]
    [InlineData("=10.0.0.1", "the name is empty")]
    [InlineData("é.example=10.0.0.1", "outside printable ASCII")]
    public void A_bad_record_names_itself_and_the_fix(string record, string message)
    {
        var e = Assert.Throws<FormatException>(() => DnsZone.Parse(record == "www.example.com" ? [] : [record]));
        Assert.Contains(message, e.Message);
    }
}
