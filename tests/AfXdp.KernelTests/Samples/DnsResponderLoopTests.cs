using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using AfXdp.Testing;

namespace AfXdp.KernelTests.Samples;

/// <summary>
/// The DNS sample is no loop partner: facing a service on port 1919 (not a reflector port the UDP service knows)
/// that answers every datagram with the same bytes, and one datagram from it, the exchange dies out. Before, a
/// 12-byte payload with QR clear got NOTIMP every time: 175,493 datagrams in 5 s, and still going.
/// </summary>
public sealed partial class DnsResponderLoopTests
{
    const int PartnerPort = 1919;
    // ErrorRateLimiter.PerSecond: the sample's answers without records to one source in a second.
    const int AnswersWithoutRecordsPerSecond = 10;
    static readonly TimeSpan Window = TimeSpan.FromSeconds(3);

    public DnsResponderLoopTests() => KernelTest.RequireRoot();

    /// <summary>Both modes, and what the partner answers everything with: what the responder makes of it, by its counter's name.</summary>
    public static TheoryData<string, string, string> Cases()
    {
        var cases = new TheoryData<string, string, string>();
        foreach (string mode in (string[])["xdp", "kernel"])
        {
            cases.Add(mode, "text", "dropped");           // no plausible header: never answered
            cases.Add(mode, "status", "notimp");          // a plausible header, opcode STATUS, 12 bytes
            cases.Add(mode, "cut-question", "formerr");   // a plausible header, a question cut inside its name
            cases.Add(mode, "unserved-name", "nxdomain"); // a whole query, for a name not served
        }
        return cases;
    }

    static byte[] Payload(string kind) => kind switch
    {
        "text" => "hello, world, again\n"u8.ToArray(),
        "status" => [0xAB, 0xCD, 0x10, 0x00, 0, 1, 0, 0, 0, 0, 0, 0],
        "cut-question" => [0xAB, 0xCD, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 7, (byte)'e', (byte)'x'],
        _ => [0xAB, 0xCD, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 7, .. "nothere"u8, 0, 0, 1, 0, 1],
    };

    /// <summary>
    /// The partner sends its payload once to the responder, then answers each datagram that comes back with it
    /// again, for 3 s. Text gets nothing; the others get answers without records, which the responder gives a
    /// source 10 a second: the first it holds back ends the exchange
    /// (twice that if the exchange spans a second's turn). Then a query for the served name, from the same address, still gets its records.
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void An_answer_everything_service_and_one_datagram_exchange_a_bounded_count(string mode, string kind, string outcome)
    {
        using VethLab lab = VethLab.Create();
        using var responder = ServiceProcess.Start(lab, VethSide.B, DnsResponderTests.Arguments(lab, mode));
        Assert.True(responder.Serving, responder.Output);
        using Socket partner = lab.Run(VethSide.A, () =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            socket.Bind(new IPEndPoint(lab.AddressA, PartnerPort));
            return socket;
        });

        int answers = AnswerEverything(partner, Payload(kind), new IPEndPoint(lab.AddressB, 53));

        if (outcome == "dropped")
            Assert.Equal(0, answers);
        else
            Assert.InRange(answers, 1, 2 * AnswersWithoutRecordsPerSecond);
        AssertServedNameIsAnswered(lab);
        (int exitCode, string output) = responder.Stop();
        Assert.Equal(0, exitCode);
        Dictionary<string, long> counts = Counts(output);
        Assert.Equal(1, counts["noerror"]);
        if (outcome == "dropped")
            Assert.Equal((1, 0), (counts["dropped"], counts["limited"]));
        else
            Assert.Equal((answers, 1, 0), (counts[outcome], counts["limited"], counts["dropped"]));
    }

    /// <summary>Sends <paramref name="payload"/> to <paramref name="responder"/>, then answers every datagram with it for <see cref="Window"/>; returns how many came.</summary>
    static int AnswerEverything(Socket partner, byte[] payload, IPEndPoint responder)
    {
        partner.ReceiveTimeout = 100;
        partner.SendTo(payload, responder);
        byte[] buffer = new byte[2048];
        EndPoint from = new IPEndPoint(IPAddress.Any, 0);
        int received = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < Window)
        {
            try
            {
                partner.ReceiveFrom(buffer, ref from);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
            {
                continue;
            }
            received++;
            partner.SendTo(payload, from);
        }
        return received;
    }

    /// <summary>www.example.com A from another port of the partner's address: NOERROR with both records (answers with records are not rationed).</summary>
    static void AssertServedNameIsAnswered(VethLab lab)
    {
        using Socket client = lab.Run(VethSide.A, () => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
        client.Connect(new IPEndPoint(lab.AddressB, 53));
        client.ReceiveTimeout = 5000;
        client.Send([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, .. "www"u8, 7, .. "example"u8, 3, .. "com"u8, 0, 0, 1, 0, 1]);
        byte[] reply = new byte[512];
        int length = client.Receive(reply);
        Assert.True(length > 12, $"a reply of {length} bytes");
        Assert.Equal((0x12, 0x34, 0), (reply[0], reply[1], reply[3] & 0xF));
        Assert.Equal(2, reply[7]); // ANCOUNT
    }

    static Dictionary<string, long> Counts(string output)
    {
        Match line = SummaryLine().Match(output);
        Assert.True(line.Success, output);
        return CountPair().Matches(line.Value).ToDictionary(m => m.Groups[1].Value, m => long.Parse(m.Groups[2].Value));
    }

    [GeneratedRegex(@"answered \d+ queries.*$", RegexOptions.Multiline)]
    private static partial Regex SummaryLine();

    [GeneratedRegex(@"(\w+)=(\d+)")]
    private static partial Regex CountPair();
}
