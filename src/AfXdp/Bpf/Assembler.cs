using static AfXdp.Bpf.Register;

namespace AfXdp.Bpf;

/// <summary>
/// Builds a program: instructions as values, jumps to symbolic labels (resolved by
/// <see cref="Build"/>), and map references by object (resolved to fds at load).
/// </summary>
public sealed class Assembler
{
    readonly List<Instruction> _instructions = [];
    readonly Dictionary<string, int> _labels = [];
    readonly List<(int Index, string Label)> _jumps = [];
    readonly List<(int Index, string Label)> _calls = [];
    readonly List<MapReference> _maps = [];

    /// <summary>Instructions so far (an lddw counts two).</summary>
    public int Count => _instructions.Count;

    /// <summary>Appends one instruction as it is.</summary>
    public Assembler Emit(Instruction instruction)
    {
        _instructions.Add(instruction);
        return this;
    }

    /// <summary>Marks the position of the next instruction.</summary>
    public Assembler Label(string name)
    {
        if (!_labels.TryAdd(name, _instructions.Count))
            throw new ArgumentException($"label '{name}' is defined twice", nameof(name));
        return this;
    }

    /// <summary>Appends dst = imm (sign-extended to 64 bits).</summary>
    public Assembler Mov64(Register destination, int immediate) => Emit(Instruction.Mov64(destination, immediate));
    /// <summary>Appends dst = src (64 bits).</summary>
    public Assembler Mov64(Register destination, Register source) => Emit(Instruction.Mov64(destination, source));
    /// <summary>Appends dst = imm in the low 32 bits, upper half zeroed.</summary>
    public Assembler Mov32(Register destination, int immediate) => Emit(Instruction.Mov32(destination, immediate));
    /// <summary>Appends dst = low 32 bits of src, upper half zeroed.</summary>
    public Assembler Mov32(Register destination, Register source) => Emit(Instruction.Mov32(destination, source));
    /// <summary>Appends dst = dst op imm (64 bits).</summary>
    public Assembler Alu64(AluOperation operation, Register destination, int immediate) => Emit(Instruction.Alu64(operation, destination, immediate));
    /// <summary>Appends dst = dst op src (64 bits).</summary>
    public Assembler Alu64(AluOperation operation, Register destination, Register source) => Emit(Instruction.Alu64(operation, destination, source));
    /// <summary>Appends dst = dst op imm on the low 32 bits.</summary>
    public Assembler Alu32(AluOperation operation, Register destination, int immediate) => Emit(Instruction.Alu32(operation, destination, immediate));
    /// <summary>Appends dst = dst op src on the low 32 bits.</summary>
    public Assembler Alu32(AluOperation operation, Register destination, Register source) => Emit(Instruction.Alu32(operation, destination, source));
    /// <summary>Appends dst = -dst (64 bits).</summary>
    public Assembler Neg64(Register destination) => Emit(Instruction.Neg64(destination));
    /// <summary>Appends dst = -dst (low 32 bits).</summary>
    public Assembler Neg32(Register destination) => Emit(Instruction.Neg32(destination));
    /// <summary>Appends a swap of the low 16, 32 or 64 bits to network order.</summary>
    public Assembler ToBigEndian(Register destination, int bits) => Emit(Instruction.ToBigEndian(destination, bits));
    /// <summary>Appends a conversion of the low 16, 32 or 64 bits to little-endian.</summary>
    public Assembler ToLittleEndian(Register destination, int bits) => Emit(Instruction.ToLittleEndian(destination, bits));
    /// <summary>Appends dst = *(size *)(src + offset).</summary>
    public Assembler Load(AccessSize size, Register destination, Register source, short offset) => Emit(Instruction.Load(size, destination, source, offset));
    /// <summary>Appends *(size *)(dst + offset) = src.</summary>
    public Assembler Store(AccessSize size, Register destination, short offset, Register source) => Emit(Instruction.Store(size, destination, offset, source));
    /// <summary>Appends *(size *)(dst + offset) = imm.</summary>
    public Assembler Store(AccessSize size, Register destination, short offset, int immediate) => Emit(Instruction.Store(size, destination, offset, immediate));
    /// <summary>Appends an atomic operation on *(size *)(dst + offset) with src.</summary>
    public Assembler Atomic(AtomicOperation operation, AccessSize size, Register destination, short offset, Register source) => Emit(Instruction.Atomic(operation, size, destination, offset, source));
    /// <summary>Appends a call of a kernel helper (arguments in r1-r5, result in r0).</summary>
    public Assembler Call(BpfHelper helper) => Emit(Instruction.Call(helper));
    /// <summary>Appends the return of r0.</summary>
    public Assembler Exit() => Emit(Instruction.Exit());

