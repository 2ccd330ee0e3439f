using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace AfXdp.Bpf;

/// <summary>An eBPF register.</summary>
public enum Reg : byte
{
    /// <summary>Return value of the program and of helper calls.</summary>
    R0,
    /// <summary>First argument: the context (struct xdp_md *) at program entry.</summary>
    R1,
    /// <summary>Second argument of a helper call.</summary>
    R2,
    /// <summary>Third argument of a helper call.</summary>
    R3,
    /// <summary>Fourth argument of a helper call.</summary>
    R4,
    /// <summary>Fifth argument of a helper call.</summary>
    R5,
    /// <summary>Callee-saved register, kept across helper calls.</summary>
    R6,
    /// <summary>Callee-saved register, kept across helper calls.</summary>
    R7,
    /// <summary>Callee-saved register, kept across helper calls.</summary>
    R8,
    /// <summary>Callee-saved register, kept across helper calls.</summary>
    R9,
    /// <summary>Frame pointer (read-only).</summary>
    R10,
}

/// <summary>Width of a load or store (BPF_SIZE).</summary>
public enum Size : byte
{
    /// <summary>32-bit word (BPF_W).</summary>
    W = 0x00,
    /// <summary>16-bit half word (BPF_H).</summary>
    H = 0x08,
    /// <summary>One byte (BPF_B).</summary>
    B = 0x10,
    /// <summary>64-bit double word (BPF_DW).</summary>
    DW = 0x18,
}

/// <summary>ALU operation (BPF_ALU / BPF_ALU64 op field).</summary>
public enum AluOp : byte
{
    /// <summary>dst += src</summary>
    Add = 0x00,
    /// <summary>dst -= src</summary>
    Sub = 0x10,
    /// <summary>dst *= src</summary>
    Mul = 0x20,
    /// <summary>dst /= src (unsigned; division by zero gives 0)</summary>
    Div = 0x30,
    /// <summary>dst |= src</summary>
    Or = 0x40,
    /// <summary>dst &amp;= src</summary>
    And = 0x50,
    /// <summary>dst &lt;&lt;= src</summary>
    Lsh = 0x60,
    /// <summary>dst &gt;&gt;= src (logical)</summary>
    Rsh = 0x70,
    /// <summary>dst = -dst</summary>
    Neg = 0x80,
    /// <summary>dst %= src (unsigned; modulo zero leaves dst)</summary>
    Mod = 0x90,
    /// <summary>dst ^= src</summary>
    Xor = 0xa0,
    /// <summary>dst = src</summary>
    Mov = 0xb0,
    /// <summary>dst &gt;&gt;= src (arithmetic, sign-extending)</summary>
    Arsh = 0xc0,
}

/// <summary>Conditional jump (BPF_JMP / BPF_JMP32 op field).</summary>
public enum JumpOp : byte
{
    /// <summary>Jump if dst == src.</summary>
    Eq = 0x10,
    /// <summary>Jump if dst &gt; src (unsigned).</summary>
    Gt = 0x20,
    /// <summary>Jump if dst &gt;= src (unsigned).</summary>
    Ge = 0x30,
    /// <summary>Jump if dst &amp; src is not zero.</summary>
    Set = 0x40,
    /// <summary>Jump if dst != src.</summary>
    Ne = 0x50,
    /// <summary>Jump if dst &gt; src (signed).</summary>
    SGt = 0x60,
    /// <summary>Jump if dst &gt;= src (signed).</summary>
    SGe = 0x70,
    /// <summary>Jump if dst &lt; src (unsigned).</summary>
    Lt = 0xa0,
    /// <summary>Jump if dst &lt;= src (unsigned).</summary>
    Le = 0xb0,
    /// <summary>Jump if dst &lt; src (signed).</summary>
    SLt = 0xc0,
    /// <summary>Jump if dst &lt;= src (signed).</summary>
    SLe = 0xd0,
}

