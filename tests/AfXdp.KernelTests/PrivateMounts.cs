using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using AfXdp.Bpf;

namespace AfXdp.KernelTests;

/// <summary>
/// Runs code on a dedicated thread in a mount namespace of its own, with no bpffs at /sys/fs/bpf:
/// what it mounts and pins there vanishes with the thread, and the host's mounts are never touched.
/// Processes it starts inherit the namespace (so `bpftool` sees its pins).
/// </summary>
internal static partial class PrivateMounts
{
    const int CLONE_NEWNS = 0x00020000;
    const nuint MS_REC = 0x4000, MS_PRIVATE = 0x40000;
    const int MNT_DETACH = 2;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int unshare(int flags);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int mount(string? source, string target, string? type, nuint flags, string? data);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int umount2(string target, int flags);

    public static T Run<T>(Func<T> body)
    {
        T? result = default;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                Check(unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)");
                Check(mount(null, "/", null, MS_REC | MS_PRIVATE, null), "mount(/, MS_REC | MS_PRIVATE)");
                while (BpfFs.IsBpfFs(BpfFs.DefaultMount))
                    Check(umount2(BpfFs.DefaultMount, MNT_DETACH), $"umount2({BpfFs.DefaultMount})");
                result = body();
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        });
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result!;
    }

    public static void Run(Action body) => Run(() =>
    {
        body();
        return true;
    });

    /// <summary>Mounts a tmpfs of <paramref name="size"/> (e.g. "64k") at <paramref name="directory"/>; call it inside <see cref="Run{T}"/>, so it vanishes with the thread.</summary>
    public static void MountTmpfs(string directory, string size) =>
        Check(mount("tmpfs", directory, "tmpfs", 0, $"size={size},mode=0755"), $"mount(tmpfs, {directory}, size={size})");

    static void Check(int result, string call)
    {
        if (result != 0)
            throw new InvalidOperationException($"{call} failed: errno {Marshal.GetLastPInvokeError()}");
    }
}
