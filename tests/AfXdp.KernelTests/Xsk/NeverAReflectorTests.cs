using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using AfXdp.Testing;
using AfXdp.Net;
using AfXdp.TestShared;

namespace AfXdp.KernelTests.Xsk;

/// <summary>
/// `afxdp echo` answers only what a correct host answers (RFC 1122): every probe of <see cref="EchoProbes"/>
/// is sent from the peer with AF_PACKET, the peer's wire is watched for replies for a bounded time,
/// and the valid requests are still answered, exactly. Two echo instances on one segment never loop.
/// </summary>
public sealed partial class NeverAReflectorTests
{
    static readonly TimeSpan Quiet = TimeSpan.FromSeconds(1.5);

    /// <summary>Each reason a refused frame may have, and the counter `afxdp echo` prints for it.</summary>
    static readonly (ReplyVerdict Reason, string Counter)[] ReasonCounters =
    [
        (ReplyVerdict.NotForUs, "ignored"), (ReplyVerdict.Malformed, "malformed"), (ReplyVerdict.BadChecksum, "bad_checksum"),
        (ReplyVerdict.BadSource, "bad_source"), (ReplyVerdict.ReflectorPort, "reflector_port"),
    ];

    [Fact]
    public void Spoiled_requests_get_no_reply_and_valid_ones_get_exactly_theirs()
    {
        using VethLab lab = VethLab.Create();
        IPAddress address = Spare(lab, 3);
        var hosts = new EchoHosts(MacAddress.Parse(lab.MacA), Ipv4Address.ToUInt32(lab.AddressA), MacAddress.Parse(lab.MacB), Ipv4Address.ToUInt32(address), VethLab.PrefixLength, 7);
        using var echo = EchoProcess.Start(lab, VethSide.B, "echo", "-i", lab.InterfaceB, "--ip", address.ToString(), "-d", "120");
        Assert.Contains($"for {address}/{VethLab.PrefixLength} ", echo.Banner); // the prefix of B's own address on that subnet
        using PacketWire wire = PacketWire.Open(lab, VethSide.A);
        List<EchoProbe> refused = [.. EchoProbes.Refused(hosts)];

        foreach (EchoProbe probe in refused)
            wire.Send(probe.Frame);
        List<byte[]> replies = wire.ReceiveFrom(hosts.HostMac, Quiet);

        Assert.True(replies.Count == 0, $"{replies.Count} replies to spoiled requests, the first: {Convert.ToHexString(replies.FirstOrDefault() ?? [])}");
        foreach (EchoProbe probe in EchoProbes.Valid(hosts))
        {
            wire.Send(probe.Frame);
            AssertAnswered(wire, probe, hosts);
        }

        Dictionary<string, long> counters = echo.Stop();
        Assert.InRange(counters["arp"], 3, 10); // and the peer's kernel's own requests (it answers UDP replies with port unreachable)
        Assert.Equal(1, counters["icmp"]);
        Assert.Equal(3, counters["udp"]);
        // Each probe the steering program takes to the socket is counted under its reason, exactly; the rest
        // (another port, a fragment, a runt) it leaves to the kernel, which drops them: not its address.
        Assert.Equal(Enum.GetValues<ReplyVerdict>().Where(v => v != ReplyVerdict.Answer), ReasonCounters.Select(r => r.Reason)); // every reason has its counter
        foreach ((ReplyVerdict reason, string counter) in ReasonCounters)
        {
            string[] expected = [.. refused.Where(p => p.Verdict == reason && p.Steered).Select(p => p.Name)];
            Assert.True(expected.Length == counters[counter],
                $"{counter}={counters[counter]}, expected {expected.Length}: {string.Join(", ", expected)}");
        }
    }

    /// <summary>
    /// The issue's loop: echo instances for .3 on B and .4 on A, and one datagram spoofed from .4:port to
    /// .3:port. Before, they answered each other ~20,000 times a second, forever; now the datagram is not
    /// answered at all (port 7 is a reflector port; 9000 is the echo's own port), and nothing moves for the window.
    /// </summary>
    [Theory]
    [InlineData(7)]
    [InlineData(9000)]
    public void Two_echo_instances_and_a_spoofed_datagram_do_not_loop(int port)
    {
        using VethLab lab = VethLab.Create();
        IPAddress onB = Spare(lab, 3), onA = Spare(lab, 4);
        using var echoB = EchoProcess.Start(lab, VethSide.B, "echo", "-i", lab.InterfaceB, "--ip", onB.ToString(), "--port", port.ToString(), "-d", "120");
        using var echoA = EchoProcess.Start(lab, VethSide.A, "echo", "-i", lab.InterfaceA, "--ip", onA.ToString(), "--port", port.ToString(), "-d", "120");
        var spoofer = new EchoHosts(MacAddress.Parse(lab.MacA), Ipv4Address.ToUInt32(onA), MacAddress.Parse(lab.MacB), Ipv4Address.ToUInt32(onB), VethLab.PrefixLength, (ushort)port);
        using PacketWire wire = PacketWire.Open(lab, VethSide.A);
        (long txA, long txB) = (TxPackets(lab, VethSide.A), TxPackets(lab, VethSide.B));

        wire.Send(EchoProbes.Udp(spoofer, sourcePort: (ushort)port));
        Thread.Sleep(Quiet);

        // The veth counts every frame each end sent, AF_XDP replies included; only the spoofed one crossed.
        Assert.Equal(1, TxPackets(lab, VethSide.A) - txA);
        Assert.Equal(0, TxPackets(lab, VethSide.B) - txB);
        Dictionary<string, long> b = echoB.Stop(), a = echoA.Stop();
        Assert.Equal(0, b["udp"] + a["udp"]);
        Assert.Equal(1, b["reflector_port"]);
        Assert.Equal(0, a["reflector_port"]);
    }

