using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using AfXdp.Net;
using AfXdp.Testing;

namespace AfXdp.KernelTests.Samples;

/// <summary>
/// samples/DnsResponder against dig (bind9-dnsutils), a client no one here wrote, in both modes: on the
/// host's own address, which keeps answering ping and TCP; names it does not serve; malformed queries.
/// </summary>
public sealed class DnsResponderTests
{
    public DnsResponderTests() => KernelTest.RequireRoot();

    /// <summary>AF_XDP, AF_XDP coalescing 200 µs (as benchmarks/dns measures it), System.Net.Sockets.</summary>
    public static TheoryData<string> Modes => ["xdp", "xdp-coalesce", "kernel"];

    internal static string[] Arguments(VethLab lab, string mode, params string[] more) =>
        ["-i", lab.InterfaceB, "--ip", lab.AddressB.ToString(), "--record", "www.example.com=192.0.2.10", "--record", "www.example.com=192.0.2.11",
         "-d", "120", .. mode switch { "kernel" => ["--kernel"], "xdp-coalesce" => ["--coalesce-us", "200"], _ => Array.Empty<string>() }, .. more];

    internal static CommandResult Dig(VethLab lab, params string[] args)
    {
        Tools.Require("dig", "bind9-dnsutils");
        return lab.Exec(VethSide.A, "dig", ["+time=2", "+tries=2", $"@{lab.AddressB}", .. args]);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Dig_gets_the_records_on_the_hosts_own_address_while_ping_and_tcp_still_work(string mode)
    {
        using VethLab lab = VethLab.Create();
        using var responder = ServiceProcess.Start(lab, VethSide.B, Arguments(lab, mode));
        Assert.True(responder.Serving, responder.Output);

        CommandResult answer = Dig(lab, "WWW.Example.com", "A");
        Assert.True(answer.Succeeded, answer.Output + answer.Error);
        Assert.Contains("status: NOERROR", answer.Output);
        Assert.Matches(@"flags: qr aa rd;", answer.Output);
        Assert.Matches(@"WWW\.Example\.com\.\s+300\s+IN\s+A\s+192\.0\.2\.10", answer.Output);
        Assert.Matches(@"WWW\.Example\.com\.\s+300\s+IN\s+A\s+192\.0\.2\.11", answer.Output);
        Assert.Contains("EDNS: version: 0, flags:; udp: 1232", answer.Output);
        Assert.Contains("status: NXDOMAIN", Dig(lab, "nothere.example.com").Output);
        Assert.Contains("status: NOERROR", Dig(lab, "+noedns", "www.example.com", "AAAA").Output);

        // The host keeps its address: ping and TCP go to the kernel.
        CommandResult ping = lab.Exec(VethSide.A, "ping", "-c", "3", "-i", "0.2", "-W", "2", lab.AddressB.ToString());
        Assert.True(ping.Succeeded, ping.Output);
        Assert.Contains("3 received", ping.Output);
        Assert.Equal("hello over TCP", TcpExchange(lab, "hello over TCP"));

        (int exitCode, string output) = responder.Stop();
        Assert.Equal(0, exitCode);
        Assert.Contains("noerror=2 nxdomain=1 formerr=0", output);
    }

    /// <summary>
    /// A default veth pair, as a container has: the client's kernel leaves UDP checksums for offload (CHECKSUM_PARTIAL), so
    /// dig's queries arrive with only the pseudo-header sum in the field, and are answered, as the kernel's stack would. A
    /// query with a wrong checksum, from a raw socket, gets no answer; it is counted, and the log says once why it was dropped.
    /// </summary>
    [Fact]
    public void Dig_from_a_default_veth_peer_is_answered_and_a_wrong_checksum_is_counted_told_and_unanswered()
    {
        using VethLab lab = VethLab.Create();
        CommandResult features = lab.Exec(VethSide.A, "ethtool", "-k", lab.InterfaceA);
        Assert.Matches(@"tx-checksum-ip-generic: on", features.Output);
        using var responder = ServiceProcess.Start(lab, VethSide.B, Arguments(lab, "xdp"));
        Assert.True(responder.Serving, responder.Output);

        CommandResult answer = Dig(lab, "www.example.com", "A");
        Assert.True(answer.Succeeded, answer.Output + answer.Error);
        Assert.Matches(@"www\.example\.com\.\s+300\s+IN\s+A\s+192\.0\.2\.10", answer.Output);

        // The same query by hand, its UDP checksum one off; the reply would go to the socket bound to its source port.
        using Socket listener = lab.Run(VethSide.A, () => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 1000 });
        listener.Bind(new IPEndPoint(lab.AddressA, 40053));
        using Socket raw = lab.Run(VethSide.A, () => new Socket(AddressFamily.InterNetwork, SocketType.Raw, ProtocolType.Udp));
        byte[] datagram = DamagedDatagram.WrongChecksum(lab.AddressA, 40053, lab.AddressB, 53, Query("www.example.com"));
        raw.SendTo(datagram, new IPEndPoint(lab.AddressB, 0));
        raw.SendTo(datagram, new IPEndPoint(lab.AddressB, 0));
        Assert.Throws<SocketException>(() => listener.Receive(new byte[512]));

        (int exitCode, string output) = responder.Stop();
        Assert.Equal(0, exitCode);
        Assert.Contains("noerror=1", output);
        Assert.Contains("bad_checksums=2", output);
        Assert.Single(Regex.Matches(output, @"dropped a datagram from [\d.]+:40053 with a wrong IPv4 header or UDP checksum"));
        Assert.DoesNotContain("pseudo-header sum", output);
    }