    /// <summary>Calls the function that starts at <paramref name="label"/> (bpf-to-bpf call; r1-r5 are its arguments, r0 its result).</summary>
    public Assembler Call(string label)
    {
        _calls.Add((_instructions.Count, label));
        return Emit(Instruction.CallLocal(0));
    }

    /// <summary>dst = imm64 (two instructions).</summary>
    public Assembler LoadImm64(Register destination, long immediate)
    {
        (Instruction lo, Instruction hi) = Instruction.LoadImm64(destination, immediate);
        return Emit(lo).Emit(hi);
    }

    /// <summary>dst = the map's fd, patched when the program loads (lddw with BPF_PSEUDO_MAP_FD).</summary>
    public Assembler LoadMap(Register destination, IBpfMapReference map)
    {
        ArgumentNullException.ThrowIfNull(map);
        _maps.Add(new MapReference(_instructions.Count, map));
        (Instruction lo, Instruction hi) = Instruction.LoadMapFd(destination, 0);
        return Emit(lo).Emit(hi);
    }

    /// <summary>
    /// r0 = bpf_redirect_map(xskMap, ctx->rx_queue_index, XDP_PASS), with the program's context in
    /// <paramref name="context"/>: the frame goes to the socket of its queue, or to the kernel when the
    /// queue's slot is empty. Clobbers r1-r5.
    /// </summary>
    public Assembler RedirectToQueueSocket(Register context, IBpfMapReference xskMap) => this
        .Load(AccessSize.Word, R2, context, XdpMd.RxQueueIndex)
        .LoadMap(R1, xskMap)
        .Mov64(R3, 2) // XDP_PASS
        .Call(BpfHelper.RedirectMap);

    /// <summary>goto label</summary>
    public Assembler Jump(string label) => JumpTo(Instruction.Jump(0), label);

    /// <summary>if dst OP imm goto label</summary>
    public Assembler JumpIf(JumpCondition condition, Register destination, int immediate, string label) => JumpTo(Instruction.Jump(condition, destination, immediate, 0), label);

    /// <summary>if dst OP src goto label</summary>
    public Assembler JumpIf(JumpCondition condition, Register destination, Register source, string label) => JumpTo(Instruction.Jump(condition, destination, source, 0), label);

    /// <summary>if (u32)dst OP imm goto label</summary>
    public Assembler JumpIf32(JumpCondition condition, Register destination, int immediate, string label) => JumpTo(Instruction.Jump32(condition, destination, immediate, 0), label);

    /// <summary>if (u32)dst OP (u32)src goto label</summary>
    public Assembler JumpIf32(JumpCondition condition, Register destination, Register source, string label) => JumpTo(Instruction.Jump32(condition, destination, source, 0), label);

    Assembler JumpTo(Instruction jump, string label)
    {
        _jumps.Add((_instructions.Count, label));
        return Emit(jump);
    }

    /// <summary>Resolves labels; throws naming an undefined label or an out-of-range jump.</summary>
    public (Instruction[] Instructions, MapReference[] Maps) Build()
    {
        Instruction[] result = [.. _instructions];
        foreach ((int index, string label) in _jumps)
        {
            int offset = OffsetTo(index, label, "jump");
            if (offset is < short.MinValue or > short.MaxValue)
                throw new InvalidOperationException($"jump at instruction {index} to '{label}' is out of range ({offset})");
            result[index] = result[index].WithOffset((short)offset);
        }
        foreach ((int index, string label) in _calls)
            result[index] = result[index].WithImmediate(OffsetTo(index, label, "call"));
        return (result, [.. _maps]);
    }

    int OffsetTo(int index, string label, string what) => _labels.TryGetValue(label, out int target)
        ? target - index - 1
        : throw new InvalidOperationException($"{what} at instruction {index} to undefined label '{label}'");
}

/// <summary>Something that has a map fd at load time (a loaded map).</summary>
public interface IBpfMapReference
{
    /// <summary>The map's file descriptor, which the kernel takes in place of the lddw immediate.</summary>
    int Fd { get; }

    /// <summary>The map's name, for disassembly and error messages.</summary>
    string Name { get; }
}

/// <summary>An lddw at <see cref="Index"/> that must carry <see cref="Map"/>'s fd.</summary>
public readonly record struct MapReference(int Index, IBpfMapReference Map);
