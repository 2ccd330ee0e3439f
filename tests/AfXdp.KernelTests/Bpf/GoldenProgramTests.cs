using System.Text.RegularExpressions;
using AfXdp.Bpf;
using AfXdp.Testing;
using AfXdp.TestShared;
using static AfXdp.Bpf.Register;

namespace AfXdp.KernelTests.Bpf;

/// <summary>
/// What we encode is what the kernel runs: programs built with <see cref="Assembler"/> are loaded, then the
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
        var asm = new Assembler()
            .Call(BpfHelper.KtimeGetNs)
            .Mov64(R6, R0)
            .Call(BpfHelper.KtimeGetNs)
            .Mov64(R7, R0)
            .Mov32(R8, -3)
            .Mov32(R9, R7)
            .LoadImm64(R1, 0x1234_5678_9abc_def0)
            .LoadImm64(R2, -2)
            .LoadMap(R3, map);
        foreach (AluOperation op in new[] { AluOperation.Add, AluOperation.Subtract, AluOperation.Multiply, AluOperation.Or, AluOperation.And, AluOperation.ShiftLeft, AluOperation.ShiftRight, AluOperation.Xor, AluOperation.ArithmeticShiftRight })
        {
            int imm = op is AluOperation.ShiftLeft or AluOperation.ShiftRight or AluOperation.ArithmeticShiftRight ? 3 : -7;
            asm.Alu64(op, R6, imm).Alu64(op, R6, R7).Alu32(op, R8, imm).Alu32(op, R8, R9);
        }
        asm.Alu64(AluOperation.Divide, R6, 10).Alu64(AluOperation.Modulo, R6, 7).Alu32(AluOperation.Divide, R8, 10).Alu32(AluOperation.Modulo, R8, 7)
            .Neg64(R6).Neg32(R8)
            .ToBigEndian(R6, 16).ToBigEndian(R6, 32).ToBigEndian(R6, 64)
            .ToLittleEndian(R7, 16).ToLittleEndian(R7, 32).ToLittleEndian(R7, 64);
        foreach (AccessSize size in new[] { AccessSize.Byte, AccessSize.HalfWord, AccessSize.Word, AccessSize.DoubleWord })
            asm.Store(size, R10, -8, R6).Store(size, R10, -16, 0x55).Load(size, R1, R10, -8).Load(size, R2, R10, -16);
        asm.Store(AccessSize.DoubleWord, R10, -24, R6).Store(AccessSize.Word, R10, -32, R8).Mov64(R0, R7);
        foreach (AtomicOperation op in Enum.GetValues<AtomicOperation>())
            asm.Mov64(R1, 1).Atomic(op, AccessSize.DoubleWord, R10, -24, R1).Mov32(R2, 2).Atomic(op, AccessSize.Word, R10, -32, R2);
        // Fresh unknowns: the byte swaps above narrowed r6 and r7.
        asm.Call(BpfHelper.KtimeGetNs).Mov64(R6, R0).Call(BpfHelper.KtimeGetNs).Mov64(R7, R0).Mov64(R5, 0);
        int block = 0;
        foreach (JumpCondition op in Enum.GetValues<JumpCondition>())
        {
            // A fresh unknown per block (the xor drops what earlier branches taught the verifier), then both outcomes possible.
            asm.Mov64(R4, R6).Alu64(AluOperation.Xor, R4, R7)
                .JumpIf(op, R4, 100, $"a{block}").Alu64(AluOperation.Add, R5, 1).Label($"a{block}")
                .JumpIf(op, R4, R7, $"b{block}").Alu64(AluOperation.Add, R5, 1).Label($"b{block}")
                .JumpIf32(op, R4, -100, $"c{block}").Alu64(AluOperation.Add, R5, 1).Label($"c{block}")
                .JumpIf32(op, R4, R7, $"d{block}").Alu64(AluOperation.Add, R5, 1).Label($"d{block}");
            block++;
        }
        asm.JumpIf(JumpCondition.Equal, R6, 0, "other").Mov64(R0, 2).Jump("out")
            .Label("other").Mov64(R0, 1)
            .Label("out").Exit();
        return ProgramSpec.FromAssembler("afxdp_golden", asm);
    }

    [GeneratedRegex(@"#-?\d+$")]
    private static partial Regex HelperAddress();

    [Fact]
    public void The_kernel_runs_exactly_the_instructions_we_built()
    {
        using BpfMap map = BpfMap.Create(new MapSpec("afxdp_golden", MapType.Array, 4, 8, 1));
        ProgramSpec spec = EveryInstruction(map);
        using BpfProgram program = BpfProgram.LoadXdp(spec);
        Instruction[] built = spec.Resolve();
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
        var spec = ProgramSpec.FromAssembler("afxdp_call", new Assembler()
            .Mov64(R1, 1)
            .Call("double_it")
            .Exit()
            .Label("double_it")
            .Mov64(R0, R1)
            .Alu64(AluOperation.Add, R0, R1)
            .Exit());
        Assert.Equal("call pc+1", spec.Instructions[1].ToString());
        using BpfProgram program = BpfProgram.LoadXdp(spec);
        Assert.Equal(XdpAction.Pass, program.TestRun(new byte[64]));
    }
}
