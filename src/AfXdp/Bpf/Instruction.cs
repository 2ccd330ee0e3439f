using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace AfXdp.Bpf;

/// <summary>An eBPF register; the members carry the kernel's names (r0 to r10).</summary>
public enum Register : byte
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

/// <summary>Width of a load or store (the kernel's BPF_SIZE field).</summary>
public enum AccessSize : byte
{
    /// <summary>32-bit word (the kernel's BPF_W, u32 in the disassembly).</summary>
    Word = 0x00,
    /// <summary>16-bit half word (the kernel's BPF_H, u16).</summary>
    HalfWord = 0x08,
    /// <summary>One byte (the kernel's BPF_B, u8).</summary>
    Byte = 0x10,
    /// <summary>64-bit double word (the kernel's BPF_DW, u64).</summary>
    DoubleWord = 0x18,
}

/// <summary>Arithmetic operation (the op field of the kernel's BPF_ALU / BPF_ALU64 classes).</summary>
public enum AluOperation : byte
{
    /// <summary>dst += src</summary>
    Add = 0x00,
    /// <summary>dst -= src (BPF_SUB)</summary>
    Subtract = 0x10,
    /// <summary>dst *= src (BPF_MUL)</summary>
    Multiply = 0x20,
    /// <summary>dst /= src (BPF_DIV; unsigned; division by zero gives 0)</summary>
    Divide = 0x30,
    /// <summary>dst |= src</summary>
    Or = 0x40,
    /// <summary>dst &amp;= src</summary>
    And = 0x50,
    /// <summary>dst &lt;&lt;= src (BPF_LSH)</summary>
    ShiftLeft = 0x60,
    /// <summary>dst &gt;&gt;= src (BPF_RSH; logical)</summary>
    ShiftRight = 0x70,
    /// <summary>dst = -dst (BPF_NEG)</summary>
    Negate = 0x80,
    /// <summary>dst %= src (BPF_MOD; unsigned; modulo zero leaves dst)</summary>
    Modulo = 0x90,
    /// <summary>dst ^= src</summary>
    Xor = 0xa0,
    /// <summary>dst = src (BPF_MOV)</summary>
    Move = 0xb0,
    /// <summary>dst &gt;&gt;= src (BPF_ARSH; arithmetic, sign-extending)</summary>
    ArithmeticShiftRight = 0xc0,
}

/// <summary>Condition of a conditional jump (the op field of the kernel's BPF_JMP / BPF_JMP32 classes).</summary>
public enum JumpCondition : byte
{
    /// <summary>Jump if dst == src (BPF_JEQ).</summary>
    Equal = 0x10,
    /// <summary>Jump if dst &gt; src, unsigned (BPF_JGT).</summary>
    GreaterThan = 0x20,
    /// <summary>Jump if dst &gt;= src, unsigned (BPF_JGE).</summary>
    GreaterThanOrEqual = 0x30,
    /// <summary>Jump if dst &amp; src is not zero (BPF_JSET).</summary>
    AnyBitSet = 0x40,
    /// <summary>Jump if dst != src (BPF_JNE).</summary>
    NotEqual = 0x50,
    /// <summary>Jump if dst &gt; src, signed (BPF_JSGT).</summary>
    SignedGreaterThan = 0x60,
    /// <summary>Jump if dst &gt;= src, signed (BPF_JSGE).</summary>
    SignedGreaterThanOrEqual = 0x70,
    /// <summary>Jump if dst &lt; src, unsigned (BPF_JLT).</summary>
    LessThan = 0xa0,
    /// <summary>Jump if dst &lt;= src, unsigned (BPF_JLE).</summary>
    LessThanOrEqual = 0xb0,
    /// <summary>Jump if dst &lt; src, signed (BPF_JSLT).</summary>
    SignedLessThan = 0xc0,
    /// <summary>Jump if dst &lt;= src, signed (BPF_JSLE).</summary>
    SignedLessThanOrEqual = 0xd0,
}

/// <summary>
/// Atomic read-modify-write on memory (the immediate of a BPF_STX | BPF_ATOMIC instruction).
/// The Fetch variants, <see cref="Exchange"/> and <see cref="CompareExchange"/> also return the old value
/// (in the source register; in r0 for <see cref="CompareExchange"/>, which compares with r0).
/// </summary>
public enum AtomicOperation
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
    /// <summary>Swaps *dst and src (BPF_XCHG).</summary>
    Exchange = 0xe1,
    /// <summary>If *dst == r0 then *dst = src; r0 gets the old value (BPF_CMPXCHG).</summary>
    CompareExchange = 0xf1,
}

