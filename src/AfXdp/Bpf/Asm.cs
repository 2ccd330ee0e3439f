namespace AfXdp.Bpf;

/// <summary>
/// Builds a program: instructions as values, jumps to symbolic labels (resolved by
/// <see cref="Build"/>), and map references by object (resolved to fds at load).
/// </summary>
public sealed class Asm
{
    readonly List<Insn> _insns = [];
    readonly Dictionary<string, int> _labels = [];
    readonly List<(int Index, string Label)> _jumps = [];
    readonly List<(int Index, string Label)> _calls = [];
    readonly List<MapReference> _maps = [];

    /// <summary>Instructions so far (an lddw counts two).</summary>
    public int Count => _insns.Count;

    /// <summary>Appends one instruction as it is.</summary>
    public Asm Emit(Insn insn)
    {
        _insns.Add(insn);
        return this;
    }

    /// <summary>Marks the position of the next instruction.</summary>
    public Asm Label(string name)
    {
        if (!_labels.TryAdd(name, _insns.Count))
            throw new ArgumentException($"label '{name}' is defined twice", nameof(name));
        return this;
    }

    /// <summary>Appends dst = imm (sign-extended to 64 bits).</summary>
    public Asm Mov64(Reg dst, int imm) => Emit(Insn.Mov64(dst, imm));
    /// <summary>Appends dst = src (64 bits).</summary>
    public Asm Mov64(Reg dst, Reg src) => Emit(Insn.Mov64(dst, src));
    /// <summary>Appends dst = imm in the low 32 bits, upper half zeroed.</summary>
    public Asm Mov32(Reg dst, int imm) => Emit(Insn.Mov32(dst, imm));
    /// <summary>Appends dst = low 32 bits of src, upper half zeroed.</summary>
    public Asm Mov32(Reg dst, Reg src) => Emit(Insn.Mov32(dst, src));
    /// <summary>Appends dst = dst op imm (64 bits).</summary>
    public Asm Alu64(AluOp op, Reg dst, int imm) => Emit(Insn.Alu64(op, dst, imm));
    /// <summary>Appends dst = dst op src (64 bits).</summary>
    public Asm Alu64(AluOp op, Reg dst, Reg src) => Emit(Insn.Alu64(op, dst, src));
    /// <summary>Appends dst = dst op imm on the low 32 bits.</summary>
    public Asm Alu32(AluOp op, Reg dst, int imm) => Emit(Insn.Alu32(op, dst, imm));
    /// <summary>Appends dst = dst op src on the low 32 bits.</summary>
    public Asm Alu32(AluOp op, Reg dst, Reg src) => Emit(Insn.Alu32(op, dst, src));
    /// <summary>Appends dst = -dst (64 bits).</summary>
    public Asm Neg64(Reg dst) => Emit(Insn.Neg64(dst));
    /// <summary>Appends dst = -dst (low 32 bits).</summary>
    public Asm Neg32(Reg dst) => Emit(Insn.Neg32(dst));
    /// <summary>Appends a swap of the low 16, 32 or 64 bits to network order.</summary>
    public Asm ToBigEndian(Reg dst, int bits) => Emit(Insn.ToBigEndian(dst, bits));
    /// <summary>Appends a conversion of the low 16, 32 or 64 bits to little-endian.</summary>
    public Asm ToLittleEndian(Reg dst, int bits) => Emit(Insn.ToLittleEndian(dst, bits));
    /// <summary>Appends dst = *(size *)(src + offset).</summary>
    public Asm Load(Size size, Reg dst, Reg src, short offset) => Emit(Insn.Load(size, dst, src, offset));
    /// <summary>Appends *(size *)(dst + offset) = src.</summary>
    public Asm Store(Size size, Reg dst, short offset, Reg src) => Emit(Insn.Store(size, dst, offset, src));
    /// <summary>Appends *(size *)(dst + offset) = imm.</summary>
    public Asm Store(Size size, Reg dst, short offset, int imm) => Emit(Insn.Store(size, dst, offset, imm));
    /// <summary>Appends an atomic operation on *(size *)(dst + offset) with src.</summary>
    public Asm Atomic(AtomicOp op, Size size, Reg dst, short offset, Reg src) => Emit(Insn.Atomic(op, size, dst, offset, src));
    /// <summary>Appends a call of a kernel helper (arguments in r1-r5, result in r0).</summary>
    public Asm Call(Helper helper) => Emit(Insn.Call(helper));
    /// <summary>Appends the return of r0.</summary>
    public Asm Exit() => Emit(Insn.Exit());

    /// <summary>Calls the function that starts at <paramref name="label"/> (bpf-to-bpf call; r1-r5 are its arguments, r0 its result).</summary>
    public Asm Call(string label)
    {
        _calls.Add((_insns.Count, label));
        return Emit(Insn.CallLocal(0));
    }

    /// <summary>dst = imm64 (two instructions).</summary>
    public Asm LoadImm64(Reg dst, long imm)
    {
        (Insn lo, Insn hi) = Insn.LoadImm64(dst, imm);
        return Emit(lo).Emit(hi);
    }

    /// <summary>dst = the map's fd, patched when the program loads (lddw with BPF_PSEUDO_MAP_FD).</summary>
    public Asm LoadMap(Reg dst, IBpfMapReference map)
    {
        ArgumentNullException.ThrowIfNull(map);
        _maps.Add(new MapReference(_insns.Count, map));
        (Insn lo, Insn hi) = Insn.LoadImm64(dst, 0, Insn.PSEUDO_MAP_FD);
        return Emit(lo).Emit(hi);
    }

    /// <summary>
    /// r0 = bpf_redirect_map(xskMap, ctx->rx_queue_index, XDP_PASS), with the program's context in
    /// <paramref name="context"/>: the frame goes to the socket of its queue, or to the kernel when the
    /// queue's slot is empty. Clobbers r1-r5.
    /// </summary>
    public Asm RedirectToQueueSocket(Reg context, IBpfMapReference xskMap) => this
        .Load(Size.W, Reg.R2, context, XdpMd.RxQueueIndex)
        .LoadMap(Reg.R1, xskMap)
        .Mov64(Reg.R3, 2) // XDP_PASS
        .Call(Helper.RedirectMap);

    /// <summary>goto label</summary>
    public Asm Jump(string label) => JumpTo(Insn.Jump(0), label);

    /// <summary>if dst OP imm goto label</summary>
    public Asm JumpIf(JumpOp op, Reg dst, int imm, string label) => JumpTo(Insn.Jump(op, dst, imm, 0), label);

    /// <summary>if dst OP src goto label</summary>
    public Asm JumpIf(JumpOp op, Reg dst, Reg src, string label) => JumpTo(Insn.Jump(op, dst, src, 0), label);

    /// <summary>if (u32)dst OP imm goto label</summary>
    public Asm JumpIf32(JumpOp op, Reg dst, int imm, string label) => JumpTo(Insn.Jump32(op, dst, imm, 0), label);

    /// <summary>if (u32)dst OP (u32)src goto label</summary>
    public Asm JumpIf32(JumpOp op, Reg dst, Reg src, string label) => JumpTo(Insn.Jump32(op, dst, src, 0), label);

    Asm JumpTo(Insn jump, string label)
    {
        _jumps.Add((_insns.Count, label));
        return Emit(jump);
    }

    /// <summary>Resolves labels; throws naming an undefined label or an out-of-range jump.</summary>
    public (Insn[] Instructions, MapReference[] Maps) Build()
    {
        Insn[] result = [.. _insns];
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
