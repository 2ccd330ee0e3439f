using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace AfXdp.Bpf;

/// <summary>An eBPF register.</summary>
public enum Reg : byte
{
    R0, R1, R2, R3, R4, R5, R6, R7, R8, R9,
    /// <summary>Frame pointer (read-only).</summary>
    R10,
}

/// <summary>Width of a load or store (BPF_SIZE).</summary>
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

/// <summary>
/// Atomic read-modify-write on memory (the immediate of a BPF_STX | BPF_ATOMIC instruction).
/// The Fetch variants, <see cref="Xchg"/> and <see cref="CmpXchg"/> also return the old value
/// (in the source register; in r0 for <see cref="CmpXchg"/>, which compares with r0).
/// </summary>
public enum AtomicOp
{
    Add = 0x00, Or = 0x40, And = 0x50, Xor = 0xa0,
    FetchAdd = 0x01, FetchOr = 0x41, FetchAnd = 0x51, FetchXor = 0xa1,
    Xchg = 0xe1, CmpXchg = 0xf1,
}

/// <summary>Kernel helper function ids (enum bpf_func_id in include/uapi/linux/bpf.h).</summary>
public enum Helper
{
    MapLookupElem = 1,
    MapUpdateElem = 2,
    MapDeleteElem = 3,
    KtimeGetNs = 5,
    TracePrintk = 6,
    GetPrandomU32 = 7,
    GetSmpProcessorId = 8,
    TailCall = 12,
    Redirect = 23,
    XdpAdjustHead = 44,
    RedirectMap = 51,
    XdpAdjustMeta = 54,
    XdpAdjustTail = 65,
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
    // Instruction classes (BPF_CLASS)
    public const byte LD = 0x00, LDX = 0x01, ST = 0x02, STX = 0x03, ALU = 0x04, JMP = 0x05, JMP32 = 0x06, ALU64 = 0x07;
    // Modes and sources
    public const byte IMM = 0x00, MEM = 0x60, ATOMIC = 0xc0, K = 0x00, X = 0x08;
    public const byte CALL = 0x80, EXIT = 0x90, JA = 0x00, END = 0xd0;
    /// <summary>src_reg of an lddw whose immediate is a map fd (BPF_PSEUDO_MAP_FD).</summary>
    public const byte PSEUDO_MAP_FD = 1;
    /// <summary>src_reg of a call to a function of the same program, imm = relative offset (BPF_PSEUDO_CALL).</summary>
    public const byte PSEUDO_CALL = 1;

    public Reg Dst => (Reg)(Registers & 0x0f);

    public Reg Src => (Reg)(Registers >> 4);

    public byte Class => (byte)(Code & 0x07);

    /// <summary>The first half of a 64-bit immediate load (the second half follows it).</summary>
    public bool IsLoadImm64 => Code == (LD | IMM | (byte)Size.DW);

    /// <summary>A call to a function of the same program (bpf-to-bpf call).</summary>
    public bool IsLocalCall => Code == (JMP | CALL) && Src == (Reg)PSEUDO_CALL;

    static byte Regs(Reg dst, Reg src) => (byte)((byte)dst | ((byte)src << 4));

    public static Insn Alu64(AluOp op, Reg dst, int imm) => new((byte)(ALU64 | (byte)op | K), Regs(dst, 0), 0, imm);
    public static Insn Alu64(AluOp op, Reg dst, Reg src) => new((byte)(ALU64 | (byte)op | X), Regs(dst, src), 0, 0);
    public static Insn Alu32(AluOp op, Reg dst, int imm) => new((byte)(ALU | (byte)op | K), Regs(dst, 0), 0, imm);
    public static Insn Alu32(AluOp op, Reg dst, Reg src) => new((byte)(ALU | (byte)op | X), Regs(dst, src), 0, 0);
    public static Insn Mov64(Reg dst, int imm) => Alu64(AluOp.Mov, dst, imm);
    public static Insn Mov64(Reg dst, Reg src) => Alu64(AluOp.Mov, dst, src);
    public static Insn Mov32(Reg dst, int imm) => Alu32(AluOp.Mov, dst, imm);
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

    public static Insn Call(Helper helper) => new((byte)(JMP | CALL), 0, 0, (int)helper);
    /// <summary>Calls the function that starts <paramref name="offset"/> + 1 instructions further (bpf-to-bpf call).</summary>
    public static Insn CallLocal(int offset) => new((byte)(JMP | CALL), Regs(0, (Reg)PSEUDO_CALL), 0, offset);
    public static Insn Exit() => new((byte)(JMP | EXIT), 0, 0, 0);
    public static Insn Jump(short offset) => new((byte)(JMP | JA), 0, offset, 0);
    public static Insn Jump(JumpOp op, Reg dst, int imm, short offset) => new((byte)(JMP | (byte)op | K), Regs(dst, 0), offset, imm);
    public static Insn Jump(JumpOp op, Reg dst, Reg src, short offset) => new((byte)(JMP | (byte)op | X), Regs(dst, src), offset, 0);
    public static Insn Jump32(JumpOp op, Reg dst, int imm, short offset) => new((byte)(JMP32 | (byte)op | K), Regs(dst, 0), offset, imm);
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
