using System.Runtime.InteropServices;
using AfXdp.Bpf;
using AfXdp.Xsk;

namespace AfXdp.Tests.Bpf;

public class InsnTests
{
    sealed class FakeMap(int fd) : IBpfMapReference
    {
        public int Fd { get; } = fd;
        public string Name => "fake";
    }

    static byte[] Bytes(IReadOnlyList<Insn> program) => MemoryMarshal.AsBytes<Insn>(program.ToArray()).ToArray();

    [Fact]
    public void RedirectProgramEncodesAsTheKernelExpects()
    {
        ProgramSpec spec = XskRedirectProgram.Spec(new FakeMap(7));
        // clang -O2 -target bpf of: return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
        byte[] expected = Convert.FromHexString(
            "6112100000000000" + // r2 = *(u32 *)(r1 +16)
            "1811000007000000" + // r1 = map[fd 7] ll
            "0000000000000000" +
            "b703000002000000" + // r3 = 2
            "8500000033000000" + // call bpf_redirect_map#51
            "9500000000000000"); // exit
        Assert.Equal(expected, Bytes(spec.Resolve()));
        Assert.Equal("afxdp_redirect", spec.Name);
    }

    [Fact]
    public void DisassemblyReadsLikeBpftoolAndTheVerifierLog()
    {
        ProgramSpec spec = XskRedirectProgram.Spec(new FakeMap(7));
        Assert.Equal(
            "   0: (61) r2 = *(u32 *)(r1 +16)\n" +
            "   1: (18) r1 = map[fake]\n" +
            "   3: (b7) r3 = 2\n" +
            "   4: (85) call bpf_redirect_map#51\n" +
            "   5: (95) exit\n", spec.ToString());
        Assert.Equal("r1 = map[fd:7]", Disassembler.Format(spec.Resolve()[1], spec.Resolve()[2]));
        (Insn low, Insn high) = Insn.LoadImm64(Reg.R0, 0x1234_5678_9abc_def0);
        Assert.Equal("r0 = 0x123456789abcdef0", Disassembler.Format(low, high));
        (low, high) = Insn.LoadImm64(Reg.R3, -1);
        Assert.Equal("r3 = 0xffffffffffffffff", Disassembler.Format(low, high));
    }

    public static TheoryData<string, string> EveryForm => new()
    {
        { Insn.Alu64(AluOp.Add, Reg.R1, -5).ToString(), "r1 += -5" },
        { Insn.Alu64(AluOp.Arsh, Reg.R1, Reg.R2).ToString(), "r1 s>>= r2" },
        { Insn.Alu32(AluOp.Xor, Reg.R3, 7).ToString(), "w3 ^= 7" },
        { Insn.Alu32(AluOp.Mod, Reg.R3, Reg.R9).ToString(), "w3 %= w9" },
        { Insn.Mov32(Reg.R0, Reg.R7).ToString(), "w0 = w7" },
        { Insn.Neg64(Reg.R4).ToString(), "r4 = -r4" },
        { Insn.Neg32(Reg.R4).ToString(), "w4 = -w4" },
        { Insn.ToBigEndian(Reg.R2, 16).ToString(), "r2 = be16 r2" },
        { Insn.ToLittleEndian(Reg.R2, 64).ToString(), "r2 = le64 r2" },
        { Insn.Load(Size.B, Reg.R0, Reg.R1, 13).ToString(), "r0 = *(u8 *)(r1 +13)" },
        { Insn.Load(Size.DW, Reg.R0, Reg.R10, -8).ToString(), "r0 = *(u64 *)(r10 -8)" },
        { Insn.Store(Size.H, Reg.R10, -2, Reg.R4).ToString(), "*(u16 *)(r10 -2) = r4" },
        { Insn.Store(Size.W, Reg.R10, -4, -1).ToString(), "*(u32 *)(r10 -4) = -1" },
        { Insn.Atomic(AtomicOp.Add, Size.DW, Reg.R0, 0, Reg.R1).ToString(), "lock *(u64 *)(r0 +0) += r1" },
        { Insn.Atomic(AtomicOp.Or, Size.W, Reg.R0, 4, Reg.R1).ToString(), "lock *(u32 *)(r0 +4) |= r1" },
        { Insn.Atomic(AtomicOp.FetchAnd, Size.DW, Reg.R2, -8, Reg.R3).ToString(), "r3 = atomic64_fetch_and((u64 *)(r2 -8), r3)" },
        { Insn.Atomic(AtomicOp.FetchXor, Size.W, Reg.R2, -8, Reg.R3).ToString(), "r3 = atomic_fetch_xor((u32 *)(r2 -8), r3)" },
        { Insn.Atomic(AtomicOp.Xchg, Size.DW, Reg.R2, 0, Reg.R3).ToString(), "r3 = atomic64_xchg((u64 *)(r2 +0), r3)" },
        { Insn.Atomic(AtomicOp.CmpXchg, Size.W, Reg.R2, 0, Reg.R3).ToString(), "r0 = atomic_cmpxchg((u32 *)(r2 +0), r0, r3)" },
        { Insn.Jump(JumpOp.Ne, Reg.R2, 17, 3).ToString(), "if r2 != 0x11 goto pc+3" },
        { Insn.Jump(JumpOp.SLe, Reg.R2, Reg.R3, -4).ToString(), "if r2 s<= r3 goto pc-4" },
        { Insn.Jump32(JumpOp.Gt, Reg.R1, 5, -2).ToString(), "if w1 > 0x5 goto pc-2" },
        { Insn.Jump32(JumpOp.Set, Reg.R1, -1, 0).ToString(), "if w1 & 0xffffffff goto pc+0" },
        { Insn.Jump32(JumpOp.Lt, Reg.R1, Reg.R2, 1).ToString(), "if w1 < w2 goto pc+1" },
        { Insn.Jump(9).ToString(), "goto pc+9" },
        { Insn.Call(Helper.KtimeGetNs).ToString(), "call bpf_ktime_get_ns#5" },
        { Insn.Call((Helper)999).ToString(), "call unknown#999" },
        { Insn.CallLocal(4).ToString(), "call pc+4" },
        { Insn.Exit().ToString(), "exit" },
        { new Insn(0xff, 0x12, 3, 4).ToString(), "(invalid: code 0xff regs 0x12 off 3 imm 4)" },
    };

