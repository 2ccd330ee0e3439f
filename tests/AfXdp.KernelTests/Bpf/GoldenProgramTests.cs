using System.Text.RegularExpressions;
using AfXdp.Bpf;
using AfXdp.Testing;
using AfXdp.TestShared;

namespace AfXdp.KernelTests.Bpf;

/// <summary>
/// What we encode is what the kernel runs: programs built with <see cref="Asm"/> are loaded, then the
/// kernel's own view of them (`bpftool prog dump xlated`, and the raw xlated_prog_insns) is compared
/// with our bytes and our disassembly, instruction by instruction, allowing only the rewrites the kernel
/// documents (<see cref="TranslatedProgram"/>), since which of those it makes depends on its build.
/// </summary>
public sealed partial class GoldenProgramTests
{
    public GoldenProgramTests() => KernelTest.RequireRoot();

    /// <summary>
    /// Every instruction form the builder makes, arranged so that the verifier rewrites nothing beyond what
    /// <see cref="TranslatedProgram"/> allows (6.18.44 adds a zero-extension after the 32-bit cmpxchg):
    /// unknown values (bpf_ktime_get_ns) so that every branch goes both ways, stack memory for loads,
    /// stores and atomics, no context fields and no map helpers (those the kernel inlines).
    /// </summary>
    static ProgramSpec EveryInstruction(IBpfMapReference map)
    {
        var asm = new Asm()
            .Call(Helper.KtimeGetNs)
            .Mov64(Reg.R6, Reg.R0)
            .Call(Helper.KtimeGetNs)
            .Mov64(Reg.R7, Reg.R0)
            .Mov32(Reg.R8, -3)
            .Mov32(Reg.R9, Reg.R7)
            .LoadImm64(Reg.R1, 0x1234_5678_9abc_def0)
            .LoadImm64(Reg.R2, -2)
            .LoadMap(Reg.R3, map);
        foreach (AluOp op in new[] { AluOp.Add, AluOp.Sub, AluOp.Mul, AluOp.Or, AluOp.And, AluOp.Lsh, AluOp.Rsh, AluOp.Xor, AluOp.Arsh })
        {
            int imm = op is AluOp.Lsh or AluOp.Rsh or AluOp.Arsh ? 3 : -7;
            asm.Alu64(op, Reg.R6, imm).Alu64(op, Reg.R6, Reg.R7).Alu32(op, Reg.R8, imm).Alu32(op, Reg.R8, Reg.R9);
        }
        asm.Alu64(AluOp.Div, Reg.R6, 10).Alu64(AluOp.Mod, Reg.R6, 7).Alu32(AluOp.Div, Reg.R8, 10).Alu32(AluOp.Mod, Reg.R8, 7)
            .Neg64(Reg.R6).Neg32(Reg.R8)
            .ToBigEndian(Reg.R6, 16).ToBigEndian(Reg.R6, 32).ToBigEndian(Reg.R6, 64)
            .ToLittleEndian(Reg.R7, 16).ToLittleEndian(Reg.R7, 32).ToLittleEndian(Reg.R7, 64);
        foreach (Size size in new[] { Size.B, Size.H, Size.W, Size.DW })
            asm.Store(size, Reg.R10, -8, Reg.R6).Store(size, Reg.R10, -16, 0x55).Load(size, Reg.R1, Reg.R10, -8).Load(size, Reg.R2, Reg.R10, -16);
        asm.Store(Size.DW, Reg.R10, -24, Reg.R6).Store(Size.W, Reg.R10, -32, Reg.R8).Mov64(Reg.R0, Reg.R7);
        foreach (AtomicOp op in Enum.GetValues<AtomicOp>())
            asm.Mov64(Reg.R1, 1).Atomic(op, Size.DW, Reg.R10, -24, Reg.R1).Mov32(Reg.R2, 2).Atomic(op, Size.W, Reg.R10, -32, Reg.R2);
        // Fresh unknowns: the byte swaps above narrowed r6 and r7.
        asm.Call(Helper.KtimeGetNs).Mov64(Reg.R6, Reg.R0).Call(Helper.KtimeGetNs).Mov64(Reg.R7, Reg.R0).Mov64(Reg.R5, 0);
        int block = 0;
        foreach (JumpOp op in Enum.GetValues<JumpOp>())
        {
            // A fresh unknown per block (the xor drops what earlier branches taught the verifier), then both outcomes possible.
            asm.Mov64(Reg.R4, Reg.R6).Alu64(AluOp.Xor, Reg.R4, Reg.R7)
                .JumpIf(op, Reg.R4, 100, $"a{block}").Alu64(AluOp.Add, Reg.R5, 1).Label($"a{block}")
                .JumpIf(op, Reg.R4, Reg.R7, $"b{block}").Alu64(AluOp.Add, Reg.R5, 1).Label($"b{block}")
                .JumpIf32(op, Reg.R4, -100, $"c{block}").Alu64(AluOp.Add, Reg.R5, 1).Label($"c{block}")
                .JumpIf32(op, Reg.R4, Reg.R7, $"d{block}").Alu64(AluOp.Add, Reg.R5, 1).Label($"d{block}");
            block++;
        }
        asm.JumpIf(JumpOp.Eq, Reg.R6, 0, "other").Mov64(Reg.R0, 2).Jump("out")
            .Label("other").Mov64(Reg.R0, 1)
            .Label("out").Exit();
        return ProgramSpec.FromAsm("afxdp_golden", asm);
    }

