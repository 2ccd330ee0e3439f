using System.Net;
using System.Text.RegularExpressions;
using AfXdp.Cli.Apps;
using AfXdp.Bpf;

namespace AfXdp.Tests.Bpf;

/// <summary>The generated code, read without a kernel (the kernel tests run it).</summary>
public class SteeringProgramTests
{
    sealed class FakeMap(string name, int fd) : IBpfMapReference
    {
        public int Fd { get; } = fd;
        public string Name { get; } = name;
    }

    static ProgramSpec Spec(string filter) => SteeringProgram.Spec(PacketFilter.Parse(filter), new FakeMap("afxdp_xsks", 3), new FakeMap("afxdp_verdicts", 4));

    [Fact]
    public void TheProgramIsNamedAndReferencesBothMaps()
    {
        ProgramSpec spec = Spec("udp dst port 4791");
        Assert.Equal("afxdp_steer", spec.Name);
        Assert.Equal(["afxdp_xsks", "afxdp_verdicts"], spec.Maps.Select(m => m.Map.Name));
        Assert.Equal(Instruction.Exit(), spec.Instructions[^1]);
        Assert.Contains("call bpf_redirect_map#51", spec.ToString());
        Assert.Contains("call bpf_map_lookup_elem#1", spec.ToString());
    }

    [Fact]
    public void FieldsAreComparedAsTheyLieInTheFrame()
    {
        string text = Spec("vlan 100 and ip dst 192.168.1.200 and udp dst port 8000-8100").ToString();
        Assert.Contains("r0 = *(u16 *)(r2 +12)", text);           // EtherType
        Assert.Contains("if r0 == 0x81 goto", text);               // 0x8100 as loaded little-endian
        Assert.Contains("if r0 != 0xa888 goto", text);             // 0x88a8
        Assert.Contains("r1 &= 4095", text);                       // the VLAN id of the TCI
        Assert.Contains("if r1 != 0x64 goto", text);               // VLAN 100
        Assert.Contains("if w1 != 0xc801a8c0 goto", text);         // 192.168.1.200, compared in 32 bits
        Assert.Contains("r1 &= 65311", text);                      // fragment offset mask 0x1fff, byte-swapped
        Assert.Contains("if r1 < 0x1f40 goto", text);              // port 8000
        Assert.Contains("if r1 > 0x1fa4 goto", text);              // port 8100
        Assert.DoesNotContain("0xdd86", text);                     // "ip dst" inspects no IPv6
    }

    [Fact]
    public void AProtocolWithoutAnIpVersionInspectsBoth()
    {
        string text = Spec("tcp").ToString();
        Assert.Contains("if r0 == 0x8 goto", text);                // IPv4
        Assert.Contains("if r0 != 0xdd86 goto", text);             // IPv6
        Assert.Contains("r1 = *(u8 *)(r4 +6)", text);              // IPv6 next header
        Assert.Contains("r1 = *(u8 *)(r4 +9)", text);              // IPv4 protocol
    }

    [Theory]
    [InlineData("ether proto 0x88b5", 0)]
    [InlineData("ip6 dst fd00::2", 1)]
    [InlineData("vlan and udp dst port 1", 4)] // the tag, IPv4, IPv6, the ports
    [InlineData("arp op request", 1)]
    [InlineData("arp", 0)]
    [InlineData("icmp6 type echo-request", 2)] // IPv6, the ICMPv6 header
    public void EveryHeaderReadIsPrecededByABoundsCheck(string filter, int checks)
    {
        // "r5 = r4 + n; if r5 > r3 (data_end) goto pass" before each header past Ethernet (whose check compares r4).
        bool IsBoundsCheck(Instruction i) => i.Code == (Opcode.Jmp | (byte)JumpCondition.GreaterThan | Opcode.X) && i.Destination == Register.R5 && i.Source == Register.R3;
        Assert.Equal(checks, Spec(filter).Instructions.Count(IsBoundsCheck));
    }

    [Fact]
    public void EchosProgramCarriesItsNameAndReadsTheArpTargetOperationAndIcmpTypeBehindBoundsChecks()
    {
        ProgramSpec spec = SteeringProgram.Spec(EchoResponder.Filters(IPAddress.Parse("10.99.0.2"), 7), new FakeMap("afxdp_xsks", 3), new FakeMap("afxdp_verdicts", 4), EchoResponder.ProgramName);
        Assert.Equal("afxdp_echo", spec.Name);
        string text = spec.ToString();
        Assert.Contains("if r0 != 0x608 goto", text);              // ARP
        Assert.Contains("r5 += 28", text);                         // the ARP packet (RFC 826) is in the frame
        Assert.Contains("r1 = *(u16 *)(r4 +6)", text);             // its operation
        Assert.Contains("if r1 != 0x100 goto", text);              // request (1), as loaded little-endian
        Assert.Contains("r1 = *(u32 *)(r4 +24)", text);            // its target protocol address
        Assert.Equal(3, Regex.Count(text, "if w1 != 0x200630a goto")); // 10.99.0.2: ARP target, ICMP and UDP destination
        Assert.Contains("r5 += 8", text);                          // the ICMP header (RFC 792) is in the frame
        Assert.Contains("r1 = *(u8 *)(r4 +0)", text);              // its type
        Assert.Contains("if r1 != 0x8 goto", text);                // echo request
        Assert.Contains("if r1 != 0x7 goto", text);                // UDP port 7
    }

