using System.Text;
using AfXdp.Device;
using AfXdp.Interop;

namespace AfXdp.Bpf;

/// <summary>What a program should be: plain data, testable without a kernel.</summary>
public sealed record ProgramSpec(string Name, IReadOnlyList<Instruction> Instructions, IReadOnlyList<MapReference> Maps, string License = "Dual MIT/GPL")
{
    /// <summary>
    /// BPF_F_XDP_HAS_FRAGS: the program copes with multi-buffer frames (it reads only the first
    /// buffer). Drivers deliver frames larger than one page (jumbo MTU, XDP_USE_SG sockets) only to
    /// such programs; veth refuses a program without it in drv mode once the peer's MTU exceeds a page.
    /// </summary>
    public bool XdpHasFrags { get; init; }

    /// <summary>The program <paramref name="asm"/> built, with its labels resolved and its map references listed.</summary>
    public static ProgramSpec FromAssembler(string name, Assembler asm)
    {
        ArgumentNullException.ThrowIfNull(asm);
        (Instruction[] instructions, MapReference[] maps) = asm.Build();
        return new ProgramSpec(name, instructions, maps);
    }

    /// <summary>The instructions as the kernel gets them, with map fds patched in.</summary>
    public Instruction[] Resolve()
    {
        Instruction[] result = [.. Instructions];
        foreach (MapReference reference in Maps)
            result[reference.Index] = result[reference.Index].WithImmediate(reference.Map.Fd);
        return result;
    }

    /// <summary>The disassembly, one instruction a line, in bpftool's notation.</summary>
    public override string ToString() => Disassembler.Format(Instructions, Maps);
}

/// <summary>What an XDP program returns (enum xdp_action).</summary>
public enum XdpAction
{
    /// <summary>XDP_ABORTED: drop and raise the xdp_exception tracepoint (a program error).</summary>
    Aborted = 0,
    /// <summary>XDP_DROP: drop the frame.</summary>
    Drop = 1,
    /// <summary>XDP_PASS: hand the frame to the kernel's stack.</summary>
    Pass = 2,
    /// <summary>XDP_TX: send the frame back out of the interface it arrived on.</summary>
    Tx = 3,
    /// <summary>XDP_REDIRECT: to the target bpf_redirect or bpf_redirect_map chose (an AF_XDP socket, a device, a CPU).</summary>
    Redirect = 4,
}

/// <summary>What the kernel says about a loaded program (BPF_OBJ_GET_INFO_BY_FD).</summary>
/// <param name="Id">The program id.</param>
/// <param name="Name">The name given at load (at most 15 characters).</param>
/// <param name="Type">enum bpf_prog_type (6 = XDP).</param>
/// <param name="Tag">The kernel's hash of the instructions, as `bpftool prog show` prints it.</param>
/// <param name="MapIds">The maps the program uses.</param>
/// <param name="Translated">The instructions after the verifier's rewrites (`bpftool prog dump xlated`), map references as map ids.</param>
/// <param name="IsJited">True when the JIT compiled it to machine code (false when interpreted, or hidden from an unprivileged caller).</param>
public sealed record ProgramInfo(uint Id, string Name, uint Type, string Tag, IReadOnlyList<uint> MapIds, IReadOnlyList<Instruction> Translated, bool IsJited)
{
    /// <summary>True for an XDP program (BPF_PROG_TYPE_XDP).</summary>
    public bool IsXdp => Type == Sys.BPF_PROG_TYPE_XDP;
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

    /// <summary>The descriptor; ObjectDisposedException once disposed (the number may already name another file).</summary>
    public int Fd => _fd.IsClosed ? throw new ObjectDisposedException(ToString()) : _fd.Fd;