    /// <summary>
    /// The Generic Host's configuration: with no option at all, the settings from environment variables (the keys the options
    /// map to, docs/hosting.md); then the same run with an option given too, which overrides its variable.
    /// </summary>
    [Fact]
    public void With_settings_from_environment_variables_alone_dig_gets_the_record_and_an_option_overrides_its_variable()
    {
        using VethLab lab = VethLab.Create();
        var environment = new Dictionary<string, string>
        {
            ["AfXdp__Interface"] = lab.InterfaceB,
            ["AfXdp__Endpoints__0"] = $"{lab.AddressB}:53",
            ["Dns__Records__0"] = "www.example.com=192.0.2.10",
        };
        using (var responder = ServiceProcess.Start(lab, VethSide.B, environment, [KernelTest.DotnetHost, ServiceProcess.DnsResponderPath]))
        {
            Assert.True(responder.Serving, responder.Output);
            Assert.Matches(@"www\.example\.com\.\s+300\s+IN\s+A\s+192\.0\.2\.10", Dig(lab, "www.example.com", "A").Output);
            (int exitCode, string output) = responder.Stop();
            Assert.Equal(0, exitCode);
            Assert.Matches(@"xdp: answered 1 queries .* noerror=1 ", output);
        }
        using (var responder = ServiceProcess.Start(lab, VethSide.B, environment, [KernelTest.DotnetHost, ServiceProcess.DnsResponderPath, "--record", "www.example.com=192.0.2.77"]))
        {
            Assert.True(responder.Serving, responder.Output);
            CommandResult answer = Dig(lab, "www.example.com", "A");
            Assert.Matches(@"www\.example\.com\.\s+300\s+IN\s+A\s+192\.0\.2\.77", answer.Output);
            Assert.DoesNotContain("192.0.2.10", answer.Output);
            Assert.Equal(0, responder.Stop().ExitCode);
        }
    }

