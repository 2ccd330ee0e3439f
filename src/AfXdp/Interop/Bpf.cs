using System.Runtime.InteropServices;

namespace AfXdp.Interop;

// union bpf_attr (include/uapi/linux/bpf.h), one struct per command the library uses, with the
// kernel's field names. The kernel accepts a shorter attr than it knows (the rest reads as zero).

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct bpf_attr_map_create
{
    public uint map_type;
    public uint key_size;
    public uint value_size;
    public uint max_entries;
    public uint map_flags;
    public uint inner_map_fd;
    public uint numa_node;
    public fixed byte map_name[16];
    public uint map_ifindex;
    public uint btf_fd;
    public uint btf_key_type_id;
    public uint btf_value_type_id;
    public uint btf_vmlinux_value_type_id;
    public ulong map_extra;
}

[StructLayout(LayoutKind.Sequential)]
internal struct bpf_attr_map_elem
{
    public uint map_fd;
    public uint pad;
    public ulong key;
    public ulong value; // or next_key
    public ulong flags;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct bpf_attr_prog_load
{
    public uint prog_type;
    public uint insn_cnt;
    public ulong insns;
    public ulong license;
    public uint log_level;
    public uint log_size;
    public ulong log_buf;
    public uint kern_version;
    public uint prog_flags;
    public fixed byte prog_name[16];
    public uint prog_ifindex;
    public uint expected_attach_type;
    public uint prog_btf_fd;
    public uint func_info_rec_size;
    public ulong func_info;
    public uint func_info_cnt;
    public uint line_info_rec_size;
    public ulong line_info;
    public uint line_info_cnt;
    public uint attach_btf_id;
    public uint attach_prog_fd;
    public uint core_relo_cnt;
    public ulong fd_array;
    public ulong core_relos;
    public uint core_relo_rec_size;
    public uint log_true_size;
}

[StructLayout(LayoutKind.Sequential)]
internal struct bpf_attr_link_create
{
    public uint prog_fd;
    public uint target_ifindex;
    public uint attach_type;
    public uint flags;
    public ulong reserved0;
    public ulong reserved1;
}

[StructLayout(LayoutKind.Sequential)]
internal struct bpf_attr_get_id
{
    public uint id; // prog_id, map_id, link_id, or start_id for the GET_NEXT_ID commands
    public uint next_id;
    public uint open_flags;
}

[StructLayout(LayoutKind.Sequential)]
internal struct bpf_attr_test_run
{
    public uint prog_fd;
    public uint retval;
    public uint data_size_in;
    public uint data_size_out;
    public ulong data_in;
    public ulong data_out;
    public uint repeat;
    public uint duration;
    public uint ctx_size_in;
    public uint ctx_size_out;
    public ulong ctx_in;
    public ulong ctx_out;
    public uint flags;
    public uint cpu;
    public uint batch_size;
    public uint pad;
}

[StructLayout(LayoutKind.Sequential)]
internal struct bpf_attr_link_detach
{
    public uint link_fd;
}

[StructLayout(LayoutKind.Sequential)]
internal struct bpf_attr_info
{
    public uint bpf_fd;
    public uint info_len;
    public ulong info;
}

[StructLayout(LayoutKind.Sequential)]
internal struct bpf_attr_obj
{
    public ulong pathname;
    public uint bpf_fd;
    public uint file_flags;
    public int path_fd;
    public uint pad;
}

/// <summary>The head of struct bpf_prog_info, up to the name (what the library reads).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct bpf_prog_info
{
    public uint type;
    public uint id;
    public fixed byte tag[8];
    public uint jited_prog_len;
    public uint xlated_prog_len;
    public ulong jited_prog_insns;
    public ulong xlated_prog_insns;
    public ulong load_time;
    public uint created_by_uid;
    public uint nr_map_ids;
    public ulong map_ids;
    public fixed byte name[16];
    public uint ifindex;
    public uint gpl_compatible_netns; // gpl_compatible:1 bit, then padding
    public ulong netns_dev;
    public ulong netns_ino;
}

/// <summary>struct bpf_map_info.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct bpf_map_info
{
    public uint type;
    public uint id;
    public uint key_size;
    public uint value_size;
    public uint max_entries;
    public uint map_flags;
    public fixed byte name[16];
    public uint ifindex;
    public uint btf_vmlinux_value_type_id;
    public ulong netns_dev;
    public ulong netns_ino;
    public uint btf_id;
    public uint btf_key_type_id;
    public uint btf_value_type_id;
    public uint btf_vmlinux_id;
    public ulong map_extra;
}

/// <summary>struct bpf_link_info for XDP links: common head plus the xdp.ifindex union member.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct bpf_link_info
{
    public uint type;
    public uint id;
    public uint prog_id;
    public uint pad;
    public uint xdp_ifindex;
    public uint pad2;
    public ulong reserved0;
    public ulong reserved1;
}

internal static unsafe partial class Sys
{
    public const int BPF_MAP_CREATE = 0;
    public const int BPF_MAP_LOOKUP_ELEM = 1;
    public const int BPF_MAP_UPDATE_ELEM = 2;
    public const int BPF_MAP_DELETE_ELEM = 3;
    public const int BPF_MAP_GET_NEXT_KEY = 4;
    public const int BPF_PROG_LOAD = 5;
    /// <summary>prog_flags bit of BPF_PROG_LOAD: an XDP program that accepts multi-buffer frames.</summary>
    public const uint BPF_F_XDP_HAS_FRAGS = 1 << 5;
    public const int BPF_OBJ_PIN = 6;
    public const int BPF_OBJ_GET = 7;
    public const int BPF_PROG_TEST_RUN = 10;
    public const int BPF_PROG_GET_NEXT_ID = 11;
    public const int BPF_MAP_GET_NEXT_ID = 12;
    public const int BPF_PROG_GET_FD_BY_ID = 13;
    public const int BPF_MAP_GET_FD_BY_ID = 14;
    public const int BPF_OBJ_GET_INFO_BY_FD = 15;
    public const int BPF_LINK_CREATE = 28;
    public const int BPF_LINK_GET_FD_BY_ID = 30;
    public const int BPF_LINK_GET_NEXT_ID = 31;
    public const int BPF_LINK_DETACH = 34;

