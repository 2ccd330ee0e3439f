using AfXdp.Bpf;

namespace AfXdp.Tests.Bpf;

public class EchoSteeringProgramTests
{
    sealed class FakeMap : IBpfMapReference
    {
        public int Fd => 7;
        public string Name => "fake";
    }

    [Fact]
    public void Program_checks_each_field_at_its_offset_in_the_byte_order_a_packet_load_reads()
    {
        ProgramSpec spec = EchoSteeringProgram.Spec(new FakeMap(), 0x0A630003, 7);

        Assert.Equal("afxdp_echo", spec.Name);
        Assert.False(spec.XdpHasFrags);
        // 50357002 = 0x0300630a (10.99.0.3), 1544 = 0x0608 (ARP), 8 = 0x0008 (IPv4), 65343 = 0xff3f (MF | fragment
        // offset), 1792 = 0x0700 (port 7), 256 = 0x0100 (ARP request): network-order fields read by a little-endian load.
        Assert.Equal("""
               0: r6 = r1
               1: r2 = *(u32 *)(r1 +0)
               2: r3 = *(u32 *)(r1 +4)
               3: r4 = r2
               4: r4 += 42
               5: if r4 > r3 goto pc+30
               6: r7 = 50357002 ll
               8: r5 = *(u16 *)(r2 +12)
               9: if r5 == 1544 goto pc+16
              10: if r5 != 8 goto pc+25
              11: r5 = *(u8 *)(r2 +14)
              12: if r5 != 69 goto pc+23
              13: r5 = *(u32 *)(r2 +30)
              14: if r5 != r7 goto pc+21
              15: r5 = *(u16 *)(r2 +20)
              16: if r5 & 65343 goto pc+19
              17: r5 = *(u8 *)(r2 +23)
              18: if r5 == 1 goto pc+4
              19: if r5 != 17 goto pc+16
              20: r5 = *(u16 *)(r2 +36)
              21: if r5 != 1792 goto pc+14
              22: goto pc+7
              23: r5 = *(u8 *)(r2 +34)
              24: if r5 != 8 goto pc+11
              25: goto pc+4
              26: r5 = *(u16 *)(r2 +20)
              27: if r5 != 256 goto pc+8
              28: r5 = *(u32 *)(r2 +38)
              29: if r5 != r7 goto pc+6
              30: r2 = *(u32 *)(r6 +16)
              31: r1 = map[fd 0] ll
              33: r3 = 2
              34: call bpf_redirect_map#51
              35: exit
              36: r0 = 2
              37: exit

            """, spec.ToString());
    }
}
