using AfXdp.Apps;
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
        // 0x300630a (10.99.0.3), 0x608 (ARP), 0x8 (IPv4), 0xff3f (MF | fragment offset), 0x700 (port 7),
        // 0x100 (ARP request): network-order fields read by a little-endian load.
        Assert.Equal("""
               0: (bf) r6 = r1
               1: (61) r2 = *(u32 *)(r1 +0)
               2: (61) r3 = *(u32 *)(r1 +4)
               3: (bf) r4 = r2
               4: (07) r4 += 42
               5: (2d) if r4 > r3 goto pc+30
               6: (18) r7 = 0x300630a
               8: (69) r5 = *(u16 *)(r2 +12)
               9: (15) if r5 == 0x608 goto pc+16
              10: (55) if r5 != 0x8 goto pc+25
              11: (71) r5 = *(u8 *)(r2 +14)
              12: (55) if r5 != 0x45 goto pc+23
              13: (61) r5 = *(u32 *)(r2 +30)
              14: (5d) if r5 != r7 goto pc+21
              15: (69) r5 = *(u16 *)(r2 +20)
              16: (45) if r5 & 0xff3f goto pc+19
              17: (71) r5 = *(u8 *)(r2 +23)
              18: (15) if r5 == 0x1 goto pc+4
              19: (55) if r5 != 0x11 goto pc+16
              20: (69) r5 = *(u16 *)(r2 +36)
              21: (55) if r5 != 0x700 goto pc+14
              22: (05) goto pc+7
              23: (71) r5 = *(u8 *)(r2 +34)
              24: (55) if r5 != 0x8 goto pc+11
              25: (05) goto pc+4
              26: (69) r5 = *(u16 *)(r2 +20)
              27: (55) if r5 != 0x100 goto pc+8
              28: (61) r5 = *(u32 *)(r2 +38)
              29: (5d) if r5 != r7 goto pc+6
              30: (61) r2 = *(u32 *)(r6 +16)
              31: (18) r1 = map[fake]
              33: (b7) r3 = 2
              34: (85) call bpf_redirect_map#51
              35: (95) exit
              36: (b7) r0 = 2
              37: (95) exit

            """, spec.ToString());
    }
}
