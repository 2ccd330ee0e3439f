using AfXdp.Bpf;
using AfXdp.TestShared;
using static AfXdp.Bpf.Register;

namespace AfXdp.Tests.Bpf;

/// <summary>The golden test's comparer, on hand-made programs: each rewrite the kernel documents passes, anything else fails.</summary>
public class TranslatedProgramTests
{
    const int MapFd = 7;
    const uint MapId = 42;
    static readonly Dictionary<int, uint> Maps = new() { [MapFd] = MapId };

    /// <summary>BPF_ZEXT_REG(reg), include/linux/filter.h.</summary>
    static Instruction ZeroExtension(Register reg) => Instruction.Mov32(reg, reg).WithImmediate(1);

    /// <summary>
    /// 0: r0 = 0; 1: if r0 == 0 goto 5; 2: r1 = map; 4: atomic (32 bits unless told); 5: exit.
    /// The jump crosses the atomic, so an instruction inserted after it moves the jump's target.
    /// </summary>
    static Instruction[] Built(Instruction atomic)
    {
        (Instruction first, Instruction second) = Instruction.LoadMapFd(R1, MapFd);
        return [Instruction.Mov64(R0, 0), Instruction.Jump(JumpCondition.Equal, R0, 0, 3), first, second, atomic, Instruction.Exit()];
    }

    static readonly Instruction CmpXchg32 = Instruction.Atomic(AtomicOperation.CompareExchange, AccessSize.Word, R10, -8, R1);

    /// <summary>What the kernel shows for <paramref name="built"/> without rewrites beyond the map id.</summary>
    static List<Instruction> Shown(Instruction[] built) => [.. built.Select(i => i.IsLoadImm64 ? i.WithImmediate((int)MapId) : i)];

    /// <summary>The kernel's view with <paramref name="extra"/> inserted after built instruction 4 (the atomic), the jump grown over it.</summary>
    static List<Instruction> ShownWithInsertAfterAtomic(Instruction[] built, Instruction extra)
    {
        List<Instruction> shown = Shown(built);
        shown.Insert(5, extra);
        shown[1] = shown[1].WithOffset(4);
        return shown;
    }

    [Fact]
    public void The_same_program_with_the_map_id_for_the_fd_has_no_difference()
    {
        Instruction[] built = Built(CmpXchg32);
        Assert.Null(TranslatedProgram.FirstDifference(built, Shown(built), Maps));
    }

    [Fact]
    public void A_helper_call_may_show_its_address_for_its_id()
    {
        Instruction[] built = [Instruction.Call(BpfHelper.KtimeGetNs), Instruction.Exit()];
        Assert.Null(TranslatedProgram.FirstDifference(built, [Instruction.Call(BpfHelper.KtimeGetNs).WithImmediate(-0x1234_5678), Instruction.Exit()], Maps));
        Assert.Null(TranslatedProgram.FirstDifference(built, [Instruction.Call(BpfHelper.KtimeGetNs).WithImmediate(0), Instruction.Exit()], Maps));
    }

    [Fact]
    public void A_zero_extension_of_r0_after_a_32_bit_cmpxchg_passes_with_the_jump_over_it_grown_by_one()
    {
        Instruction[] built = Built(CmpXchg32);
        Assert.Null(TranslatedProgram.FirstDifference(built, ShownWithInsertAfterAtomic(built, ZeroExtension(R0)), Maps));
    }

    [Theory]
    [InlineData(AtomicOperation.FetchAdd)]
    [InlineData(AtomicOperation.Exchange)]
    public void A_zero_extension_of_src_after_a_32_bit_fetching_atomic_passes(AtomicOperation op)
    {
        Instruction[] built = Built(Instruction.Atomic(op, AccessSize.Word, R10, -8, R1));
        Assert.Null(TranslatedProgram.FirstDifference(built, ShownWithInsertAfterAtomic(built, ZeroExtension(R1)), Maps));
    }

