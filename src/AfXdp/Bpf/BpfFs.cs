using AfXdp.Interop;

namespace AfXdp.Bpf;

/// <summary>
/// The BPF file system (bpffs): maps, programs and links pinned there by path outlive the process
/// that made them and can be opened by other processes and tools (`bpftool ... pinned PATH`).
/// Mounts are per mount namespace: `ip netns exec` gives its command a fresh /sys without a bpffs.
/// </summary>
public static unsafe class BpfFs
{
    /// <summary>Where bpffs is conventionally mounted.</summary>
    public const string DefaultMount = "/sys/fs/bpf";

    /// <summary>True when <paramref name="directory"/> is on a bpffs in this thread's mount namespace.</summary>
    public static bool IsBpfFs(string directory) => Sys.FileSystemType(directory, out _) == Sys.BPF_FS_MAGIC;

    /// <summary>Mounts bpffs at <see cref="DefaultMount"/> in the calling thread's mount namespace unless one is there.</summary>
    public static void EnsureMounted()
    {
        if (IsBpfFs(DefaultMount))
            return;
        if (Sys.Mount("bpf", DefaultMount, "bpf", 0, "mode=0700") == 0)
            return;
        int errno = Sys.LastErrno;
        string call = $"mount(\"bpf\", \"{DefaultMount}\", \"bpf\")";
        if (errno is Errno.EPERM or Errno.EACCES)
            Throw.Kernel(call, errno, "mounting the BPF file system needs CAP_SYS_ADMIN.", $"run as root, or have it mounted for you (`mount -t bpf bpf {DefaultMount}`).");
        Throw.Kernel(call, errno, $"the BPF file system could not be mounted at {DefaultMount} (does the directory exist? is the kernel built with CONFIG_BPF_SYSCALL?).",
            $"mount it by hand (`mount -t bpf bpf {DefaultMount}`) and pin there.");
    }

    /// <summary>Removes a pin; the object lives on while something else holds it. False when nothing was pinned there.</summary>
    public static bool Unpin(string path)
    {
        if (!File.Exists(path))
            return false;
        File.Delete(path);
        return true;
    }

    /// <summary>BPF_OBJ_PIN: the object behind <paramref name="fd"/> at <paramref name="path"/> (creating directories on the bpffs).</summary>
    internal static void Pin(int fd, string path, string what)
    {
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full)!;
        string call = $"bpf(BPF_OBJ_PIN, {what}, \"{full}\")";
        if (full.StartsWith(DefaultMount + "/", StringComparison.Ordinal))
        {
            EnsureMounted();
            Directory.CreateDirectory(directory);
        }
        if (!Directory.Exists(directory) || !IsBpfFs(directory))
            Throw.Config(call, $"{directory} is not a directory on a BPF file system (bpffs).",
                $"pin under {DefaultMount} (mounted when missing), or mount a bpffs first (`mount -t bpf bpf DIR`).");
        fixed (byte* name = NulTerminated(full))
        {
            var attr = new bpf_attr_obj { pathname = (ulong)name, bpf_fd = (uint)fd };
            if (Sys.Bpf(Sys.BPF_OBJ_PIN, ref attr, out int errno) >= 0)
                return;
            if (errno == Errno.EEXIST)
                Throw.Kernel(call, errno, $"something is already pinned at {full}.", $"remove the old pin (`rm {full}`) or choose another path.");
            Throw.Errno(call, errno);
        }
    }

    /// <summary>BPF_OBJ_GET: a new fd for the object pinned at <paramref name="path"/>.</summary>
    internal static SafeFd Open(string path, string what)
    {
        string full = Path.GetFullPath(path);
        string call = $"bpf(BPF_OBJ_GET, {what}, \"{full}\")";
        fixed (byte* name = NulTerminated(full))
        {
            var attr = new bpf_attr_obj { pathname = (ulong)name };
            int fd = Sys.Bpf(Sys.BPF_OBJ_GET, ref attr, out int errno);
            if (fd >= 0)
                return new SafeFd(fd);
            if (errno == Errno.ENOENT)
                Throw.Kernel(call, errno,
                    $"nothing is pinned at {full}{(IsBpfFs(DefaultMount) ? "" : $" ({DefaultMount} is not even mounted in this mount namespace; `ip netns exec` starts commands with a fresh /sys)")}.",
                    "check the path (`ls` it, `bpftool prog show pinned PATH`), and open it in the mount namespace where it was pinned.");
            if (errno == Errno.EACCES)
                Throw.Kernel(call, errno, $"this user (uid {Sys.GetEUid()}) may not open {full}: that takes read and write permission on the pin (created mode 0600, owned by whoever pinned it) and search permission on its directories.",
                    "have the pin chowned or chmodded to this user (`afxdp plugin --uid`, the device plugin's pool `uid`), or open it as its owner.");
            if (errno == Errno.EPERM && !IsBpfFs(Path.GetDirectoryName(full)!))
                Throw.Kernel(call, errno, $"{full} is not on a BPF file system.", "give the path of a pin under a bpffs mount such as /sys/fs/bpf.");
            Throw.Errno(call, errno);
            return null;
        }
    }

    /// <summary>
    /// Checks that <paramref name="fd"/> is a BPF object of <paramref name="kind"/> ("bpf-prog", "bpf-map", "bpf_link":
    /// the anonymous inode names the kernel gives them), so a pin of one kind is not used as another.
    /// </summary>
    internal static void CheckKind(int fd, string kind, string what)
    {
        string? target = new FileInfo($"/proc/self/fd/{fd}").LinkTarget;
        if (target != "anon_inode:" + kind)
            Throw.Config($"open {what}", $"the object is a {target?.Replace("anon_inode:", "") ?? "?"}, not a {kind}.",
                "open it with the matching type (BpfProgram, BpfMap); `bpftool prog/map/link show pinned PATH` tells what it is.");
    }

    static byte[] NulTerminated(string path) => System.Text.Encoding.UTF8.GetBytes(path + "\0");
}
