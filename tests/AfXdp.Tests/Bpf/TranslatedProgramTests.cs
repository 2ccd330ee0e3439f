using AfXdp.Bpf;
using AfXdp.TestShared;

namespace AfXdp.Tests.Bpf;

/// <summary>The golden test's comparer, on hand-made programs: each rewrite the kernel documents passes, anything else fails.</summary>
public class TranslatedProgramTests
{
    const int MapFd = 7;
    const uint MapId = 42;
    static readonly Dictionary<int, uint> Maps = new() { [MapFd] = MapId };

    /// <summary>BPF_ZEXT_REG(reg), include/linux/filter.h.</summary>
    static Insn ZeroExtension(Reg reg) => Insn.Mov32(reg, reg).WithImmediate(1);

    /// <summary>
    /// 0: r0 = 0; 1: if r0 == 0 goto 5; 2: r1 = map; 4: atomic (32 bits unless told); 5: exit.
    /// The jump crosses the atomic, so an instruction inserted after it moves the jump's target.
    /// </summary>
    static Insn[] Built(Insn atomic)
    {
        (Insn first, Insn second) = Insn.LoadImm64(Reg.R1, MapFd, Insn.PSEUDO_MAP_FD);
        return [Insn.Mov64(Reg.R0, 0), Insn.Jump(JumpOp.Eq, Reg.R0, 0, 3), first, second, atomic, Insn.Exit()];
    }

    static readonly Insn CmpXchg32 = Insn.Atomic(AtomicOp.CmpXchg, Size.W, Reg.R10, -8, Reg.R1);

    /// <summary>What the kernel shows for <paramref name="built"/> without rewrites beyond the map id.</summary>
    static List<Insn> Shown(Insn[] built) => [.. built.Select(i => i.IsLoadImm64 ? i.WithImmediate((int)MapId) : i)];

    /// <summary>The kernel's view with <paramref name="extra"/> inserted after built instruction 4 (the atomic), the jump grown over it.</summary>
    static List<Insn> ShownWithInsertAfterAtomic(Insn[] built, Insn extra)
    {
        List<Insn> shown = Shown(built);
        shown.Insert(5, extra);
        shown[1] = shown[1].WithOffset(4);
        return shown;
    }

    [Fact]
    public void The_same_program_with_the_map_id_for_the_fd_has_no_difference()
    {
        Insn[] built = Built(CmpXchg32);
        Assert.Null(TranslatedProgram.FirstDifference(built, Shown(built), Maps));
    }

    [Fact]
    public void A_helper_call_may_show_its_address_for_its_id()
    {
        Insn[] built = [Insn.Call(Helper.KtimeGetNs), Insn.Exit()];
        Assert.Null(TranslatedProgram.FirstDifference(built, [Insn.Call(Helper.KtimeGetNs).WithImmediate(-0x1234_5678), Insn.Exit()], Maps));
        Assert.Null(TranslatedProgram.FirstDifference(built, [Insn.Call(Helper.KtimeGetNs).WithImmediate(0), Insn.Exit()], Maps));
    }

    [Fact]
    public void A_zero_extension_of_r0_after_a_32_bit_cmpxchg_passes_with_the_jump_over_it_grown_by_one()
    {
        Insn[] built = Built(CmpXchg32);
        Assert.Null(TranslatedProgram.FirstDifference(built, ShownWithInsertAfterAtomic(built, ZeroExtension(Reg.R0)), Maps));
    }

    [Theory]
    [InlineData(AtomicOp.FetchAdd)]
    [InlineData(AtomicOp.Xchg)]
    public void A_zero_extension_of_src_after_a_32_bit_fetching_atomic_passes(AtomicOp op)
    {
        Insn[] built = Built(Insn.Atomic(op, Size.W, Reg.R10, -8, Reg.R1));
        Assert.Null(TranslatedProgram.FirstDifference(built, ShownWithInsertAfterAtomic(built, ZeroExtension(Reg.R1)), Maps));
    }

