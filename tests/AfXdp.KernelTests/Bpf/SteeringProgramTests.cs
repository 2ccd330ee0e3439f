using System.Net;
using AfXdp.Cli.Apps;
using AfXdp.Bpf;
using AfXdp.Xsk;
using AfXdp.KernelTests.Xsk;
using static AfXdp.KernelTests.Bpf.TestFrames;

namespace AfXdp.KernelTests.Bpf;

/// <summary>
/// The generated steering programs, run by the kernel on hand-made frames (BPF_PROG_TEST_RUN):
/// each filter redirects exactly the frames it describes, and counts every verdict.
/// </summary>
public sealed class SteeringProgramTests
{
    public SteeringProgramTests() => KernelTest.RequireRoot();

    /// <summary>Per filter: frames, and whether each should match.</summary>
    static readonly Dictionary<string, (byte[] Frame, bool Matches)[]> Cases = new()
    {
        ["udp dst port 4791"] =
        [
            (Udp4("10.99.0.2", 4791), true),
            (Udp4("10.99.0.2", 4792), false),
            (Tcp4("10.99.0.2", 4791), false),
            (Udp6("fd00::2", 4791), true),
            (Udp4("10.99.0.2", 4791, tci: 100), false), // tagged, and the filter has no "vlan"
            (Ethernet(0x0800, Ipv4(UdpProtocol, "10.99.0.2", Ports(UdpProtocol, 4791), fragmentOffset: 0x0010)), false), // a later fragment: no UDP header
            (Ethernet(0x0800, Ipv4(UdpProtocol, "10.99.0.2", Ports(UdpProtocol, 4791), fragmentOffset: 0x2000)), true), // the first fragment (more-fragments flag, offset 0)
            (Ethernet(0x0800, Ipv4(UdpProtocol, "10.99.0.2", Ports(UdpProtocol, 4791), headerWords: 7)), true), // IPv4 options
            (Udp4("10.99.0.2", 4791)[..36], false), // cut inside the UDP header
            (Udp4("10.99.0.2", 4791)[..14], false), // Ethernet header only
            (Arp(), false),
        ],
        ["ip dst 10.99.0.2 and ip plain and udp dst port 53"] =
        [
            (Udp4("10.99.0.2", 53), true),
            (Ethernet(0x0800, Ipv4(UdpProtocol, "10.99.0.2", Ports(UdpProtocol, 53), fragmentOffset: 0x4000)), true), // don't-fragment: whole
            (Udp4("10.99.0.3", 53), false),
            (Udp4("10.99.0.2", 54), false),
            (Tcp4("10.99.0.2", 53), false),
            (Ethernet(0x0800, Ipv4(UdpProtocol, "10.99.0.2", Ports(UdpProtocol, 53), fragmentOffset: 0x2000)), false), // the first fragment
            (Ethernet(0x0800, Ipv4(UdpProtocol, "10.99.0.2", Ports(UdpProtocol, 53), fragmentOffset: 0x0010)), false), // a later fragment
            (Ethernet(0x0800, Ipv4(UdpProtocol, "10.99.0.2", Ports(UdpProtocol, 53), headerWords: 6)), false),         // IPv4 options
            (Ethernet(0x0800, Ipv4(Icmp, "10.99.0.2", new byte[8])), false),
            (Udp6("fd00::2", 53), false),
            (Udp4("10.99.0.2", 53)[..36], false),
            (Arp(), false),
        ],
        ["tcp dst port 8000-8100"] =
        [
            (Tcp4("10.99.0.2", 8000), true),
            (Tcp4("10.99.0.2", 8050), true),
            (Tcp6("fd00::2", 8100), true),
            (Tcp4("10.99.0.2", 7999), false),
            (Tcp4("10.99.0.2", 8101), false),
            (Udp4("10.99.0.2", 8050), false),
        ],
        ["ip dst 10.99.0.2 and udp"] =
        [
            (Udp4("10.99.0.2", 1), true),
            (Udp4("10.99.0.3", 1), false),
            (Tcp4("10.99.0.2", 1), false),
            (Udp6("fd00::2", 1), false),
        ],
        ["ip dst 192.168.1.200"] =
        [
            (Udp4("192.168.1.200", 1), true), // the address's last byte has its top bit set
            (Udp4("192.168.1.201", 1), false),
        ],
        ["ip6 dst fd00::2"] =
        [
            (Udp6("fd00::2", 1), true),
            (Tcp6("fd00::2", 80), true),
            (Udp6("fd00::3", 1), false),
            (Udp6("fe00::2", 1), false),
            (Udp4("10.99.0.2", 1), false),
        ],
        ["vlan 100 and udp dst port 9"] =
        [
            (Udp4("10.99.0.2", 9, tci: 100), true),
            (Udp4("10.99.0.2", 9, tci: 0xa064), true), // priority 5, VLAN 100
            (Ethernet(0x0800, Ipv4(UdpProtocol, "10.99.0.2", Ports(UdpProtocol, 9)), tci: 100, tpid: 0x88a8), true),
            (Udp4("10.99.0.2", 9, tci: 101), false),
            (Udp4("10.99.0.2", 10, tci: 100), false),
            (Udp4("10.99.0.2", 9), false),
        ],
        ["vlan"] =
        [
            (Arp(), false),
            (Ethernet(0x0806, new byte[28], tci: 7), true),
        ],
        ["ether proto 0x88b5"] =
        [
            (Ethernet(0x88b5, new byte[46]), true),
            (Udp4("10.99.0.2", 9), false),
        ],
        ["arp"] =
        [
            (Arp(), true),
            (Udp4("10.99.0.2", 9), false),
        ],
        ["icmp"] =
        [
            (Ethernet(0x0800, Ipv4(Icmp, "10.99.0.2", new byte[8])), true),
            (Ethernet(0x86dd, Ipv6(Icmpv6, "fd00::2", new byte[8])), false),
        ],
        ["icmp6"] =
        [
            (Ethernet(0x86dd, Ipv6(Icmpv6, "fd00::2", new byte[8])), true),
        ],
        ["arp op request and arp dst 10.99.0.2"] =
        [
            (Arp(1, "10.99.0.2"), true),
            (Arp(2, "10.99.0.2"), false),                // a reply
            (Arp(1, "10.99.0.3"), false),                // for another address
            (Arp(1, "10.99.0.2")[..41], false),          // cut inside the target address
            (Ethernet(0x0806, Arp(1, "10.99.0.2")[14..], tci: 5), false),
            (Udp4("10.99.0.2", 9), false),
        ],
        ["ip dst 10.99.0.2 and ip plain and icmp type echo-request"] =
        [
            (Ethernet(0x0800, Ipv4(Icmp, "10.99.0.2", IcmpMessage(8))), true),
            (Ethernet(0x0800, Ipv4(Icmp, "10.99.0.2", IcmpMessage(0))), false), // an echo reply
            (Ethernet(0x0800, Ipv4(Icmp, "10.99.0.3", IcmpMessage(8))), false),
            (Ethernet(0x0800, Ipv4(Icmp, "10.99.0.2", IcmpMessage(8, length: 4))), false), // under the 8-byte ICMP header
            (Ethernet(0x0800, Ipv4(Icmp, "10.99.0.2", IcmpMessage(8), fragmentOffset: 0x2000)), false),
            (Ethernet(0x0800, Ipv4(UdpProtocol, "10.99.0.2", [8, .. Ports(UdpProtocol, 8)])), false),
            (Ethernet(0x86dd, Ipv6(Icmpv6, "fd00::2", IcmpMessage(8))), false),
        ],
        ["icmp type 3"] =
        [
            (Ethernet(0x0800, Ipv4(Icmp, "10.99.0.2", IcmpMessage(3), headerWords: 6)), true), // past IPv4 options
            (Ethernet(0x0800, Ipv4(Icmp, "10.99.0.2", IcmpMessage(3), fragmentOffset: 0x0010)), false), // a later fragment: no ICMP header
            (Ethernet(0x0800, Ipv4(Icmp, "10.99.0.2", IcmpMessage(8))), false),
        ],
        ["icmp6 type echo-request"] =
        [
            (Ethernet(0x86dd, Ipv6(Icmpv6, "fd00::2", IcmpMessage(128))), true),
            (Ethernet(0x86dd, Ipv6(Icmpv6, "fd00::2", IcmpMessage(135))), false), // neighbour solicitation: the kernel's
            (Ethernet(0x0800, Ipv4(Icmp, "10.99.0.2", IcmpMessage(128))), false),
        ],
        ["ip proto 47"] =
        [
            (Ethernet(0x0800, Ipv4(47, "10.99.0.2", new byte[8])), true),
            (Ethernet(0x0800, Ipv4(UdpProtocol, "10.99.0.2", new byte[8])), false),
        ],
    };

