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
        Assert.Equal(Insn.Exit(), spec.Instructions[^1]);
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
    public void EveryHeaderReadIsPrecededByABoundsCheck(string filter, int checks)
    {
        // "r5 = r4 + n; if r5 > r3 (data_end) goto pass" before each header past Ethernet (whose check compares r4).
        bool IsBoundsCheck(Insn i) => i.Code == (Insn.JMP | (byte)JumpOp.Gt | Insn.X) && i.Dst == Reg.R5 && i.Src == Reg.R3;
        Assert.Equal(checks, Spec(filter).Instructions.Count(IsBoundsCheck));
    }
}