    [Fact]
    public void A_zero_extension_after_32_bit_alu_and_load_passes()
    {
        Insn[] built = [Insn.Mov32(Reg.R2, -3), Insn.Load(Size.H, Reg.R3, Reg.R10, -8), Insn.Exit()];
        Insn[] shown = [built[0], ZeroExtension(Reg.R2), built[1], ZeroExtension(Reg.R3), built[2]];
        Assert.Null(TranslatedProgram.FirstDifference(built, shown, Maps));
    }

    [Theory]
    [InlineData("after a 64-bit cmpxchg", AtomicOp.CmpXchg, Size.DW, Reg.R0)]
    [InlineData("of another register than the one defined", AtomicOp.CmpXchg, Size.W, Reg.R1)]
    [InlineData("after an atomic that returns nothing", AtomicOp.Add, Size.W, Reg.R1)]
    public void A_zero_extension_elsewhere_fails(string where, AtomicOp op, Size size, Reg extended)
    {
        Insn[] built = Built(Insn.Atomic(op, size, Reg.R10, -8, Reg.R1));
        string? difference = TranslatedProgram.FirstDifference(built, ShownWithInsertAfterAtomic(built, ZeroExtension(extended)), Maps);
        Assert.True(difference is not null, where);
    }

    [Fact]
    public void A_zero_extension_after_a_64_bit_alu_fails()
    {
        Insn[] built = [Insn.Mov64(Reg.R2, -3), Insn.Exit()];
        Assert.Contains("instruction 1: expected exit", TranslatedProgram.FirstDifference(built, [built[0], ZeroExtension(Reg.R2), built[1]], Maps));
    }

    [Fact]
    public void A_plain_w0_equals_w0_after_a_32_bit_cmpxchg_fails()
    {
        // Our own mov32 has imm 0: only the kernel's BPF_ZEXT_REG (imm 1) is a rewrite.
        Insn[] built = Built(CmpXchg32);
        Assert.NotNull(TranslatedProgram.FirstDifference(built, ShownWithInsertAfterAtomic(built, Insn.Mov32(Reg.R0, Reg.R0)), Maps));
    }

    [Fact]
    public void A_jump_not_grown_over_an_inserted_zero_extension_fails()
    {
        Insn[] built = Built(CmpXchg32);
        List<Insn> shown = ShownWithInsertAfterAtomic(built, ZeroExtension(Reg.R0));
        shown[1] = shown[1].WithOffset(3);
        Assert.Contains("instruction 1", TranslatedProgram.FirstDifference(built, shown, Maps));
    }

    [Fact]
    public void A_changed_instruction_fails()
    {
        Insn[] built = Built(CmpXchg32);
        List<Insn> shown = Shown(built);
        shown[0] = Insn.Mov64(Reg.R0, 1);
        Assert.Contains("instruction 0: expected r0 = 0", TranslatedProgram.FirstDifference(built, shown, Maps));
    }

    [Fact]
    public void Another_map_id_fails()
    {
        Insn[] built = Built(CmpXchg32);
        List<Insn> shown = Shown(built);
        shown[2] = shown[2].WithImmediate((int)MapId + 1);
        Assert.Contains("instruction 2", TranslatedProgram.FirstDifference(built, shown, Maps));
    }

    [Fact]
    public void A_missing_instruction_fails()
    {
        Insn[] built = Built(CmpXchg32);
        List<Insn> shown = Shown(built);
        shown.RemoveAt(shown.Count - 1);
        Assert.Contains("instruction 5 (exit) is missing", TranslatedProgram.FirstDifference(built, shown, Maps));
    }

    [Fact]
    public void An_extra_instruction_at_the_end_fails()
    {
        Insn[] built = Built(CmpXchg32);
        List<Insn> shown = [.. Shown(built), Insn.Exit()];
        Assert.Contains("1 instructions more than we built", TranslatedProgram.FirstDifference(built, shown, Maps));
    }
}