    [Fact]
    public void A_zero_extension_after_32_bit_alu_and_load_passes()
    {
        Instruction[] built = [Instruction.Mov32(R2, -3), Instruction.Load(AccessSize.HalfWord, R3, R10, -8), Instruction.Exit()];
        Instruction[] shown = [built[0], ZeroExtension(R2), built[1], ZeroExtension(R3), built[2]];
        Assert.Null(TranslatedProgram.FirstDifference(built, shown, Maps));
    }

    [Theory]
    [InlineData("after a 64-bit cmpxchg", AtomicOperation.CompareExchange, AccessSize.DoubleWord, R0)]
    [InlineData("of another register than the one defined", AtomicOperation.CompareExchange, AccessSize.Word, R1)]
    [InlineData("after an atomic that returns nothing", AtomicOperation.Add, AccessSize.Word, R1)]
    public void A_zero_extension_elsewhere_fails(string where, AtomicOperation op, AccessSize size, Register extended)
    {
        Instruction[] built = Built(Instruction.Atomic(op, size, R10, -8, R1));
        string? difference = TranslatedProgram.FirstDifference(built, ShownWithInsertAfterAtomic(built, ZeroExtension(extended)), Maps);
        Assert.True(difference is not null, where);
    }

    [Fact]
    public void A_zero_extension_after_a_64_bit_alu_fails()
    {
        Instruction[] built = [Instruction.Mov64(R2, -3), Instruction.Exit()];
        Assert.Contains("instruction 1: expected exit", TranslatedProgram.FirstDifference(built, [built[0], ZeroExtension(R2), built[1]], Maps));
    }

    [Fact]
    public void A_plain_w0_equals_w0_after_a_32_bit_cmpxchg_fails()
    {
        // Our own mov32 has imm 0: only the kernel's BPF_ZEXT_REG (imm 1) is a rewrite.
        Instruction[] built = Built(CmpXchg32);
        Assert.NotNull(TranslatedProgram.FirstDifference(built, ShownWithInsertAfterAtomic(built, Instruction.Mov32(R0, R0)), Maps));
    }

    [Fact]
    public void A_jump_not_grown_over_an_inserted_zero_extension_fails()
    {
        Instruction[] built = Built(CmpXchg32);
        List<Instruction> shown = ShownWithInsertAfterAtomic(built, ZeroExtension(R0));
        shown[1] = shown[1].WithOffset(3);
        Assert.Contains("instruction 1", TranslatedProgram.FirstDifference(built, shown, Maps));
    }

    [Fact]
    public void A_changed_instruction_fails()
    {
        Instruction[] built = Built(CmpXchg32);
        List<Instruction> shown = Shown(built);
        shown[0] = Instruction.Mov64(R0, 1);
        Assert.Contains("instruction 0: expected r0 = 0", TranslatedProgram.FirstDifference(built, shown, Maps));
    }

    [Fact]
    public void Another_map_id_fails()
    {
        Instruction[] built = Built(CmpXchg32);
        List<Instruction> shown = Shown(built);
        shown[2] = shown[2].WithImmediate((int)MapId + 1);
        Assert.Contains("instruction 2", TranslatedProgram.FirstDifference(built, shown, Maps));
    }

    [Fact]
    public void A_missing_instruction_fails()
    {
        Instruction[] built = Built(CmpXchg32);
        List<Instruction> shown = Shown(built);
        shown.RemoveAt(shown.Count - 1);
        Assert.Contains("instruction 5 (exit) is missing", TranslatedProgram.FirstDifference(built, shown, Maps));
    }

    [Fact]
    public void An_extra_instruction_at_the_end_fails()
    {
        Instruction[] built = Built(CmpXchg32);
        List<Instruction> shown = [.. Shown(built), Instruction.Exit()];
        Assert.Contains("1 instructions more than we built", TranslatedProgram.FirstDifference(built, shown, Maps));
    }
}