    /// <summary>The program's name as loaded (at most 15 characters).</summary>
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
            Throw.Argument(nameof(spec), $"ProgramSpec({spec.Name})", "the program has no instructions.", "end it with at least `exit`.");
        Instruction[] instructions = spec.Resolve();
        byte[] license = Encoding.ASCII.GetBytes(spec.License + "\0");
        uint flags = spec.XdpHasFrags ? Sys.BPF_F_XDP_HAS_FRAGS : 0;
        int fd = Load(spec.Name, instructions, license, flags, logLevel: 0, log: default, out int errno);
        if (fd < 0 && errno is Errno.EACCES or Errno.EINVAL)
        {
            // Ask the verifier why: 16 MiB is the largest log the kernel writes.
            byte[] log = new byte[1 << 24];
            fd = Load(spec.Name, instructions, license, flags, logLevel: 1, log, out int errnoWithLog);
            if (fd < 0)
            {
                int end = Array.IndexOf(log, (byte)0);
                throw new VerifierException($"bpf(BPF_PROG_LOAD, XDP \"{spec.Name}\", {instructions.Length} insns)", errnoWithLog,
                    Encoding.UTF8.GetString(log, 0, end < 0 ? log.Length : end), Disassembler.Format(instructions, spec.Maps));
            }
        }
        if (fd < 0 && errno == Errno.EPERM)
            Throw.Capability($"bpf(BPF_PROG_LOAD, XDP \"{spec.Name}\")", errno, new("an XDP program", Privileges.CAP_BPF, Privileges.CAP_NET_ADMIN), new CapabilityNeed("attaching it", Privileges.CAP_NET_ADMIN));
        if (fd < 0)
            Throw.Errno($"bpf(BPF_PROG_LOAD, XDP \"{spec.Name}\")", errno);
        return Adopt(new SafeFd(fd), $"program \"{spec.Name}\"");
    }

    /// <summary>Opens a program the kernel already holds (loaded by another tool) by id; needs CAP_SYS_ADMIN.</summary>
    public static BpfProgram FromId(uint id)
    {
        var attr = new bpf_attr_get_id { id = id };
        int fd = Sys.Bpf(Sys.BPF_PROG_GET_FD_BY_ID, ref attr, out int errno);
        if (fd < 0)
        {
            if (errno == Errno.ENOENT)
                Throw.Kernel($"bpf(BPF_PROG_GET_FD_BY_ID, {id})", errno, $"there is no program with id {id} (any more).", "list the programs with `bpftool prog show`.");
            Throw.Errno($"bpf(BPF_PROG_GET_FD_BY_ID, {id})", errno);
        }
        return Adopt(new SafeFd(fd), $"program id {id}");
    }

    /// <summary>Opens the program pinned at <paramref name="path"/> in a bpffs (e.g. by `bpftool prog load` or xdp-loader).</summary>
    public static BpfProgram OpenPinned(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Adopt(BpfFs.Open(path, "program"), $"\"{path}\"");
    }

    /// <summary>Pins the program at <paramref name="path"/> (under /sys/fs/bpf, mounted when missing): it stays loaded after this process ends, until the pin is removed.</summary>
    public void Pin(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        BpfFs.Pin(Fd, path, $"program \"{Name}\"");
    }

    /// <summary>Id, name, type, tag, maps and translated instructions, as the kernel reports them.</summary>
    public ProgramInfo GetInfo()
    {
        bpf_prog_info head = Info(Fd, "program " + Name);
        var mapIds = new uint[head.nr_map_ids];
        var translated = new Instruction[head.xlated_prog_len / sizeof(Instruction)];
        fixed (uint* maps = mapIds)
        fixed (Instruction* insns = translated)
        {
            // A second call with room for the arrays the first one sized.
            bpf_prog_info info = new() { nr_map_ids = (uint)mapIds.Length, map_ids = (ulong)maps, xlated_prog_len = (uint)(translated.Length * sizeof(Instruction)), xlated_prog_insns = (ulong)insns };
            var attr = new bpf_attr_info { bpf_fd = (uint)Fd, info_len = (uint)sizeof(bpf_prog_info), info = (ulong)&info };
            if (Sys.Bpf(Sys.BPF_OBJ_GET_INFO_BY_FD, ref attr, out int errno) < 0)
                Throw.Errno($"bpf(BPF_OBJ_GET_INFO_BY_FD, program {Name})", errno);
            return new ProgramInfo(info.id, BpfNames.Read(info.name), info.type, Convert.ToHexStringLower(new ReadOnlySpan<byte>(info.tag, 8)),
                mapIds[..(int)Math.Min(info.nr_map_ids, (uint)mapIds.Length)], translated, head.jited_prog_len > 0);
        }
    }

    /// <summary>Opens every map the program uses (by id); the caller owns them.</summary>
    public IReadOnlyList<BpfMap> OpenMaps()
    {
        var maps = new List<BpfMap>();
        try
        {
            foreach (uint id in GetInfo().MapIds)
                maps.Add(BpfMap.FromId(id));
        }
        catch
        {
            maps.ForEach(m => m.Dispose());
            throw;
        }
        return maps;
    }

    /// <summary>
    /// BPF_PROG_TEST_RUN: runs the program once on <paramref name="frame"/> as if it arrived on queue 0
    /// (the kernel does not carry out a redirect; it reports it) and returns its verdict.
    /// </summary>
    public XdpAction TestRun(ReadOnlySpan<byte> frame)
    {
        string call = $"bpf(BPF_PROG_TEST_RUN, \"{Name}\", {frame.Length}-byte frame)";
        if (frame.Length < 14)
            Throw.Argument(nameof(frame), call, "an XDP test run needs at least an Ethernet header (14 bytes).", "pass a whole frame.");
        fixed (byte* data = frame)
        {
            var attr = new bpf_attr_test_run { prog_fd = (uint)Fd, data_in = (ulong)data, data_size_in = (uint)frame.Length, repeat = 1 };
            if (Sys.Bpf(Sys.BPF_PROG_TEST_RUN, ref attr, out int errno) < 0)
                Throw.Errno(call, errno);
            return (XdpAction)attr.retval;
        }
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

    /// <summary>Closes the descriptor; the program stays loaded while an attachment, pin or other fd holds it. Idempotent.</summary>
    public void Dispose() => _fd.Dispose();

    /// <summary>Name and id, for messages.</summary>
    public override string ToString() => $"XDP program \"{Name}\" (id {Id})";

    static int Load(string name, Instruction[] instructions, byte[] license, uint flags, uint logLevel, byte[]? log, out int errno)
    {
        fixed (Instruction* insns = instructions)
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
                prog_flags = flags,
                expected_attach_type = Sys.BPF_XDP,
            };
            BpfNames.Write(name, attr.prog_name);
            return Sys.Bpf(Sys.BPF_PROG_LOAD, ref attr, out errno);
        }
    }

    /// <summary>Wraps an fd as a program, reading its name and id; closes the fd when it is not a program.</summary>
    static BpfProgram Adopt(SafeFd fd, string what)
    {
        try
        {
            BpfFs.CheckKind(fd.Fd, "bpf-prog", what);
            bpf_prog_info info = Info(fd.Fd, what);
            return new BpfProgram(fd, BpfNames.Read(info.name), info.id);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    static bpf_prog_info Info(int fd, string what)
    {
        bpf_prog_info info = default;
        var attr = new bpf_attr_info { bpf_fd = (uint)fd, info_len = (uint)sizeof(bpf_prog_info), info = (ulong)&info };
        if (Sys.Bpf(Sys.BPF_OBJ_GET_INFO_BY_FD, ref attr, out int errno) < 0)
            Throw.Errno($"bpf(BPF_OBJ_GET_INFO_BY_FD, {what})", errno);
        return info;
    }
}