    public static TheoryData<string> Filters => [.. Cases.Keys];

    /// <summary>With a socket in the queue's slot a match is XDP_REDIRECT; without one, XDP_PASS counted as no socket.</summary>
    [Theory]
    [MemberData(nameof(Filters))]
    public void A_filter_redirects_exactly_the_frames_it_describes(string filter)
    {
        using var bed = new XskTestBed(attach: null);
        using XskMap xsks = XskMap.Create("afxdp_xsks", 1);
        using PerCpuArray<ulong> counters = PerCpuArray<ulong>.Create(SteeringProgram.CountersName, SteeringProgram.CounterCount);
        ProgramSpec spec = SteeringProgram.Spec(PacketFilter.Parse(filter), xsks, counters);
        using BpfProgram program = BpfProgram.LoadXdp(spec);
        Assert.Equal(SteeringProgram.ProgramName, program.Name);

        (byte[] Frame, bool Matches)[] cases = Cases[filter];
        foreach ((byte[] frame, _) in cases)
            Assert.Equal(XdpAction.Pass, program.TestRun(frame));
        xsks.Register(bed.Socket);
        for (int i = 0; i < cases.Length; i++)
            Assert.True((cases[i].Matches ? XdpAction.Redirect : XdpAction.Pass) == program.TestRun(cases[i].Frame), $"frame {i} of \"{filter}\" should {(cases[i].Matches ? "" : "not ")}match");

        ulong matching = (ulong)cases.Count(c => c.Matches), other = (ulong)cases.Length - matching;
        Assert.Equal(new SteeringCounters(NotMatched: 2 * other, Redirected: matching, NoSocket: matching), ReadCounters(counters));
    }

