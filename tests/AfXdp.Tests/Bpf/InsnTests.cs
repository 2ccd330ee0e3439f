using System.Runtime.InteropServices;
using AfXdp.Bpf;

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
    public void DisassemblyReadsLikeTheVerifierLog()
    {
        ProgramSpec spec = XskRedirectProgram.Spec(new FakeMap(7));
        Assert.Equal(
            "   0: r2 = *(u32 *)(r1 +16)\n" +
            "   1: r1 = map[fd 0] ll\n" +
            "   3: r3 = 2\n" +
            "   4: call bpf_redirect_map#51\n" +
            "   5: exit\n", spec.ToString());
        Assert.Equal("r1 = map[fd 7] ll", Disassembler.Format(spec.Resolve()[1], spec.Resolve()[2]));
        Assert.Equal("if r2 != 17 goto pc+3", Insn.Jump(JumpOp.Ne, Reg.R2, 17, 3).ToString());
        Assert.Equal("if w1 > 5 goto pc-2", Insn.Jump32(JumpOp.Gt, Reg.R1, 5, -2).ToString());
        Assert.Equal("*(u16 *)(r10 -2) = r4", Insn.Store(Size.H, Reg.R10, -2, Reg.R4).ToString());
        Assert.Equal("lock *(u64 *)(r0 +0) += r1", Insn.AtomicAdd64(Reg.R0, 0, Reg.R1).ToString());
        (Insn low, Insn high) = Insn.LoadImm64(Reg.R0, 0x1234_5678_9abc_def0);
        Assert.Equal("r0 = 1311768467463790320 ll", Disassembler.Format(low, high));
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
    public void UndefinedLabelsAndDuplicateLabelsAreErrors()
    {
        Assert.Contains("'nowhere'", Assert.Throws<InvalidOperationException>(() => new Asm().Jump("nowhere").Build()).Message);
        Assert.Throws<ArgumentException>(() => new Asm().Label("a").Label("a"));
    }
}