    /// <summary>The frames the interface sent (`ip netns exec` mounts the namespace's own sysfs).</summary>
    static long TxPackets(VethLab lab, VethSide side) =>
        long.Parse(lab.Exec(side, "cat", $"/sys/class/net/{lab.InterfaceOf(side)}/statistics/tx_packets").Output.Trim());

    /// <summary>
    /// The reply arrives, byte for byte what the unit-tested model makes of the request (so to the peer, and
    /// without bytes past the UDP length). Other frames from the responder meanwhile may only be its ARP
    /// replies to the peer's kernel, which resolves the address to send its port-unreachable errors.
    /// </summary>
    static void AssertAnswered(PacketWire wire, EchoProbe probe, EchoHosts hosts)
    {
        byte[] request = [.. probe.Frame];
        EchoOutcome outcome = EchoReply.TurnAround(request, new EchoIdentity(hosts.Policy, hosts.Port));
        string expected = Convert.ToHexString(request, 0, outcome.Length);
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(5))
        {
            foreach (byte[] frame in wire.ReceiveFrom(hosts.HostMac, TimeSpan.FromMilliseconds(200)))
            {
                if (Convert.ToHexString(frame) == expected)
                {
                    Assert.DoesNotContain("TRAILER", System.Text.Encoding.ASCII.GetString(frame));
                    return;
                }
                Assert.True(EthernetFrame.TryCreate(frame, out EthernetFrame other) && other.EtherType == EtherType.Arp && other.Destination == hosts.PeerMac,
                    $"waiting for the reply to \"{probe.Name}\", the responder sent {Convert.ToHexString(frame)}");
            }
        }
        Assert.Fail($"no reply to the valid \"{probe.Name}\" within 5 s");
    }

    static IPAddress Spare(VethLab lab, byte host)
    {
        byte[] bytes = lab.AddressB.GetAddressBytes();
        bytes[3] = host;
        return new IPAddress(bytes);
    }


    [GeneratedRegex(@"^answered \d+ in [\d.]+ s: (.*)$", RegexOptions.Multiline)]
    private static partial Regex CountersLine();

    /// <summary>`afxdp echo` running in one end of a lab; <see cref="Stop"/> ends it with SIGTERM and reads its counters.</summary>
    sealed class EchoProcess : IDisposable
    {
        readonly Process _process;

        EchoProcess(Process process, string banner)
        {
            _process = process;
            Banner = banner;
        }

        public string Banner { get; }

        public static EchoProcess Start(VethLab lab, VethSide side, params string[] args)
        {
            Process process = KernelTest.StartAfxdpIn(lab, side, args);
            string? banner = process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
            if (banner is null || !banner.StartsWith("answering "))
            {
                process.Kill();
                Assert.Fail($"afxdp echo did not start: {banner}{process.StandardError.ReadToEnd()}");
            }
            return new EchoProcess(process, banner);
        }

        /// <summary>SIGTERM, then the counters of its last line (arp, icmp, udp, ignored, ...).</summary>
        public Dictionary<string, long> Stop()
        {
            ExternalCommand.RunChecked("kill", "-TERM", _process.Id.ToString());
            Assert.True(_process.WaitForExit(TimeSpan.FromSeconds(20)), "afxdp echo did not stop on SIGTERM");
            string output = _process.StandardOutput.ReadToEnd();
            Assert.True(_process.ExitCode == 0, output + _process.StandardError.ReadToEnd());
            Match line = CountersLine().Match(output);
            Assert.True(line.Success, output);
            return line.Groups[1].Value.Split(' ').Select(pair => pair.Split('=')).ToDictionary(kv => kv[0], kv => long.Parse(kv[1]));
        }

        public void Dispose()
        {
            if (!_process.HasExited)
                _process.Kill();
            _process.Dispose();
        }
    }
}