    public const uint BPF_PROG_TYPE_XDP = 6;
    public const uint BPF_XDP = 37; // enum bpf_attach_type
    public const uint BPF_LINK_TYPE_XDP = 6;

    [LibraryImport(Libc, EntryPoint = "syscall", SetLastError = true)]
    private static partial nint Syscall(nint number, nint a1, nint a2, nint a3);

    static readonly nint SYS_bpf = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 321,
        Architecture.Arm64 or Architecture.RiscV64 or Architecture.LoongArch64 => 280,
        Architecture.X86 or Architecture.Arm => 386,
        var other => throw new PlatformNotSupportedException($"bpf(2) syscall number unknown for {other}"),
    };

    /// <summary>
    /// The one choke point for bpf(2): EINTR and EAGAIN (the verifier may ask to retry) are retried
    /// here and nowhere else. Returns the result, or -1 with errno in <paramref name="errno"/>.
    /// </summary>
    internal static int Bpf<T>(int command, ref T attr, out int errno) where T : unmanaged =>
        Bpf<KernelBpfCall, T>(command, ref attr, out errno);

    /// <summary>
    /// <see cref="Bpf{T}"/> over <typeparamref name="TCall"/>: the kernel's bpf(2), or in unit tests a fake
    /// that answers EINTR or EAGAIN, so that the retry is tested (a generic struct: no allocation, no indirection).
    /// </summary>
    internal static int Bpf<TCall, T>(int command, ref T attr, out int errno) where TCall : struct, IBpfCall where T : unmanaged
    {
        // The verifier gives up with EAGAIN when a signal is pending (do_check, kernel/bpf/verifier.c);
        // Up to 5 retries: a burst of signals passes; a process signalled without end still gets an answer.
        for (int attempt = 0; ; attempt++)
        {
            fixed (T* p = &attr)
            {
                nint r = TCall.Invoke(command, p, sizeof(T), out errno);
                if (r >= 0)
                    return (int)r;
            }
            if ((errno != Errno.EINTR && errno != Errno.EAGAIN) || attempt >= 5)
                return -1;
        }
    }

    /// <summary>One bpf(2) call: the result, or -1 with its errno in the out parameter (0 on success).</summary>
    internal interface IBpfCall
    {
        static abstract nint Invoke(int command, void* attr, int size, out int errno);
    }

    /// <summary>The kernel's bpf(2).</summary>
    readonly struct KernelBpfCall : IBpfCall
    {
        public static nint Invoke(int command, void* attr, int size, out int errno)
        {
            nint r = Syscall(SYS_bpf, command, (nint)attr, size);
            errno = r >= 0 ? 0 : LastErrno;
            return r;
        }
    }
}