/// <summary>
/// Atomic read-modify-write on memory (the immediate of a BPF_STX | BPF_ATOMIC instruction).
/// The Fetch variants, <see cref="Xchg"/> and <see cref="CmpXchg"/> also return the old value
/// (in the source register; in r0 for <see cref="CmpXchg"/>, which compares with r0).
/// </summary>
public enum AtomicOp
{
    /// <summary>*dst += src</summary>
    Add = 0x00,
    /// <summary>*dst |= src</summary>
    Or = 0x40,
    /// <summary>*dst &amp;= src</summary>
    And = 0x50,
    /// <summary>*dst ^= src</summary>
    Xor = 0xa0,
    /// <summary>*dst += src, returning the old value in src.</summary>
    FetchAdd = 0x01,
    /// <summary>*dst |= src, returning the old value in src.</summary>
    FetchOr = 0x41,
    /// <summary>*dst &amp;= src, returning the old value in src.</summary>
    FetchAnd = 0x51,
    /// <summary>*dst ^= src, returning the old value in src.</summary>
    FetchXor = 0xa1,
    /// <summary>Swaps *dst and src.</summary>
    Xchg = 0xe1,
    /// <summary>If *dst == r0 then *dst = src; r0 gets the old value.</summary>
    CmpXchg = 0xf1,
}

/// <summary>Kernel helper function ids (enum bpf_func_id in include/uapi/linux/bpf.h).</summary>
public enum Helper
{
    /// <summary>bpf_map_lookup_elem(map, key): a pointer to the value, or NULL.</summary>
    MapLookupElem = 1,
    /// <summary>bpf_map_update_elem(map, key, value, flags).</summary>
    MapUpdateElem = 2,
    /// <summary>bpf_map_delete_elem(map, key).</summary>
    MapDeleteElem = 3,
    /// <summary>bpf_ktime_get_ns(): CLOCK_MONOTONIC in nanoseconds.</summary>
    KtimeGetNs = 5,
    /// <summary>bpf_trace_printk(fmt, size, ...): a line in the trace pipe.</summary>
    TracePrintk = 6,
    /// <summary>bpf_get_prandom_u32(): a pseudo-random number.</summary>
    GetPrandomU32 = 7,
    /// <summary>bpf_get_smp_processor_id(): the CPU the program runs on.</summary>
    GetSmpProcessorId = 8,
    /// <summary>bpf_tail_call(ctx, prog_array, index): continue in another program.</summary>
    TailCall = 12,
    /// <summary>bpf_redirect(ifindex, flags): send the frame out of another interface.</summary>
    Redirect = 23,
    /// <summary>bpf_xdp_adjust_head(ctx, delta): move the start of the frame.</summary>
    XdpAdjustHead = 44,
    /// <summary>bpf_redirect_map(map, key, flags): redirect to the map's entry (an XSKMAP's socket).</summary>
    RedirectMap = 51,
    /// <summary>bpf_xdp_adjust_meta(ctx, delta): grow or shrink the metadata in front of the frame.</summary>
    XdpAdjustMeta = 54,
    /// <summary>bpf_xdp_adjust_tail(ctx, delta): move the end of the frame.</summary>
    XdpAdjustTail = 65,
    /// <summary>bpf_ktime_get_boot_ns(): CLOCK_BOOTTIME in nanoseconds.</summary>
    KtimeGetBootNs = 125,
}