    /// <summary>Several filters (the endpoints of a UDP service): a frame matching any one is redirected, a crossed address and port is not.</summary>
    [Fact]
    public void A_frame_matching_any_of_several_filters_is_redirected()
    {
        using var bed = new XskTestBed(attach: null);
        using XskMap xsks = XskMap.Create("afxdp_xsks", 1);
        using PerCpuArray<ulong> counters = PerCpuArray<ulong>.Create(SteeringProgram.CountersName, SteeringProgram.CounterCount);
        PacketFilter[] endpoints = [PacketFilter.Parse("ip dst 10.99.0.2 and ip plain and udp dst port 53"), PacketFilter.Parse("ip dst 10.99.0.3 and ip plain and udp dst port 5353")];
        using BpfProgram program = BpfProgram.LoadXdp(SteeringProgram.Spec(endpoints, xsks, counters));
        xsks.Register(bed.Socket);
        (byte[] Frame, bool Matches)[] cases =
        [
            (Udp4("10.99.0.2", 53), true),
            (Udp4("10.99.0.3", 5353), true),
            (Udp4("10.99.0.2", 5353), false),
            (Udp4("10.99.0.3", 53), false),
            (Ethernet(0x0800, Ipv4(UdpProtocol, "10.99.0.3", Ports(UdpProtocol, 5353), fragmentOffset: 0x2000)), false),
            (Arp(), false),
        ];
        for (int i = 0; i < cases.Length; i++)
            Assert.True((cases[i].Matches ? XdpAction.Redirect : XdpAction.Pass) == program.TestRun(cases[i].Frame), $"frame {i} should {(cases[i].Matches ? "" : "not ")}match");
        Assert.Equal(new SteeringCounters(NotMatched: 4, Redirected: 2, NoSocket: 0), ReadCounters(counters));
    }

    /// <summary>Echo's program (<see cref="EchoResponder.Filters"/>) under its own name: the kernel takes exactly what echo answers for its address and port.</summary>
    [Fact]
    public void Echos_filters_take_arp_requests_pings_and_its_udp_port_for_its_address_only()
    {
        using var bed = new XskTestBed(attach: null);
        using XskMap xsks = XskMap.Create("afxdp_xsks", 1);
        using PerCpuArray<ulong> counters = PerCpuArray<ulong>.Create(SteeringProgram.CountersName, SteeringProgram.CounterCount);
        using BpfProgram program = BpfProgram.LoadXdp(SteeringProgram.Spec(EchoResponder.Filters(IPAddress.Parse("10.99.0.2"), 7), xsks, counters, EchoResponder.ProgramName));
        Assert.Equal("afxdp_echo", program.Name);
        xsks.Register(bed.Socket);
        (byte[] Frame, bool Matches)[] cases =
        [
            (Arp(1, "10.99.0.2"), true),
            (Ethernet(0x0800, Ipv4(Icmp, "10.99.0.2", IcmpMessage(8))), true),
            (Udp4("10.99.0.2", 7), true),
            (Arp(2, "10.99.0.2"), false),
            (Arp(1, "10.99.0.3"), false),
            (Ethernet(0x0800, Ipv4(Icmp, "10.99.0.2", IcmpMessage(0))), false),
            (Ethernet(0x0800, Ipv4(Icmp, "10.99.0.3", IcmpMessage(8))), false),
            (Udp4("10.99.0.2", 8), false),
            (Udp4("10.99.0.3", 7), false),
            (Tcp4("10.99.0.2", 7), false),
            (Ethernet(0x0800, Ipv4(UdpProtocol, "10.99.0.2", Ports(UdpProtocol, 7), headerWords: 6)), false), // IPv4 options: the kernel's
            (Udp4("10.99.0.2", 7, tci: 100), false),
        ];
        for (int i = 0; i < cases.Length; i++)
            Assert.True((cases[i].Matches ? XdpAction.Redirect : XdpAction.Pass) == program.TestRun(cases[i].Frame), $"frame {i} should {(cases[i].Matches ? "" : "not ")}match");
        Assert.Equal(new SteeringCounters(NotMatched: 9, Redirected: 3, NoSocket: 0), ReadCounters(counters));
    }

    static SteeringCounters ReadCounters(PerCpuArray<ulong> counters) =>
        new(counters.Sum((uint)SteeringVerdict.NotMatched), counters.Sum((uint)SteeringVerdict.Redirected), counters.Sum((uint)SteeringVerdict.NoSocket));
}
