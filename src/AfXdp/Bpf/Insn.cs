using System.Runtime.InteropServices;

namespace AfXdp.Bpf;

/// <summary>An eBPF register.</summary>
public enum Reg : byte
{
    R0, R1, R2, R3, R4, R5, R6, R7, R8, R9,
    /// <summary>Frame pointer (read-only).</summary>
    R10,
}

/// <summary>Width of a load or store.</summary>
public enum Size : byte
{
    W = 0x00,
    H = 0x08,
    B = 0x10,
    DW = 0x18,
}

/// <summary>ALU operation (BPF_ALU / BPF_ALU64 op field).</summary>
public enum AluOp : byte
{
    Add = 0x00, Sub = 0x10, Mul = 0x20, Div = 0x30, Or = 0x40, And = 0x50, Lsh = 0x60, Rsh = 0x70,
    Neg = 0x80, Mod = 0x90, Xor = 0xa0, Mov = 0xb0, Arsh = 0xc0,
}

/// <summary>Conditional jump (BPF_JMP / BPF_JMP32 op field).</summary>
public enum JumpOp : byte
{
    Eq = 0x10, Gt = 0x20, Ge = 0x30, Set = 0x40, Ne = 0x50, SGt = 0x60, SGe = 0x70,
    Lt = 0xa0, Le = 0xb0, SLt = 0xc0, SLe = 0xd0,
}

/// <summary>Kernel helper function ids (enum bpf_func_id).</summary>
public enum Helper
{
    MapLookupElem = 1,
    MapUpdateElem = 2,
    MapDeleteElem = 3,
    KtimeGetNs = 5,
    GetSmpProcessorId = 8,
    RedirectMap = 51,
    XdpAdjustHead = 44,
}

/// <summary>
/// One eBPF instruction, struct bpf_insn (8 bytes): opcode, dst:4/src:4 registers, offset, immediate.
/// A 64-bit immediate load (<c>lddw</c>) takes two instructions.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 8)]
public readonly record struct Insn(byte Code, byte Registers, short Offset, int Immediate)
{
    // Instruction classes (BPF_CLASS)
    public const byte LD = 0x00, LDX = 0x01, ST = 0x02, STX = 0x03, ALU = 0x04, JMP = 0x05, JMP32 = 0x06, ALU64 = 0x07;
    // Modes and sources
    public const byte IMM = 0x00, MEM = 0x60, ATOMIC = 0xc0, K = 0x00, X = 0x08;
    public const byte CALL = 0x80, EXIT = 0x90, JA = 0x00;
    /// <summary>src_reg of an lddw whose immediate is a map fd (BPF_PSEUDO_MAP_FD).</summary>
    public const byte PSEUDO_MAP_FD = 1;

    public Reg Dst => (Reg)(Registers & 0x0f);

    public Reg Src => (Reg)(Registers >> 4);

    public byte Class => (byte)(Code & 0x07);

    static byte Regs(Reg dst, Reg src) => (byte)((byte)dst | ((byte)src << 4));

    public static Insn Alu64(AluOp op, Reg dst, int imm) => new((byte)(ALU64 | (byte)op | K), Regs(dst, 0), 0, imm);
    public static Insn Alu64(AluOp op, Reg dst, Reg src) => new((byte)(ALU64 | (byte)op | X), Regs(dst, src), 0, 0);
    public static Insn Alu32(AluOp op, Reg dst, int imm) => new((byte)(ALU | (byte)op | K), Regs(dst, 0), 0, imm);
    public static Insn Alu32(AluOp op, Reg dst, Reg src) => new((byte)(ALU | (byte)op | X), Regs(dst, src), 0, 0);
    public static Insn Mov64(Reg dst, int imm) => Alu64(AluOp.Mov, dst, imm);
    public static Insn Mov64(Reg dst, Reg src) => Alu64(AluOp.Mov, dst, src);
    public static Insn Mov32(Reg dst, int imm) => Alu32(AluOp.Mov, dst, imm);

    /// <summary>Byte swap to big-endian (network order) of the low 16/32/64 bits: BPF_END | BPF_TO_BE.</summary>
    public static Insn ToBigEndian(Reg dst, int bits) => new((byte)(ALU | 0xd0 | X), Regs(dst, 0), 0, bits);

    /// <summary>dst = *(size *)(src + offset)</summary>
    public static Insn Load(Size size, Reg dst, Reg src, short offset) => new((byte)(LDX | MEM | (byte)size), Regs(dst, src), offset, 0);
    /// <summary>*(size *)(dst + offset) = src</summary>
    public static Insn Store(Size size, Reg dst, short offset, Reg src) => new((byte)(STX | MEM | (byte)size), Regs(dst, src), offset, 0);
    /// <summary>*(size *)(dst + offset) = imm</summary>
    public static Insn Store(Size size, Reg dst, short offset, int imm) => new((byte)(ST | MEM | (byte)size), Regs(dst, 0), offset, imm);
    /// <summary>lock *(u64 *)(dst + offset) += src (BPF_ATOMIC | BPF_ADD).</summary>
    public static Insn AtomicAdd64(Reg dst, short offset, Reg src) => new((byte)(STX | ATOMIC | (byte)Size.DW), Regs(dst, src), offset, (int)AluOp.Add);

    /// <summary>The two halves of dst = imm64 (lddw).</summary>
    public static (Insn, Insn) LoadImm64(Reg dst, long imm, byte pseudo = 0) =>
        (new((byte)(LD | IMM | (byte)Size.DW), Regs(dst, (Reg)pseudo), 0, (int)imm), new(0, 0, 0, (int)(imm >> 32)));

    public static Insn Call(Helper helper) => new((byte)(JMP | CALL), 0, 0, (int)helper);
    public static Insn Exit() => new((byte)(JMP | EXIT), 0, 0, 0);
    public static Insn Jump(short offset) => new((byte)(JMP | JA), 0, offset, 0);
    public static Insn Jump(JumpOp op, Reg dst, int imm, short offset) => new((byte)(JMP | (byte)op | K), Regs(dst, 0), offset, imm);
    public static Insn Jump(JumpOp op, Reg dst, Reg src, short offset) => new((byte)(JMP | (byte)op | X), Regs(dst, src), offset, 0);
    public static Insn Jump32(JumpOp op, Reg dst, int imm, short offset) => new((byte)(JMP32 | (byte)op | K), Regs(dst, 0), offset, imm);

    /// <summary>The same instruction with another jump offset (label resolution).</summary>
    public Insn WithOffset(short offset) => this with { Offset = offset };

    /// <summary>The same lddw with another immediate (map fd resolution).</summary>
    public Insn WithImmediate(int imm) => this with { Immediate = imm };

    /// <summary>Disassembly in the kernel verifier's syntax, e.g. "r2 = *(u32 *)(r1 +16)".</summary>
    public override string ToString() => Disassembler.Format(this, next: null);
}