/// <summary>
/// One eBPF instruction, struct bpf_insn (8 bytes): opcode, dst:4/src:4 registers, offset, immediate.
/// A 64-bit immediate load (<c>lddw</c>) takes two instructions. The factories cover the
/// instruction set up to cpu v3 (ALU and jumps in 32 and 64 bits, loads, stores, atomics, calls).
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 8)]
public readonly record struct Insn(byte Code, byte Registers, short Offset, int Immediate)
{
    /// <summary>Instruction class BPF_LD: loads of immediates (lddw).</summary>
    public const byte LD = 0x00;
    /// <summary>Instruction class BPF_LDX: loads from memory into a register.</summary>
    public const byte LDX = 0x01;
    /// <summary>Instruction class BPF_ST: stores of an immediate.</summary>
    public const byte ST = 0x02;
    /// <summary>Instruction class BPF_STX: stores of a register, and atomics.</summary>
    public const byte STX = 0x03;
    /// <summary>Instruction class BPF_ALU: 32-bit arithmetic.</summary>
    public const byte ALU = 0x04;
    /// <summary>Instruction class BPF_JMP: 64-bit jumps, calls and exit.</summary>
    public const byte JMP = 0x05;
    /// <summary>Instruction class BPF_JMP32: jumps comparing the low 32 bits.</summary>
    public const byte JMP32 = 0x06;
    /// <summary>Instruction class BPF_ALU64: 64-bit arithmetic.</summary>
    public const byte ALU64 = 0x07;
    /// <summary>Mode BPF_IMM: the operand is the immediate (with LD: lddw).</summary>
    public const byte IMM = 0x00;
    /// <summary>Mode BPF_MEM: a load or store at register + offset.</summary>
    public const byte MEM = 0x60;
    /// <summary>Mode BPF_ATOMIC: an atomic operation, chosen by the immediate (<see cref="AtomicOp"/>).</summary>
    public const byte ATOMIC = 0xc0;
    /// <summary>Source BPF_K: the second operand is the immediate.</summary>
    public const byte K = 0x00;
    /// <summary>Source BPF_X: the second operand is the source register.</summary>
    public const byte X = 0x08;
    /// <summary>Jump op BPF_CALL: call a helper (or a local function).</summary>
    public const byte CALL = 0x80;
    /// <summary>Jump op BPF_EXIT: return r0.</summary>
    public const byte EXIT = 0x90;
    /// <summary>Jump op BPF_JA: jump always.</summary>
    public const byte JA = 0x00;
    /// <summary>ALU op BPF_END: byte swap.</summary>
    public const byte END = 0xd0;
    /// <summary>src_reg of an lddw whose immediate is a map fd (BPF_PSEUDO_MAP_FD).</summary>
    public const byte PSEUDO_MAP_FD = 1;
    /// <summary>src_reg of a call to a function of the same program, imm = relative offset (BPF_PSEUDO_CALL).</summary>
    public const byte PSEUDO_CALL = 1;

    /// <summary>The destination register (low nibble of the register byte).</summary>
    public Reg Dst => (Reg)(Registers & 0x0f);

    /// <summary>The source register (high nibble of the register byte).</summary>
    public Reg Src => (Reg)(Registers >> 4);

    /// <summary>The instruction class, the low three bits of the opcode (<see cref="LD"/> to <see cref="ALU64"/>).</summary>
    public byte Class => (byte)(Code & 0x07);

    /// <summary>The first half of a 64-bit immediate load (the second half follows it).</summary>
    public bool IsLoadImm64 => Code == (LD | IMM | (byte)Size.DW);

    /// <summary>A call to a function of the same program (bpf-to-bpf call).</summary>
    public bool IsLocalCall => Code == (JMP | CALL) && Src == (Reg)PSEUDO_CALL;

    static byte Regs(Reg dst, Reg src) => (byte)((byte)dst | ((byte)src << 4));

    /// <summary>dst = dst op imm, 64 bits.</summary>
    public static Insn Alu64(AluOp op, Reg dst, int imm) => new((byte)(ALU64 | (byte)op | K), Regs(dst, 0), 0, imm);
    /// <summary>dst = dst op src, 64 bits.</summary>
    public static Insn Alu64(AluOp op, Reg dst, Reg src) => new((byte)(ALU64 | (byte)op | X), Regs(dst, src), 0, 0);
    /// <summary>dst = dst op imm on the low 32 bits; the upper half is zeroed.</summary>
    public static Insn Alu32(AluOp op, Reg dst, int imm) => new((byte)(ALU | (byte)op | K), Regs(dst, 0), 0, imm);
    /// <summary>dst = dst op src on the low 32 bits; the upper half is zeroed.</summary>
    public static Insn Alu32(AluOp op, Reg dst, Reg src) => new((byte)(ALU | (byte)op | X), Regs(dst, src), 0, 0);
    /// <summary>dst = imm (sign-extended to 64 bits).</summary>
    public static Insn Mov64(Reg dst, int imm) => Alu64(AluOp.Mov, dst, imm);
    /// <summary>dst = src, 64 bits.</summary>
    public static Insn Mov64(Reg dst, Reg src) => Alu64(AluOp.Mov, dst, src);
    /// <summary>dst = imm in the low 32 bits; the upper half is zeroed.</summary>
    public static Insn Mov32(Reg dst, int imm) => Alu32(AluOp.Mov, dst, imm);
    /// <summary>dst = low 32 bits of src; the upper half is zeroed.</summary>
    public static Insn Mov32(Reg dst, Reg src) => Alu32(AluOp.Mov, dst, src);
    /// <summary>dst = -dst (64 bits).</summary>
    public static Insn Neg64(Reg dst) => Alu64(AluOp.Neg, dst, 0);
    /// <summary>dst = -dst (low 32 bits, upper half zeroed).</summary>
    public static Insn Neg32(Reg dst) => Alu32(AluOp.Neg, dst, 0);

    /// <summary>Converts the low 16/32/64 bits from host order to big-endian (network order): BPF_END | BPF_TO_BE.</summary>
    public static Insn ToBigEndian(Reg dst, int bits) => Endian(dst, bits, X);

    /// <summary>Converts the low 16/32/64 bits from host order to little-endian (truncates on a little-endian host): BPF_END | BPF_TO_LE.</summary>
    public static Insn ToLittleEndian(Reg dst, int bits) => Endian(dst, bits, K);

    static Insn Endian(Reg dst, int bits, byte source)
    {
        if (bits is not (16 or 32 or 64))
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "byte swaps are 16, 32 or 64 bits wide");
        return new((byte)(ALU | END | source), Regs(dst, 0), 0, bits);
    }

    /// <summary>dst = *(size *)(src + offset)</summary>
    public static Insn Load(Size size, Reg dst, Reg src, short offset) => new((byte)(LDX | MEM | (byte)size), Regs(dst, src), offset, 0);
    /// <summary>*(size *)(dst + offset) = src</summary>
    public static Insn Store(Size size, Reg dst, short offset, Reg src) => new((byte)(STX | MEM | (byte)size), Regs(dst, src), offset, 0);
    /// <summary>*(size *)(dst + offset) = imm</summary>
    public static Insn Store(Size size, Reg dst, short offset, int imm) => new((byte)(ST | MEM | (byte)size), Regs(dst, 0), offset, imm);

    /// <summary>An atomic operation on *(size *)(dst + offset) with src (32 or 64 bits wide).</summary>
    public static Insn Atomic(AtomicOp op, Size size, Reg dst, short offset, Reg src)
    {
        if (size is not (Size.W or Size.DW))
            throw new ArgumentOutOfRangeException(nameof(size), size, "atomic operations are 32 (W) or 64 (DW) bits wide");
        return new((byte)(STX | ATOMIC | (byte)size), Regs(dst, src), offset, (int)op);
    }

    /// <summary>The two halves of dst = imm64 (lddw); <paramref name="pseudo"/> marks the immediate as a map fd.</summary>
    public static (Insn, Insn) LoadImm64(Reg dst, long imm, byte pseudo = 0) =>
        (new((byte)(LD | IMM | (byte)Size.DW), Regs(dst, (Reg)pseudo), 0, (int)imm), new(0, 0, 0, (int)(imm >> 32)));

    /// <summary>Calls a kernel helper with r1-r5 as arguments; the result is in r0.</summary>
    public static Insn Call(Helper helper) => new((byte)(JMP | CALL), 0, 0, (int)helper);
    /// <summary>Calls the function that starts <paramref name="offset"/> + 1 instructions further (bpf-to-bpf call).</summary>
    public static Insn CallLocal(int offset) => new((byte)(JMP | CALL), Regs(0, (Reg)PSEUDO_CALL), 0, offset);
    /// <summary>Returns r0 (for XDP: the verdict).</summary>
    public static Insn Exit() => new((byte)(JMP | EXIT), 0, 0, 0);
    /// <summary>Jumps <paramref name="offset"/> instructions forward (backward when negative), unconditionally.</summary>
    public static Insn Jump(short offset) => new((byte)(JMP | JA), 0, offset, 0);
    /// <summary>Jumps <paramref name="offset"/> instructions if dst op imm holds (64-bit compare).</summary>
    public static Insn Jump(JumpOp op, Reg dst, int imm, short offset) => new((byte)(JMP | (byte)op | K), Regs(dst, 0), offset, imm);
    /// <summary>Jumps <paramref name="offset"/> instructions if dst op src holds (64-bit compare).</summary>
    public static Insn Jump(JumpOp op, Reg dst, Reg src, short offset) => new((byte)(JMP | (byte)op | X), Regs(dst, src), offset, 0);
    /// <summary>Jumps <paramref name="offset"/> instructions if dst op imm holds on the low 32 bits.</summary>
    public static Insn Jump32(JumpOp op, Reg dst, int imm, short offset) => new((byte)(JMP32 | (byte)op | K), Regs(dst, 0), offset, imm);
    /// <summary>Jumps <paramref name="offset"/> instructions if dst op src holds on the low 32 bits.</summary>
    public static Insn Jump32(JumpOp op, Reg dst, Reg src, short offset) => new((byte)(JMP32 | (byte)op | X), Regs(dst, src), offset, 0);

    /// <summary>The same instruction with another jump offset (label resolution).</summary>
    public Insn WithOffset(short offset) => this with { Offset = offset };

    /// <summary>The same instruction with another immediate (map fd or call target resolution).</summary>
    public Insn WithImmediate(int imm) => this with { Immediate = imm };

    /// <summary>Disassembly in the kernel's syntax (kernel/bpf/disasm.c), e.g. "r2 = *(u32 *)(r1 +16)".</summary>
    public override string ToString() => Disassembler.Format(this, next: null);
}

