using System.Runtime.InteropServices;
using AfXdp.Bpf;

namespace AfXdp.TestShared;

/// <summary>
/// Compares the instructions we built with the kernel's translated copy of them (xlated_prog_insns of
/// BPF_OBJ_GET_INFO_BY_FD, what `bpftool prog dump xlated` prints). Only the changes the kernel makes to
/// every program of this kind, whatever the build, are allowed; any other difference is reported:
/// <list type="bullet">
/// <item>a map reference (lddw with src BPF_PSEUDO_MAP_FD) shows the map's id where we wrote its fd
/// (bpf_insn_prepare_dump, kernel/bpf/syscall.c);</item>
/// <item>a helper call's immediate becomes the helper's address relative to __bpf_call_base
/// (do_misc_fixups, kernel/bpf/verifier.c), or 0 for a reader without CAP_SYSLOG (bpf_dump_raw_ok);</item>
/// <item>a zero-extension <c>wN = wN</c> (BPF_ZEXT_REG, include/linux/filter.h: a mov32 with imm 1, which
/// the verifier refuses in a loaded program, "BPF_MOV uses reserved fields", so it cannot be one of ours)
/// right after an instruction that defines wN in 32 bits and whose upper half is read later
/// (opt_subreg_zext_lo32_rnd_hi32, kernel/bpf/verifier.c: after a 32-bit cmpxchg on every arch, after any
/// such definition when the JIT asks, bpf_jit_needs_zext); whether it appears depends on the kernel's
/// version, build and arch;</item>
/// <item>jump and local-call offsets that cross an inserted instruction grow by one
/// (bpf_adj_branches, kernel/bpf/core.c).</item>
/// </list>
/// </summary>
internal static class TranslatedProgram
{
    /// <summary>
    /// The first difference between <paramref name="built"/> (map references by fd) and the kernel's
    /// <paramref name="translated"/> program that is not one of the allowed rewrites, or null when there is none.
    /// </summary>
    public static string? FirstDifference(IReadOnlyList<Instruction> built, IReadOnlyList<Instruction> translated, IReadOnlyDictionary<int, uint> mapIdOfFd)
    {
        List<Instruction> expected = AsTheKernelShows(built, translated, mapIdOfFd);
        for (int i = 0; i < expected.Count; i++)
        {
            if (i >= translated.Count)
                return $"instruction {i} ({expected[i]}) is missing: the kernel has {translated.Count} instructions";
            Instruction actual = translated[i];
            if (expected[i].Code == (Opcode.Jmp | Opcode.Call) && !expected[i].IsLocalCall)
                actual = actual.WithImmediate(expected[i].Immediate);
            if (expected[i] != actual)
                return $"instruction {i}: expected {expected[i]} ({Hex(expected[i])}), the kernel has {actual} ({Hex(actual)})";
        }
        return expected.Count < translated.Count
            ? $"the kernel has {translated.Count - expected.Count} instructions more than we built, from {expected.Count}: {translated[expected.Count]} ({Hex(translated[expected.Count])})"
            : null;
    }

    /// <summary>
    /// <paramref name="built"/> with the allowed rewrites applied where <paramref name="translated"/> shows
    /// them: map ids for fds, the kernel's zero-extensions inserted, offsets grown over them. Helper calls keep
    /// our ids, so that the program reads as bpftool prints it (which names helpers by address).
    /// </summary>
    public static List<Instruction> AsTheKernelShows(IReadOnlyList<Instruction> built, IReadOnlyList<Instruction> translated, IReadOnlyDictionary<int, uint> mapIdOfFd)
    {
        // Where each built instruction sits in the translated program; at[built.Count] is the end.
        var at = new int[built.Count + 1];
        int next = 0;
        for (int i = 0; i < built.Count; i++)
        {
            at[i] = next++;
            if (next < translated.Count && IsZeroExtension(translated[next]) && DefinesLow32(built[i], out Register defined) && translated[next].Destination == defined)
                next++;
        }
        at[built.Count] = next;

        var shown = new List<Instruction>(next);
        for (int i = 0; i < built.Count; i++)
        {
            shown.Add(Expected(built, i, at, mapIdOfFd));
            if (at[i + 1] - at[i] == 2)
                shown.Add(translated[at[i] + 1]);
        }
        return shown;
    }

    /// <summary>The built instruction as the kernel shows it: map ids for fds, offsets over the inserted instructions.</summary>
    static Instruction Expected(IReadOnlyList<Instruction> built, int i, int[] at, IReadOnlyDictionary<int, uint> mapIdOfFd)
    {
        Instruction insn = built[i];
        if (insn.IsLoadImm64 && insn.Source == (Register)Opcode.PseudoMapFd)
            return insn.WithImmediate((int)mapIdOfFd[insn.Immediate]);
        if (insn.IsLocalCall)
            return insn.WithImmediate(Moved(i, insn.Immediate, at));
        bool jump = insn.Class is Opcode.Jmp or Opcode.Jmp32 && (insn.Code & 0xf0) is not (Opcode.Call or Opcode.Exit);
        return jump ? insn.WithOffset((short)Moved(i, insn.Offset, at)) : insn;
    }

    /// <summary>The offset from <paramref name="i"/> to the same target in the translated program.</summary>
    static int Moved(int i, int offset, int[] at)
    {
        int target = i + 1 + offset;
        return target >= 0 && target < at.Length ? at[target] - at[i] - 1 : offset;
    }

    /// <summary>BPF_ZEXT_REG(N): <c>wN = wN</c> with imm 1 (insn_is_zext, include/linux/filter.h).</summary>
    static bool IsZeroExtension(Instruction insn) =>
        insn.Code == (Opcode.Alu | (byte)AluOperation.Move | Opcode.X) && insn.Destination == insn.Source && insn.Offset == 0 && insn.Immediate == 1;

    /// <summary>
    /// Whether <paramref name="insn"/> writes only the low 32 bits of a register, and which: insn_def_regno
    /// where is_reg64 says DST_OP is not 64-bit (kernel/bpf/verifier.c), for the instructions <see cref="Instruction"/>
    /// makes (it has no BPF_LD_ABS/IND, load-acquire or sign-extending loads).
    /// </summary>
    static bool DefinesLow32(Instruction insn, out Register register)
    {
        int op = insn.Code & 0xf0, mode = insn.Code & 0xe0;
        bool wide = (insn.Code & 0x18) == (byte)AccessSize.DoubleWord;
        (bool low32, register) = insn.Class switch
        {
            // A 32-bit ALU op, except the 64-bit byte swap (BPF_END with imm 64).
            Opcode.Alu => (op != Opcode.End || insn.Immediate != 64, insn.Destination),
            Opcode.Ldx => (mode == Opcode.Mem && !wide, insn.Destination),
            // A 32-bit atomic returns the old value in r0 (cmpxchg) or in src (fetch ops and xchg: BPF_FETCH, 0x01).
            Opcode.Stx when mode == Opcode.Atomic && !wide =>
                insn.Immediate == (int)AtomicOperation.CompareExchange ? (true, Register.R0) : ((insn.Immediate & 0x01) != 0, insn.Source),
            _ => (false, default(Register)),
        };
        return low32;
    }

    /// <summary>The instruction's 8 bytes in hex, as struct bpf_insn lays them out.</summary>
    public static string Hex(Instruction insn) => Convert.ToHexString(MemoryMarshal.AsBytes([insn]));
}