    /// <summary>
    /// Under the device plugin: `afxdp plugin` owns the program and serves the XSKMAP over its socket; the
    /// sample loads nothing (--xskmap) and dig still gets the record (the lab's neighbours are static, so no ARP is needed).
    /// </summary>
    [Fact]
    public void With_the_device_plugins_xskmap_dig_gets_the_record_and_nothing_is_loaded()
    {
        using VethLab lab = VethLab.Create();
        string directory = Directory.CreateTempSubdirectory("afxdp-dns-plugin-").FullName;
        try
        {
            string socket = Path.Combine(directory, "afxdp.sock");
            using DevicePlugin.RunningCommand plugin = DevicePlugin.RunningCommand.Afxdp(lab, VethSide.B, "plugin", "-i", lab.InterfaceB, "--uds", socket, "-a", "drv");
            plugin.WaitForLine("serving the XSKMAP", TimeSpan.FromSeconds(30));
            uint programId = lab.Status(VethSide.B).Xdp.DrvProgramId;
            Assert.NotEqual(0u, programId);

            using var responder = ServiceProcess.Start(lab, VethSide.B, Arguments(lab, "xdp", "--xskmap", $"uds:{socket}"));
            Assert.True(responder.Serving, responder.Output);
            Assert.Matches(@"program none loaded .*XSKMAP \d+ from .*\(the device plugin's\)", responder.Output);
            Assert.Equal(programId, lab.Status(VethSide.B).Xdp.DrvProgramId);

            CommandResult answer = Dig(lab, "www.example.com", "A");
            Assert.True(answer.Succeeded, answer.Output + answer.Error);
            Assert.Matches(@"www\.example\.com\.\s+300\s+IN\s+A\s+192\.0\.2\.10", answer.Output);
            (int exitCode, string output) = responder.Stop();
            Assert.Equal(0, exitCode);
            Assert.Contains("noerror=1", output);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Malformed_queries_get_formerr_or_no_reply_and_the_responder_keeps_answering(string mode)
    {
        using VethLab lab = VethLab.Create();
        using var responder = ServiceProcess.Start(lab, VethSide.B, Arguments(lab, mode));
        Assert.True(responder.Serving, responder.Output);
        using Socket client = lab.Run(VethSide.A, () => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
        client.Connect(new IPEndPoint(lab.AddressB, 53));
        var reply = new byte[1500];

        // A header, then a question cut inside its name: FORMERR with the id kept.
        client.Send([0xAB, 0xCD, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 7, (byte)'e', (byte)'x']);
        client.ReceiveTimeout = 5000;
        int length = client.Receive(reply);
        Assert.Equal(12, length);
        Assert.Equal(0xABCD, BinaryPrimitives.ReadUInt16BigEndian(reply));
        Assert.Equal(1, reply[3] & 0xF);
        // A pointer loop: FORMERR too.
        client.Send([0xAB, 0xCE, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 1, (byte)'a', 0xC0, 12, 0, 1, 0, 1]);
        Assert.Equal(12, client.Receive(reply));
        Assert.Equal(0xABCE, BinaryPrimitives.ReadUInt16BigEndian(reply));
        Assert.Equal(1, reply[3] & 0xF);

        // Shorter than a header, and a response: nothing comes back.
        client.Send(Encoding.ASCII.GetBytes("junk"));
        client.Send([0xAB, 0xCF, 0x81, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 1, (byte)'a', 0, 0, 1, 0, 1]);
        client.ReceiveTimeout = 1000;
        var silence = Assert.Throws<SocketException>(() => client.Receive(reply));
        Assert.Equal(SocketError.TimedOut, silence.SocketErrorCode);

        Assert.Contains("status: NOERROR", Dig(lab, "www.example.com").Output);
        (int exitCode, string output) = responder.Stop();
        Assert.Equal(0, exitCode);
        Assert.Contains("noerror=1 nxdomain=0 formerr=2", output);
        Assert.Contains("dropped=2", output);
    }

    [Fact]
    public void Bad_arguments_are_one_line_and_exit_code_2()
    {
        using VethLab lab = VethLab.Create();
        using var noRecord = ServiceProcess.Start(lab, VethSide.B, "-i", lab.InterfaceB, "--ip", lab.AddressB.ToString(), "--record", "www.example.com=300.1.2.3");
        (int code, string output) = noRecord.Stop();
        Assert.Equal(2, code);
        Assert.Equal("--record 'www.example.com=300.1.2.3': '300.1.2.3' is not an IPv4 address in dotted form; write e.g. www.example.com=192.0.2.10.", output.Trim());
        using var kernelElsewhere = ServiceProcess.Start(lab, VethSide.B, "-i", lab.InterfaceB, "--ip", "192.0.2.99", "--record", "a.example=192.0.2.1", "--kernel");
        (code, output) = kernelElsewhere.Stop();
        Assert.Equal(2, code);
        Assert.Contains("AddressNotAvailable", output);
        Assert.Single(output.Trim().Split('\n'));
        using var longWait = ServiceProcess.Start(lab, VethSide.B, Arguments(lab, "xdp", "--coalesce-us", "20000"));
        (code, output) = longWait.Stop();
        Assert.Equal(2, code);
        Assert.Equal("--coalesce-us must be from 0 to 10000 (10 ms): it is added to every answer's latency", output.Trim());
    }

    /// <summary>A standard query (RFC 1035 4.1) for <paramref name="name"/>'s A records, recursion desired.</summary>
    static byte[] Query(string name)
    {
        var query = new List<byte> { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 };
        foreach (string label in name.Split('.'))
        {
            query.Add((byte)label.Length);
            query.AddRange(Encoding.ASCII.GetBytes(label));
        }
        query.AddRange([0, 0, 1, 0, 1]);
        return [.. query];
    }

    /// <summary>Sends <paramref name="text"/> over a TCP connection from A to a listener on B's address and returns what B read.</summary>
    static string TcpExchange(VethLab lab, string text)
    {
        using TcpListener listener = lab.Run(VethSide.B, () =>
        {
            var l = new TcpListener(lab.AddressB, 8053);
            l.Start();
            return l;
        });
        Task<string> server = Task.Run(() =>
        {
            using TcpClient accepted = listener.AcceptTcpClient();
            using var reader = new StreamReader(accepted.GetStream());
            return reader.ReadLine() ?? "";
        });
        using Socket client = lab.Run(VethSide.A, () => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        client.Connect(new IPEndPoint(lab.AddressB, 8053));
        client.Send(Encoding.ASCII.GetBytes(text + "\n"));
        Assert.True(server.Wait(TimeSpan.FromSeconds(10)), "the TCP connection to the host carried nothing");
        return server.Result;
    }
}

/// <summary>Tools from Debian packages that some tests drive.</summary>
internal static class Tools
{
    /// <summary>Fails (never skips) naming the tool and its package when <paramref name="tool"/> is not on PATH.</summary>
    public static void Require(string tool, string package)
    {
        bool found = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(dir => File.Exists(System.IO.Path.Combine(dir, tool)));
        Assert.True(found, $"this test needs `{tool}`, which is not installed: apt-get install {package}");
    }
}