/// <summary>Instruction text in the verifier's syntax (kernel/bpf/disasm.c), for errors and tests.</summary>
public static class Disassembler
{
    static readonly string[] AluNames = ["+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "neg", "%=", "^=", "=", "s>>=", "endian"];
    static readonly string[] JumpNames = ["", "==", ">", ">=", "&", "!=", "s>", "s>=", "call", "exit", "<", "<=", "s<", "s<="];

    /// <summary>One instruction; <paramref name="next"/> is the second half of an lddw.</summary>
    public static string Format(Insn insn, Insn? next)
    {
        string dst = "r" + (int)insn.Dst, src = "r" + (int)insn.Src;
        int op = insn.Code & 0xf0;
        string size = (insn.Code & 0x18) switch { 0x00 => "u32", 0x08 => "u16", 0x10 => "u8", _ => "u64" };
        bool fromReg = (insn.Code & Insn.X) != 0;
        string off = insn.Offset >= 0 ? "+" + insn.Offset : insn.Offset.ToString();
        switch (insn.Class)
        {
            case Insn.ALU64 or Insn.ALU:
                string w = insn.Class == Insn.ALU ? "w" : "r";
                string d = w + (int)insn.Dst, s = fromReg ? w + (int)insn.Src : insn.Immediate.ToString();
                if (op == 0x80) return $"{d} = -{d}";
                if (op == 0xd0) return $"{d} = {(fromReg ? "be" : "le")}{insn.Immediate} {d}";
                return $"{d} {AluNames[op >> 4]} {s}";
            case Insn.LDX:
                return $"{dst} = *({size} *)({src} {off})";
            case Insn.STX when (insn.Code & 0xe0) == Insn.ATOMIC:
                return $"lock *({size} *)({dst} {off}) += {src}";
            case Insn.STX:
                return $"*({size} *)({dst} {off}) = {src}";
            case Insn.ST:
                return $"*({size} *)({dst} {off}) = {insn.Immediate}";
            case Insn.LD when (insn.Code & 0x18) == (byte)Size.DW:
                long imm = (uint)insn.Immediate | ((long)(next?.Immediate ?? 0) << 32);
                return insn.Src == (Reg)Insn.PSEUDO_MAP_FD ? $"{dst} = map[fd {insn.Immediate}] ll" : $"{dst} = {imm} ll";
            case Insn.JMP or Insn.JMP32:
                if (op == Insn.CALL) return $"call {HelperName(insn.Immediate)}#{insn.Immediate}";
                if (op == Insn.EXIT) return "exit";
                if (op == Insn.JA) return $"goto pc{off}";
                string jw = insn.Class == Insn.JMP32 ? "w" : "r";
                string right = fromReg ? jw + (int)insn.Src : insn.Immediate.ToString();
                return $"if {jw}{(int)insn.Dst} {JumpNames[op >> 4]} {right} goto pc{off}";
            default:
                return $"(code 0x{insn.Code:x2} regs 0x{insn.Registers:x2} off {insn.Offset} imm {insn.Immediate})";
        }
    }

    /// <summary>A whole program, one numbered line per instruction.</summary>
    public static string Format(IReadOnlyList<Insn> program)
    {
        var text = new System.Text.StringBuilder();
        for (int i = 0; i < program.Count; i++)
        {
            bool wide = program[i].Class == Insn.LD && (program[i].Code & 0x18) == (byte)Size.DW && i + 1 < program.Count;
            text.Append($"{i,4}: {Format(program[i], wide ? program[i + 1] : null)}\n");
            if (wide)
                i++;
        }
        return text.ToString();
    }

    static string HelperName(int id) => Enum.IsDefined((Helper)id) ? "bpf_" + SnakeCase(((Helper)id).ToString()) : "helper";

    static string SnakeCase(string name) =>
        string.Concat(name.Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