/// <summary>
/// Kernel helper function ids (enum bpf_func_id in include/uapi/linux/bpf.h); each member is the
/// kernel's name without the bpf_ prefix, in PascalCase, so that the disassembly prints the kernel's.
/// </summary>
public enum BpfHelper
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
public readonly record struct Instruction(byte Code, byte Registers, short Offset, int Immediate)
{
    /// <summary>The destination register (low nibble of the register byte).</summary>
    public Register Destination => (Register)(Registers & 0x0f);

    /// <summary>The source register (high nibble of the register byte).</summary>
    public Register Source => (Register)(Registers >> 4);

    /// <summary>The instruction class, the low three bits of the opcode (BPF_LD to BPF_ALU64).</summary>
    public byte Class => (byte)(Code & 0x07);

    /// <summary>The first half of a 64-bit immediate load (the second half follows it).</summary>
    public bool IsLoadImm64 => Code == (Opcode.Ld | Opcode.Imm | (byte)AccessSize.DoubleWord);

    /// <summary>A call to a function of the same program (bpf-to-bpf call).</summary>
    public bool IsLocalCall => Code == (Opcode.Jmp | Opcode.Call) && Source == (Register)Opcode.PseudoCall;

    static byte Regs(Register destination, Register source) => (byte)((byte)destination | ((byte)source << 4));

    /// <summary>dst = dst op imm, 64 bits.</summary>
    public static Instruction Alu64(AluOperation operation, Register destination, int immediate) => new((byte)(Opcode.Alu64 | (byte)operation | Opcode.K), Regs(destination, 0), 0, immediate);
    /// <summary>dst = dst op src, 64 bits.</summary>
    public static Instruction Alu64(AluOperation operation, Register destination, Register source) => new((byte)(Opcode.Alu64 | (byte)operation | Opcode.X), Regs(destination, source), 0, 0);
    /// <summary>dst = dst op imm on the low 32 bits; the upper half is zeroed.</summary>
    public static Instruction Alu32(AluOperation operation, Register destination, int immediate) => new((byte)(Opcode.Alu | (byte)operation | Opcode.K), Regs(destination, 0), 0, immediate);
    /// <summary>dst = dst op src on the low 32 bits; the upper half is zeroed.</summary>
    public static Instruction Alu32(AluOperation operation, Register destination, Register source) => new((byte)(Opcode.Alu | (byte)operation | Opcode.X), Regs(destination, source), 0, 0);
    /// <summary>dst = imm (sign-extended to 64 bits).</summary>
    public static Instruction Mov64(Register destination, int immediate) => Alu64(AluOperation.Move, destination, immediate);
    /// <summary>dst = src, 64 bits.</summary>
    public static Instruction Mov64(Register destination, Register source) => Alu64(AluOperation.Move, destination, source);
    /// <summary>dst = imm in the low 32 bits; the upper half is zeroed.</summary>
    public static Instruction Mov32(Register destination, int immediate) => Alu32(AluOperation.Move, destination, immediate);
    /// <summary>dst = low 32 bits of src; the upper half is zeroed.</summary>
    public static Instruction Mov32(Register destination, Register source) => Alu32(AluOperation.Move, destination, source);
    /// <summary>dst = -dst (64 bits).</summary>
    public static Instruction Neg64(Register destination) => Alu64(AluOperation.Negate, destination, 0);
    /// <summary>dst = -dst (low 32 bits, upper half zeroed).</summary>
    public static Instruction Neg32(Register destination) => Alu32(AluOperation.Negate, destination, 0);

    /// <summary>Converts the low 16/32/64 bits from host order to big-endian (network order): BPF_END | BPF_TO_BE.</summary>
    public static Instruction ToBigEndian(Register destination, int bits) => Endian(destination, bits, Opcode.X);

    /// <summary>Converts the low 16/32/64 bits from host order to little-endian (truncates on a little-endian host): BPF_END | BPF_TO_LE.</summary>
    public static Instruction ToLittleEndian(Register destination, int bits) => Endian(destination, bits, Opcode.K);

    static Instruction Endian(Register destination, int bits, byte direction)
    {
        if (bits is not (16 or 32 or 64))
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "byte swaps are 16, 32 or 64 bits wide");
        return new((byte)(Opcode.Alu | Opcode.End | direction), Regs(destination, 0), 0, bits);
    }

    /// <summary>dst = *(size *)(src + offset)</summary>
    public static Instruction Load(AccessSize size, Register destination, Register source, short offset) => new((byte)(Opcode.Ldx | Opcode.Mem | (byte)size), Regs(destination, source), offset, 0);
    /// <summary>*(size *)(dst + offset) = src</summary>
    public static Instruction Store(AccessSize size, Register destination, short offset, Register source) => new((byte)(Opcode.Stx | Opcode.Mem | (byte)size), Regs(destination, source), offset, 0);
    /// <summary>*(size *)(dst + offset) = imm</summary>
    public static Instruction Store(AccessSize size, Register destination, short offset, int immediate) => new((byte)(Opcode.St | Opcode.Mem | (byte)size), Regs(destination, 0), offset, immediate);

    /// <summary>An atomic operation on *(size *)(dst + offset) with src (32 or 64 bits wide).</summary>
    public static Instruction Atomic(AtomicOperation operation, AccessSize size, Register destination, short offset, Register source)
    {
        if (size is not (AccessSize.Word or AccessSize.DoubleWord))
            throw new ArgumentOutOfRangeException(nameof(size), size, "atomic operations are 32 (AccessSize.Word) or 64 (AccessSize.DoubleWord) bits wide");
        return new((byte)(Opcode.Stx | Opcode.Atomic | (byte)size), Regs(destination, source), offset, (int)operation);
    }

    /// <summary>The two halves of dst = imm64 (lddw).</summary>
    public static (Instruction, Instruction) LoadImm64(Register destination, long immediate) => LoadImm64(destination, immediate, 0);

    /// <summary>The two halves of dst = map (lddw with the kernel's BPF_PSEUDO_MAP_FD): the kernel takes <paramref name="mapFd"/> for the map.</summary>
    internal static (Instruction, Instruction) LoadMapFd(Register destination, int mapFd) => LoadImm64(destination, mapFd, Opcode.PseudoMapFd);

    static (Instruction, Instruction) LoadImm64(Register destination, long immediate, byte pseudo) =>
        (new((byte)(Opcode.Ld | Opcode.Imm | (byte)AccessSize.DoubleWord), Regs(destination, (Register)pseudo), 0, (int)immediate), new(0, 0, 0, (int)(immediate >> 32)));

    /// <summary>Calls a kernel helper with r1-r5 as arguments; the result is in r0.</summary>
    public static Instruction Call(BpfHelper helper) => new((byte)(Opcode.Jmp | Opcode.Call), 0, 0, (int)helper);
    /// <summary>Calls the function that starts <paramref name="offset"/> + 1 instructions further (bpf-to-bpf call).</summary>
    public static Instruction CallLocal(int offset) => new((byte)(Opcode.Jmp | Opcode.Call), Regs(0, (Register)Opcode.PseudoCall), 0, offset);
    /// <summary>Returns r0 (for XDP: the verdict).</summary>
    public static Instruction Exit() => new((byte)(Opcode.Jmp | Opcode.Exit), 0, 0, 0);
    /// <summary>Jumps <paramref name="offset"/> instructions forward (backward when negative), unconditionally.</summary>
    public static Instruction Jump(short offset) => new((byte)(Opcode.Jmp | Opcode.Ja), 0, offset, 0);
    /// <summary>Jumps <paramref name="offset"/> instructions if dst op imm holds (64-bit compare).</summary>
    public static Instruction Jump(JumpCondition condition, Register destination, int immediate, short offset) => new((byte)(Opcode.Jmp | (byte)condition | Opcode.K), Regs(destination, 0), offset, immediate);
    /// <summary>Jumps <paramref name="offset"/> instructions if dst op src holds (64-bit compare).</summary>
    public static Instruction Jump(JumpCondition condition, Register destination, Register source, short offset) => new((byte)(Opcode.Jmp | (byte)condition | Opcode.X), Regs(destination, source), offset, 0);
    /// <summary>Jumps <paramref name="offset"/> instructions if dst op imm holds on the low 32 bits.</summary>
    public static Instruction Jump32(JumpCondition condition, Register destination, int immediate, short offset) => new((byte)(Opcode.Jmp32 | (byte)condition | Opcode.K), Regs(destination, 0), offset, immediate);
    /// <summary>Jumps <paramref name="offset"/> instructions if dst op src holds on the low 32 bits.</summary>
    public static Instruction Jump32(JumpCondition condition, Register destination, Register source, short offset) => new((byte)(Opcode.Jmp32 | (byte)condition | Opcode.X), Regs(destination, source), offset, 0);

    /// <summary>The same instruction with another jump offset (label resolution).</summary>
    public Instruction WithOffset(short offset) => this with { Offset = offset };

    /// <summary>The same instruction with another immediate (map fd or call target resolution).</summary>
    public Instruction WithImmediate(int immediate) => this with { Immediate = immediate };

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
    public static string Format(Instruction instruction, Instruction? next, string? mapName = null)
    {
        int op = instruction.Code & 0xf0;
        int dst = (int)instruction.Destination, src = (int)instruction.Source;
        string size = (instruction.Code & 0x18) switch { 0x00 => "u32", 0x08 => "u16", 0x10 => "u8", _ => "u64" };
        bool fromReg = (instruction.Code & Opcode.X) != 0;
        string at = $"(r{dst} {Signed(instruction.Offset)})";
        switch (instruction.Class)
        {
            case Opcode.Alu64 or Opcode.Alu:
                char w = instruction.Class == Opcode.Alu ? 'w' : 'r';
                if (op == Opcode.End)
                    return instruction.Class == Opcode.Alu ? $"r{dst} = {(fromReg ? "be" : "le")}{instruction.Immediate} r{dst}" : Unknown(instruction);
                if (op == (int)AluOperation.Negate)
                    return $"{w}{dst} = -{w}{dst}";
                if (op > (int)AluOperation.ArithmeticShiftRight)
                    return Unknown(instruction);
                return $"{w}{dst} {AluNames[op >> 4]} {(fromReg ? $"{w}{src}" : instruction.Immediate.ToString(CultureInfo.InvariantCulture))}";
            case Opcode.Ldx when (instruction.Code & 0xe0) == Opcode.Mem:
                return $"r{dst} = *({size} *){At(instruction.Source, instruction.Offset)}";
            case Opcode.Stx when (instruction.Code & 0xe0) == Opcode.Mem:
                return $"*({size} *){at} = r{src}";
            case Opcode.Stx when (instruction.Code & 0xe0) == Opcode.Atomic:
                return FormatAtomic(instruction, size, at);
            case Opcode.St when (instruction.Code & 0xe0) == Opcode.Mem:
                return $"*({size} *){at} = {instruction.Immediate}";
            case Opcode.Ld when instruction.IsLoadImm64:
                if (instruction.Source == (Register)Opcode.PseudoMapFd)
                    return mapName is null ? $"r{dst} = map[fd:{instruction.Immediate}]" : $"r{dst} = map[{mapName}]";
                ulong imm = (uint)instruction.Immediate | ((ulong)(uint)(next?.Immediate ?? 0) << 32);
                return $"r{dst} = 0x{imm:x}";
            case Opcode.Jmp or Opcode.Jmp32:
                if (instruction.Code == (Opcode.Jmp | Opcode.Call))
                    return instruction.IsLocalCall ? $"call pc{Signed(instruction.Immediate)}" : $"call {HelperName(instruction.Immediate)}#{instruction.Immediate}";
                if (instruction.Code == (Opcode.Jmp | Opcode.Exit))
                    return "exit";
                if (instruction.Code == (Opcode.Jmp | Opcode.Ja))
                    return $"goto pc{Signed(instruction.Offset)}";
                if (op is Opcode.Call or Opcode.Exit or Opcode.Ja || op > (int)JumpCondition.SignedLessThanOrEqual)
                    return Unknown(instruction);
                char jw = instruction.Class == Opcode.Jmp32 ? 'w' : 'r';
                string right = fromReg ? $"{jw}{src}" : $"0x{(uint)instruction.Immediate:x}";
                return $"if {jw}{dst} {JumpNames[op >> 4]} {right} goto pc{Signed(instruction.Offset)}";
            default:
                return Unknown(instruction);
        }
    }

    static string FormatAtomic(Instruction instruction, string size, string at)
    {
        string width = (instruction.Code & 0x18) == (byte)AccessSize.DoubleWord ? "64" : "";
        int src = (int)instruction.Source;
        return (AtomicOperation)instruction.Immediate switch
        {
            AtomicOperation.Add or AtomicOperation.Or or AtomicOperation.And or AtomicOperation.Xor =>
                $"lock *({size} *){at} {AluNames[instruction.Immediate >> 4]} r{src}",
            AtomicOperation.FetchAdd or AtomicOperation.FetchOr or AtomicOperation.FetchAnd or AtomicOperation.FetchXor =>
                $"r{src} = atomic{width}_fetch_{((AtomicOperation)(instruction.Immediate & ~1)).ToString().ToLowerInvariant()}(({size} *){at}, r{src})",
            AtomicOperation.Exchange => $"r{src} = atomic{width}_xchg(({size} *){at}, r{src})",
            AtomicOperation.CompareExchange => $"r0 = atomic{width}_cmpxchg(({size} *){at}, r0, r{src})",
            _ => Unknown(instruction),
        };
    }

    static string At(Register register, short offset) => $"(r{(int)register} {Signed(offset)})";

    static string Signed(int value) => value >= 0 ? "+" + value : value.ToString(CultureInfo.InvariantCulture);

    static string Unknown(Instruction instruction) => $"(invalid: code 0x{instruction.Code:x2} regs 0x{instruction.Registers:x2} off {instruction.Offset} imm {instruction.Immediate})";

    /// <summary>
    /// A whole program as `bpftool prog dump xlated` prints it, one line per instruction:
    /// "   3: (b7) r3 = 2". <paramref name="maps"/> names the map references.
    /// </summary>
    public static string Format(IReadOnlyList<Instruction> program, IReadOnlyList<MapReference>? maps = null)
    {
        var text = new StringBuilder();
        for (int i = 0; i < program.Count; i++)
        {
            Instruction instruction = program[i];
            bool wide = instruction.IsLoadImm64 && i + 1 < program.Count;
            string? mapName = maps?.FirstOrDefault(m => m.Index == i).Map?.Name;
            text.Append(CultureInfo.InvariantCulture, $"{i,4}: ({instruction.Code:x2}) {Format(instruction, wide ? program[i + 1] : null, mapName)}\n");
            if (wide)
                i++;
        }
        return text.ToString();
    }

    static string HelperName(int id) => Enum.IsDefined((BpfHelper)id) ? "bpf_" + SnakeCase(((BpfHelper)id).ToString()) : "unknown";

    static string SnakeCase(string name) =>
        string.Concat(name.Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}