    [GeneratedRegex(@"#-?\d+$")]
    private static partial Regex HelperAddress();

    [Fact]
    public void The_kernel_runs_exactly_the_instructions_we_built()
    {
        using BpfMap map = BpfMap.Create(new MapSpec("afxdp_golden", MapType.Array, 4, 8, 1));
        ProgramSpec spec = EveryInstruction(map);
        using BpfProgram program = BpfProgram.LoadXdp(spec);
        Insn[] built = spec.Resolve();
        ProgramInfo info = program.GetInfo();
        Assert.Equal("afxdp_golden", info.Name);
        Assert.Equal([map.Id], info.MapIds);

        // Bytes: equal modulo the rewrites the kernel documents (map ids, helper addresses, zero-extensions).
        var mapIds = new Dictionary<int, uint> { [map.Fd] = map.Id };
        Assert.Null(TranslatedProgram.FirstDifference(built, info.Translated, mapIds));

        // Text: bpftool prints with the kernel's disassembler; ours must read the same (of what we built, with the kernel's rewrites).
        CommandResult dump = ExternalCommand.Run("bpftool", ["prog", "dump", "xlated", "id", program.Id.ToString()]);
        Assert.True(dump.Succeeded, dump.Error);
        string[] theirs = dump.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => HelperAddress().Replace(l, "")).ToArray();
        string[] ours = Disassembler.Format(TranslatedProgram.AsTheKernelShows(built, info.Translated, mapIds)).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => HelperAddress().Replace(l.Replace($"map[fd:{map.Id}]", $"map[id:{map.Id}]"), "")).ToArray();
        Assert.Equal(ours.Length, theirs.Length);
        for (int i = 0; i < ours.Length; i++)
            Assert.Equal(ours[i], theirs[i]);
    }

    [Fact]
    public void A_local_function_call_loads_and_returns_the_callee_result()
    {
        var spec = ProgramSpec.FromAsm("afxdp_call", new Asm()
            .Mov64(Reg.R1, 1)
            .Call("double_it")
            .Exit()
            .Label("double_it")
            .Mov64(Reg.R0, Reg.R1)
            .Alu64(AluOp.Add, Reg.R0, Reg.R1)
            .Exit());
        Assert.Equal("call pc+1", spec.Instructions[1].ToString());
        using BpfProgram program = BpfProgram.LoadXdp(spec);
        Assert.Equal(XdpAction.Pass, program.TestRun(new byte[64]));
    }
}