    [Fact]
    public void FieldsOfAnotherProtocolAreRefusedWhenTheProgramIsBuilt()
    {
        ArgumentException arp = Assert.Throws<ArgumentException>(() => SteeringProgram.Spec(new PacketFilter { EtherType = 0x0800, ArpOperation = 1 }, new FakeMap("x", 3), new FakeMap("v", 4)));
        Assert.Contains("ArpOperation and an ARP target need EtherType ARP", arp.Message);
        ArgumentException target = Assert.Throws<ArgumentException>(() => SteeringProgram.Spec(new PacketFilter { EtherType = 0x0806, Destination = IPAddress.Parse("fd00::2") }, new FakeMap("x", 3), new FakeMap("v", 4)));
        Assert.Contains("an ARP target is an IPv4 address", target.Message);
        ArgumentException icmp = Assert.Throws<ArgumentException>(() => SteeringProgram.Spec(new PacketFilter { EtherType = 0x0800, Protocol = 17, IcmpType = 8 }, new FakeMap("x", 3), new FakeMap("v", 4)));
        Assert.Contains("IcmpType needs ICMP over IPv4 or ICMPv6 over IPv6", icmp.Message);
    }

    [Fact]
    public void ServedEndpointsAreTriedInTurnAndPlainIpv4LeavesFragmentsAndOptionsToTheKernel()
    {
        // What a UDP service on 10.99.0.2:53 and 10.99.0.3:5353 loads: each filter from the Ethernet header on.
        ProgramSpec spec = SteeringProgram.Spec(
            [PacketFilter.Parse("ip dst 10.99.0.2 and ip plain and udp dst port 53"), PacketFilter.Parse("ip dst 10.99.0.3 and ip plain and udp dst port 5353")],
            new FakeMap("afxdp_xsks", 3), new FakeMap("afxdp_verdicts", 4));
        // 0x8 IPv4, 0x45 version 4 without options, 0xff3f MF | fragment offset, 0x200630a 10.99.0.2, 0x11 UDP,
        // 0x35 port 53; a mismatch of the first filter goes to 28, where the second starts; 0x4 XDP_REDIRECT.
        Assert.Equal("""
               0: (bf) r6 = r1
               1: (61) r2 = *(u32 *)(r6 +0)
               2: (61) r3 = *(u32 *)(r6 +4)
               3: (bf) r4 = r2
               4: (07) r4 += 14
               5: (2d) if r4 > r3 goto pc+22
               6: (69) r0 = *(u16 *)(r2 +12)
               7: (55) if r0 != 0x8 goto pc+20
               8: (bf) r5 = r4
               9: (07) r5 += 20
              10: (2d) if r5 > r3 goto pc+17
              11: (71) r1 = *(u8 *)(r4 +0)
              12: (55) if r1 != 0x45 goto pc+15
              13: (69) r1 = *(u16 *)(r4 +6)
              14: (45) if r1 & 0xff3f goto pc+13
              15: (61) r1 = *(u32 *)(r4 +16)
              16: (56) if w1 != 0x200630a goto pc+11
              17: (71) r1 = *(u8 *)(r4 +9)
              18: (55) if r1 != 0x11 goto pc+9
              19: (07) r4 += 20
              20: (05) goto pc+0
              21: (bf) r5 = r4
              22: (07) r5 += 4
              23: (2d) if r5 > r3 goto pc+4
              24: (69) r1 = *(u16 *)(r4 +2)
              25: (dc) r1 = be16 r1
              26: (55) if r1 != 0x35 goto pc+1
              27: (05) goto pc+24
              28: (bf) r4 = r2
              29: (07) r4 += 14
              30: (2d) if r4 > r3 goto pc+31
              31: (69) r0 = *(u16 *)(r2 +12)
              32: (55) if r0 != 0x8 goto pc+29
              33: (bf) r5 = r4
              34: (07) r5 += 20
              35: (2d) if r5 > r3 goto pc+26
              36: (71) r1 = *(u8 *)(r4 +0)
              37: (55) if r1 != 0x45 goto pc+24
              38: (69) r1 = *(u16 *)(r4 +6)
              39: (45) if r1 & 0xff3f goto pc+22
              40: (61) r1 = *(u32 *)(r4 +16)
              41: (56) if w1 != 0x300630a goto pc+20
              42: (71) r1 = *(u8 *)(r4 +9)
              43: (55) if r1 != 0x11 goto pc+18
              44: (07) r4 += 20
              45: (05) goto pc+0
              46: (bf) r5 = r4
              47: (07) r5 += 4
              48: (2d) if r5 > r3 goto pc+13
              49: (69) r1 = *(u16 *)(r4 +2)
              50: (dc) r1 = be16 r1
              51: (55) if r1 != 0x14e9 goto pc+10
              52: (61) r2 = *(u32 *)(r6 +16)
              53: (18) r1 = map[afxdp_xsks]
              55: (b7) r3 = 2
              56: (85) call bpf_redirect_map#51
              57: (bf) r8 = r0
              58: (b7) r7 = 1
              59: (15) if r0 == 0x4 goto pc+4
              60: (b7) r7 = 2
              61: (05) goto pc+2
              62: (b7) r8 = 2
              63: (b7) r7 = 0
              64: (63) *(u32 *)(r10 -4) = r7
              65: (bf) r2 = r10
              66: (07) r2 += -4
              67: (18) r1 = map[afxdp_verdicts]
              69: (85) call bpf_map_lookup_elem#1
              70: (15) if r0 == 0x0 goto pc+3
              71: (79) r1 = *(u64 *)(r0 +0)
              72: (07) r1 += 1
              73: (7b) *(u64 *)(r0 +0) = r1
              74: (bf) r0 = r8
              75: (95) exit

            """, spec.ToString());
    }
}
