using System.Runtime.InteropServices;
using AfXdp.Bpf;
using AfXdp.Xsk;
using static AfXdp.Bpf.Register;

namespace AfXdp.Tests.Bpf;

public class InstructionTests
{
    sealed class FakeMap(int fd) : IBpfMapReference
    {
        public int Fd { get; } = fd;
        public string Name => "fake";
    }

    static byte[] Bytes(IReadOnlyList<Instruction> program) => MemoryMarshal.AsBytes<Instruction>(program.ToArray()).ToArray();

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
        (Instruction low, Instruction high) = Instruction.LoadImm64(R0, 0x1234_5678_9abc_def0);
        Assert.Equal("r0 = 0x123456789abcdef0", Disassembler.Format(low, high));
        (low, high) = Instruction.LoadImm64(R3, -1);
        Assert.Equal("r3 = 0xffffffffffffffff", Disassembler.Format(low, high));
    }

    public static TheoryData<string, string> EveryForm => new()
    {
        { Instruction.Alu64(AluOperation.Add, R1, -5).ToString(), "r1 += -5" },
        { Instruction.Alu64(AluOperation.ArithmeticShiftRight, R1, R2).ToString(), "r1 s>>= r2" },
        { Instruction.Alu32(AluOperation.Xor, R3, 7).ToString(), "w3 ^= 7" },
        { Instruction.Alu32(AluOperation.Modulo, R3, R9).ToString(), "w3 %= w9" },
        { Instruction.Mov32(R0, R7).ToString(), "w0 = w7" },
        { Instruction.Neg64(R4).ToString(), "r4 = -r4" },
        { Instruction.Neg32(R4).ToString(), "w4 = -w4" },
        { Instruction.ToBigEndian(R2, 16).ToString(), "r2 = be16 r2" },
        { Instruction.ToLittleEndian(R2, 64).ToString(), "r2 = le64 r2" },
        { Instruction.Load(AccessSize.Byte, R0, R1, 13).ToString(), "r0 = *(u8 *)(r1 +13)" },
        { Instruction.Load(AccessSize.DoubleWord, R0, R10, -8).ToString(), "r0 = *(u64 *)(r10 -8)" },
        { Instruction.Store(AccessSize.HalfWord, R10, -2, R4).ToString(), "*(u16 *)(r10 -2) = r4" },
        { Instruction.Store(AccessSize.Word, R10, -4, -1).ToString(), "*(u32 *)(r10 -4) = -1" },
        { Instruction.Atomic(AtomicOperation.Add, AccessSize.DoubleWord, R0, 0, R1).ToString(), "lock *(u64 *)(r0 +0) += r1" },
        { Instruction.Atomic(AtomicOperation.Or, AccessSize.Word, R0, 4, R1).ToString(), "lock *(u32 *)(r0 +4) |= r1" },
        { Instruction.Atomic(AtomicOperation.FetchAnd, AccessSize.DoubleWord, R2, -8, R3).ToString(), "r3 = atomic64_fetch_and((u64 *)(r2 -8), r3)" },
        { Instruction.Atomic(AtomicOperation.FetchXor, AccessSize.Word, R2, -8, R3).ToString(), "r3 = atomic_fetch_xor((u32 *)(r2 -8), r3)" },
        { Instruction.Atomic(AtomicOperation.Exchange, AccessSize.DoubleWord, R2, 0, R3).ToString(), "r3 = atomic64_xchg((u64 *)(r2 +0), r3)" },
        { Instruction.Atomic(AtomicOperation.CompareExchange, AccessSize.Word, R2, 0, R3).ToString(), "r0 = atomic_cmpxchg((u32 *)(r2 +0), r0, r3)" },
        { Instruction.Jump(JumpCondition.NotEqual, R2, 17, 3).ToString(), "if r2 != 0x11 goto pc+3" },
        { Instruction.Jump(JumpCondition.SignedLessThanOrEqual, R2, R3, -4).ToString(), "if r2 s<= r3 goto pc-4" },
        { Instruction.Jump32(JumpCondition.GreaterThan, R1, 5, -2).ToString(), "if w1 > 0x5 goto pc-2" },
        { Instruction.Jump32(JumpCondition.AnyBitSet, R1, -1, 0).ToString(), "if w1 & 0xffffffff goto pc+0" },
        { Instruction.Jump32(JumpCondition.LessThan, R1, R2, 1).ToString(), "if w1 < w2 goto pc+1" },
        { Instruction.Jump(9).ToString(), "goto pc+9" },
        { Instruction.Call(BpfHelper.KtimeGetNs).ToString(), "call bpf_ktime_get_ns#5" },
        { Instruction.Call((BpfHelper)999).ToString(), "call unknown#999" },
        { Instruction.CallLocal(4).ToString(), "call pc+4" },
        { Instruction.Exit().ToString(), "exit" },
        { new Instruction(0xff, 0x12, 3, 4).ToString(), "(invalid: code 0xff regs 0x12 off 3 imm 4)" },
    };

    [Theory]
    [MemberData(nameof(EveryForm))]
    public void EveryInstructionFormHasItsKernelText(string actual, string expected) => Assert.Equal(expected, actual);

    [Fact]
    public void EncodingsMatchTheKernelHeaders()
    {
        // Opcodes from include/uapi/linux/bpf.h and bpf_common.h, as clang emits them.
        Assert.Equal(new Instruction(0xdb, 0x10, -8, 0xf1), Instruction.Atomic(AtomicOperation.CompareExchange, AccessSize.DoubleWord, R0, -8, R1));
        Assert.Equal(new Instruction(0xc3, 0x21, 0, 0x01), Instruction.Atomic(AtomicOperation.FetchAdd, AccessSize.Word, R1, 0, R2));
        Assert.Equal(new Instruction(0xdc, 0x03, 0, 32), Instruction.ToBigEndian(R3, 32));
        Assert.Equal(new Instruction(0xd4, 0x03, 0, 16), Instruction.ToLittleEndian(R3, 16));
        Assert.Equal(new Instruction(0x3e, 0x21, 7, 0), Instruction.Jump32(JumpCondition.GreaterThanOrEqual, R1, R2, 7));
        Assert.Equal(new Instruction(0x85, 0x10, 0, 5), Instruction.CallLocal(5));
        Assert.Equal(new Instruction(0x72, 0x0a, -1, 0x7f), Instruction.Store(AccessSize.Byte, R10, -1, 0x7f));
        Assert.Equal(new Instruction(0x87, 0x04, 0, 0), Instruction.Neg64(R4));
        Assert.Throws<ArgumentOutOfRangeException>(() => Instruction.Atomic(AtomicOperation.Add, AccessSize.Byte, R0, 0, R1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Instruction.ToBigEndian(R0, 8));
    }

    [Fact]
    public void LabelsResolveToRelativeOffsets()
    {
        (Instruction[] program, _) = new Assembler()
            .Mov64(R0, 2)
            .JumpIf(JumpCondition.Equal, R1, 0, "out")
            .Mov64(R0, 1)
            .Jump("out")
            .Mov64(R0, 3)
            .Label("out")
            .Exit()
            .Build();
        Assert.Equal(3, program[1].Offset);
        Assert.Equal(1, program[3].Offset);
    }

    [Fact]
    public void LocalCallsResolveToTheFunctionLabel()
    {
        (Instruction[] program, _) = new Assembler()
            .Call("f")
            .Exit()
            .Label("f")
            .Mov64(R0, 2)
            .JumpIf32(JumpCondition.Equal, R1, R2, "end")
            .Label("end")
            .Exit()
            .Build();
        Assert.Equal(1, program[0].Immediate);
        Assert.True(program[0].IsLocalCall);
        Assert.Equal(0, program[3].Offset);
        Assert.Contains("'g'", Assert.Throws<InvalidOperationException>(() => new Assembler().Call("g").Build()).Message);
    }

    [Fact]
    public void UndefinedLabelsAndDuplicateLabelsAreErrors()
    {
        Assert.Contains("'nowhere'", Assert.Throws<InvalidOperationException>(() => new Assembler().Jump("nowhere").Build()).Message);
        Assert.Throws<ArgumentException>(() => new Assembler().Label("a").Label("a"));
    }
}