    [Theory]
    [MemberData(nameof(EveryForm))]
    public void EveryInstructionFormHasItsKernelText(string actual, string expected) => Assert.Equal(expected, actual);

    [Fact]
    public void EncodingsMatchTheKernelHeaders()
    {
        // Opcodes from include/uapi/linux/bpf.h and bpf_common.h, as clang emits them.
        Assert.Equal(new Insn(0xdb, 0x10, -8, 0xf1), Insn.Atomic(AtomicOp.CmpXchg, Size.DW, Reg.R0, -8, Reg.R1));
        Assert.Equal(new Insn(0xc3, 0x21, 0, 0x01), Insn.Atomic(AtomicOp.FetchAdd, Size.W, Reg.R1, 0, Reg.R2));
        Assert.Equal(new Insn(0xdc, 0x03, 0, 32), Insn.ToBigEndian(Reg.R3, 32));
        Assert.Equal(new Insn(0xd4, 0x03, 0, 16), Insn.ToLittleEndian(Reg.R3, 16));
        Assert.Equal(new Insn(0x3e, 0x21, 7, 0), Insn.Jump32(JumpOp.Ge, Reg.R1, Reg.R2, 7));
        Assert.Equal(new Insn(0x85, 0x10, 0, 5), Insn.CallLocal(5));
        Assert.Equal(new Insn(0x72, 0x0a, -1, 0x7f), Insn.Store(Size.B, Reg.R10, -1, 0x7f));
        Assert.Equal(new Insn(0x87, 0x04, 0, 0), Insn.Neg64(Reg.R4));
        Assert.Throws<ArgumentOutOfRangeException>(() => Insn.Atomic(AtomicOp.Add, Size.B, Reg.R0, 0, Reg.R1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Insn.ToBigEndian(Reg.R0, 8));
    }

    [Fact]
    public void LabelsResolveToRelativeOffsets()
    {
        (Insn[] program, _) = new Asm()
            .Mov64(Reg.R0, 2)
            .JumpIf(JumpOp.Eq, Reg.R1, 0, "out")
            .Mov64(Reg.R0, 1)
            .Jump("out")
            .Mov64(Reg.R0, 3)
            .Label("out")
            .Exit()
            .Build();
        Assert.Equal(3, program[1].Offset);
        Assert.Equal(1, program[3].Offset);
    }

    [Fact]
    public void LocalCallsResolveToTheFunctionLabel()
    {
        (Insn[] program, _) = new Asm()
            .Call("f")
            .Exit()
            .Label("f")
            .Mov64(Reg.R0, 2)
            .JumpIf32(JumpOp.Eq, Reg.R1, Reg.R2, "end")
            .Label("end")
            .Exit()
            .Build();
        Assert.Equal(1, program[0].Immediate);
        Assert.True(program[0].IsLocalCall);
        Assert.Equal(0, program[3].Offset);
        Assert.Contains("'g'", Assert.Throws<InvalidOperationException>(() => new Asm().Call("g").Build()).Message);
    }

    [Fact]
    public void UndefinedLabelsAndDuplicateLabelsAreErrors()
    {
        Assert.Contains("'nowhere'", Assert.Throws<InvalidOperationException>(() => new Asm().Jump("nowhere").Build()).Message);
        Assert.Throws<ArgumentException>(() => new Asm().Label("a").Label("a"));
    }
}