/// <summary>
/// Instruction text in the kernel's syntax (kernel/bpf/disasm.c, which the verifier log and
/// `bpftool prog dump xlated` print), for errors and tests.
/// </summary>
public static class Disassembler
{
    static readonly string[] AluNames = ["+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "neg", "%=", "^=", "=", "s>>=", "endian"];
    static readonly string[] JumpNames = ["jmp", "==", ">", ">=", "&", "!=", "s>", "s>=", "call", "exit", "<", "<=", "s<", "s<="];

    /// <summary>
    /// One instruction without its opcode; <paramref name="next"/> is the second half of an lddw.
    /// A map reference prints as map[NAME] when <paramref name="mapName"/> is given, else as map[fd:N].
    /// </summary>
    public static string Format(Insn insn, Insn? next, string? mapName = null)
    {
        int op = insn.Code & 0xf0;
        int dst = (int)insn.Dst, src = (int)insn.Src;
        string size = (insn.Code & 0x18) switch { 0x00 => "u32", 0x08 => "u16", 0x10 => "u8", _ => "u64" };
        bool fromReg = (insn.Code & Insn.X) != 0;
        string at = $"(r{dst} {Signed(insn.Offset)})";
        switch (insn.Class)
        {
            case Insn.ALU64 or Insn.ALU:
                char w = insn.Class == Insn.ALU ? 'w' : 'r';
                if (op == Insn.END)
                    return insn.Class == Insn.ALU ? $"r{dst} = {(fromReg ? "be" : "le")}{insn.Immediate} r{dst}" : Unknown(insn);
                if (op == (int)AluOp.Neg)
                    return $"{w}{dst} = -{w}{dst}";
                if (op > (int)AluOp.Arsh)
                    return Unknown(insn);
                return $"{w}{dst} {AluNames[op >> 4]} {(fromReg ? $"{w}{src}" : insn.Immediate.ToString(CultureInfo.InvariantCulture))}";
            case Insn.LDX when (insn.Code & 0xe0) == Insn.MEM:
                return $"r{dst} = *({size} *){At(insn.Src, insn.Offset)}";
            case Insn.STX when (insn.Code & 0xe0) == Insn.MEM:
                return $"*({size} *){at} = r{src}";
            case Insn.STX when (insn.Code & 0xe0) == Insn.ATOMIC:
                return FormatAtomic(insn, size, at);
            case Insn.ST when (insn.Code & 0xe0) == Insn.MEM:
                return $"*({size} *){at} = {insn.Immediate}";
            case Insn.LD when insn.IsLoadImm64:
                if (insn.Src == (Reg)Insn.PSEUDO_MAP_FD)
                    return mapName is null ? $"r{dst} = map[fd:{insn.Immediate}]" : $"r{dst} = map[{mapName}]";
                ulong imm = (uint)insn.Immediate | ((ulong)(uint)(next?.Immediate ?? 0) << 32);
                return $"r{dst} = 0x{imm:x}";
            case Insn.JMP or Insn.JMP32:
                if (insn.Code == (Insn.JMP | Insn.CALL))
                    return insn.IsLocalCall ? $"call pc{Signed(insn.Immediate)}" : $"call {HelperName(insn.Immediate)}#{insn.Immediate}";
                if (insn.Code == (Insn.JMP | Insn.EXIT))
                    return "exit";
                if (insn.Code == (Insn.JMP | Insn.JA))
                    return $"goto pc{Signed(insn.Offset)}";
                if (op is Insn.CALL or Insn.EXIT or Insn.JA || op > (int)JumpOp.SLe)
                    return Unknown(insn);
                char jw = insn.Class == Insn.JMP32 ? 'w' : 'r';
                string right = fromReg ? $"{jw}{src}" : $"0x{(uint)insn.Immediate:x}";
                return $"if {jw}{dst} {JumpNames[op >> 4]} {right} goto pc{Signed(insn.Offset)}";
            default:
                return Unknown(insn);
        }
    }

    static string FormatAtomic(Insn insn, string size, string at)
    {
        string width = (insn.Code & 0x18) == (byte)Size.DW ? "64" : "";
        int src = (int)insn.Src;
        return (AtomicOp)insn.Immediate switch
        {
            AtomicOp.Add or AtomicOp.Or or AtomicOp.And or AtomicOp.Xor =>
                $"lock *({size} *){at} {AluNames[insn.Immediate >> 4]} r{src}",
            AtomicOp.FetchAdd or AtomicOp.FetchOr or AtomicOp.FetchAnd or AtomicOp.FetchXor =>
                $"r{src} = atomic{width}_fetch_{((AtomicOp)(insn.Immediate & ~1)).ToString().ToLowerInvariant()}(({size} *){at}, r{src})",
            AtomicOp.Xchg => $"r{src} = atomic{width}_xchg(({size} *){at}, r{src})",
            AtomicOp.CmpXchg => $"r0 = atomic{width}_cmpxchg(({size} *){at}, r0, r{src})",
            _ => Unknown(insn),
        };
    }

    static string At(Reg register, short offset) => $"(r{(int)register} {Signed(offset)})";

    static string Signed(int value) => value >= 0 ? "+" + value : value.ToString(CultureInfo.InvariantCulture);

    static string Unknown(Insn insn) => $"(invalid: code 0x{insn.Code:x2} regs 0x{insn.Registers:x2} off {insn.Offset} imm {insn.Immediate})";

    /// <summary>
    /// A whole program as `bpftool prog dump xlated` prints it, one line per instruction:
    /// "   3: (b7) r3 = 2". <paramref name="maps"/> names the map references.
    /// </summary>
    public static string Format(IReadOnlyList<Insn> program, IReadOnlyList<MapReference>? maps = null)
    {
        var text = new StringBuilder();
        for (int i = 0; i < program.Count; i++)
        {
            Insn insn = program[i];
            bool wide = insn.IsLoadImm64 && i + 1 < program.Count;
            string? mapName = maps?.FirstOrDefault(m => m.Index == i).Map?.Name;
            text.Append(CultureInfo.InvariantCulture, $"{i,4}: ({insn.Code:x2}) {Format(insn, wide ? program[i + 1] : null, mapName)}\n");
            if (wide)
                i++;
        }
        return text.ToString();
    }

    static string HelperName(int id) => Enum.IsDefined((Helper)id) ? "bpf_" + SnakeCase(((Helper)id).ToString()) : "unknown";

    static string SnakeCase(string name) =>
        string.Concat(name.Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
