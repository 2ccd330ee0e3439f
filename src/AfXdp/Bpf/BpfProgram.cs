using System.Text;
using AfXdp.Interop;
using AfXdp.Xsk;

namespace AfXdp.Bpf;

/// <summary>What a program should be: plain data, testable without a kernel.</summary>
public sealed record ProgramSpec(string Name, IReadOnlyList<Insn> Instructions, IReadOnlyList<MapReference> Maps, string License = "Dual MIT/GPL")
{
    public static ProgramSpec FromAsm(string name, Asm asm)
    {
        ArgumentNullException.ThrowIfNull(asm);
        (Insn[] instructions, MapReference[] maps) = asm.Build();
        return new ProgramSpec(name, instructions, maps);
    }

    /// <summary>The instructions as the kernel gets them, with map fds patched in.</summary>
    public Insn[] Resolve()
    {
        Insn[] result = [.. Instructions];
        foreach (MapReference reference in Maps)
            result[reference.Index] = result[reference.Index].WithImmediate(reference.Map.Fd);
        return result;
    }

    public override string ToString() => Disassembler.Format(Instructions);
}

/// <summary>A loaded XDP program; owns its fd. It stays in the kernel while the fd or an attachment holds it.</summary>
public sealed unsafe class BpfProgram : IDisposable
{
    readonly SafeFd _fd;

    BpfProgram(SafeFd fd, string name, uint id)
    {
        _fd = fd;
        Name = name;
        Id = id;
    }

    public int Fd => _fd.Fd;

    public string Name { get; }

    /// <summary>The kernel's program id (what `bpftool prog show` and `ip link` print).</summary>
    public uint Id { get; }

    /// <summary>
    /// BPF_PROG_LOAD of an XDP program. Loads without a log first; on rejection loads again with
    /// the verifier log on and throws <see cref="VerifierException"/> with it.
    /// </summary>
    public static BpfProgram LoadXdp(ProgramSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(spec.Instructions);
        ArgumentNullException.ThrowIfNull(spec.Maps);
        if (spec.Instructions.Count == 0)
            Throw.Config($"ProgramSpec({spec.Name})", "the program has no instructions.", "end it with at least `exit`.");
        Insn[] instructions = spec.Resolve();
        byte[] license = Encoding.ASCII.GetBytes(spec.License + "\0");
        int fd = Load(spec.Name, instructions, license, logLevel: 0, log: default, out int errno);
        if (fd < 0 && errno is Errno.EACCES or Errno.EINVAL)
        {
            // Ask the verifier why: 16 MiB is the largest log the kernel writes.
            byte[] log = new byte[1 << 24];
            fd = Load(spec.Name, instructions, license, logLevel: 1, log, out int errnoWithLog);
            if (fd < 0)
            {
                int end = Array.IndexOf(log, (byte)0);
                throw new VerifierException($"bpf(BPF_PROG_LOAD, XDP \"{spec.Name}\", {instructions.Length} insns)", errnoWithLog,
                    Encoding.UTF8.GetString(log, 0, end < 0 ? log.Length : end), Disassembler.Format(instructions));
            }
        }
        if (fd < 0 && errno == Errno.EPERM)
            Throw.Capability($"bpf(BPF_PROG_LOAD, XDP \"{spec.Name}\")", errno, "an XDP program", Privileges.CAP_BPF, Privileges.CAP_NET_ADMIN);
        if (fd < 0)
            Throw.Errno($"bpf(BPF_PROG_LOAD, XDP \"{spec.Name}\")", errno);
        var handle = new SafeFd(fd);
        return new BpfProgram(handle, spec.Name, Info(handle.Fd).id);
    }

    /// <summary>Opens a program the kernel already holds (loaded by another tool) by id.</summary>
    public static BpfProgram FromId(uint id)
    {
        var attr = new bpf_attr_get_id { id = id };
        int fd = Sys.Bpf(Sys.BPF_PROG_GET_FD_BY_ID, ref attr, out int errno);
        if (fd < 0)
            Throw.Errno($"bpf(BPF_PROG_GET_FD_BY_ID, {id})", errno);
        var handle = new SafeFd(fd);
        bpf_prog_info info = Info(fd);
        return new BpfProgram(handle, BpfNames.Read(info.name), info.id);
    }

    /// <summary>The name of the program with this id, or "?" when it cannot be read (gone, or no privilege).</summary>
    public static string NameOf(uint id)
    {
        try
        {
            using BpfProgram program = FromId(id);
            return program.Name;
        }
        catch (AfXdpException)
        {
            return "?";
        }
    }

    public void Dispose() => _fd.Dispose();

    static int Load(string name, Insn[] instructions, byte[] license, uint logLevel, byte[]? log, out int errno)
    {
        fixed (Insn* insns = instructions)
        fixed (byte* lic = license)
        fixed (byte* logBuffer = log)
        {
            var attr = new bpf_attr_prog_load
            {
                prog_type = Sys.BPF_PROG_TYPE_XDP,
                insn_cnt = (uint)instructions.Length,
                insns = (ulong)insns,
                license = (ulong)lic,
                log_level = logLevel,
                log_size = (uint)(log?.Length ?? 0),
                log_buf = (ulong)logBuffer,
                expected_attach_type = Sys.BPF_XDP,
            };
            BpfNames.Write(name, attr.prog_name);
            return Sys.Bpf(Sys.BPF_PROG_LOAD, ref attr, out errno);
        }
    }

    static bpf_prog_info Info(int fd)
    {
        bpf_prog_info info = default;
        var attr = new bpf_attr_info { bpf_fd = (uint)fd, info_len = (uint)sizeof(bpf_prog_info), info = (ulong)&info };
        if (Sys.Bpf(Sys.BPF_OBJ_GET_INFO_BY_FD, ref attr, out int errno) < 0)
            Throw.Errno("bpf(BPF_OBJ_GET_INFO_BY_FD, program)", errno);
        return info;
    }
}