/// <summary>
/// The kernel's opcode fields (include/uapi/linux/bpf.h, bpf_common.h), under their kernel names
/// in PascalCase: the ABI that <see cref="Instruction"/>'s factories encode and the disassembler decodes.
/// </summary>
internal static class Opcode
{
    /// <summary>Instruction class BPF_LD: loads of immediates (lddw).</summary>
    public const byte Ld = 0x00;
    /// <summary>Instruction class BPF_LDX: loads from memory into a register.</summary>
    public const byte Ldx = 0x01;
    /// <summary>Instruction class BPF_ST: stores of an immediate.</summary>
    public const byte St = 0x02;
    /// <summary>Instruction class BPF_STX: stores of a register, and atomics.</summary>
    public const byte Stx = 0x03;
    /// <summary>Instruction class BPF_ALU: 32-bit arithmetic.</summary>
    public const byte Alu = 0x04;
    /// <summary>Instruction class BPF_JMP: 64-bit jumps, calls and exit.</summary>
    public const byte Jmp = 0x05;
    /// <summary>Instruction class BPF_JMP32: jumps comparing the low 32 bits.</summary>
    public const byte Jmp32 = 0x06;
    /// <summary>Instruction class BPF_ALU64: 64-bit arithmetic.</summary>
    public const byte Alu64 = 0x07;
    /// <summary>Mode BPF_IMM: the operand is the immediate (with BPF_LD: lddw).</summary>
    public const byte Imm = 0x00;
    /// <summary>Mode BPF_MEM: a load or store at register + offset.</summary>
    public const byte Mem = 0x60;
    /// <summary>Mode BPF_ATOMIC: an atomic operation, chosen by the immediate (<see cref="AtomicOperation"/>).</summary>
    public const byte Atomic = 0xc0;
    /// <summary>Source BPF_K: the second operand is the immediate.</summary>
    public const byte K = 0x00;
    /// <summary>Source BPF_X: the second operand is the source register.</summary>
    public const byte X = 0x08;
    /// <summary>Jump op BPF_CALL: call a helper (or a local function).</summary>
    public const byte Call = 0x80;
    /// <summary>Jump op BPF_EXIT: return r0.</summary>
    public const byte Exit = 0x90;
    /// <summary>Jump op BPF_JA: jump always.</summary>
    public const byte Ja = 0x00;
    /// <summary>ALU op BPF_END: byte swap.</summary>
    public const byte End = 0xd0;
    /// <summary>src_reg of an lddw whose immediate is a map fd (BPF_PSEUDO_MAP_FD).</summary>
    public const byte PseudoMapFd = 1;
    /// <summary>src_reg of a call to a function of the same program, imm = relative offset (BPF_PSEUDO_CALL).</summary>
    public const byte PseudoCall = 1;
}
