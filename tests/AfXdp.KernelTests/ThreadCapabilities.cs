using System.Runtime.InteropServices;

namespace AfXdp.KernelTests;

/// <summary>
/// Runs code with capabilities cleared from the calling thread's effective set (capset(2) acts on one thread),
/// then raises them again from the permitted set, which it leaves alone: library calls in the body meet the
/// kernel's capability checks as an unprivileged process would, in-process.
/// </summary>
internal static unsafe partial class ThreadCapabilities
{
    const uint LinuxCapabilityVersion3 = 0x20080522; // _LINUX_CAPABILITY_VERSION_3: two 32-bit words per set

    [StructLayout(LayoutKind.Sequential)]
    struct Header
    {
        public uint Version;
        public int Pid;
    }

    [StructLayout(LayoutKind.Sequential)]
    struct Data
    {
        public uint Effective, Permitted, Inheritable;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int capget(Header* header, Data* data);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int capset(Header* header, Data* data);

    public static T Without<T>(int[] capabilities, Func<T> body)
    {
        var header = new Header { Version = LinuxCapabilityVersion3 };
        Data* saved = stackalloc Data[2];
        Check(capget(&header, saved), "capget");
        Data* reduced = stackalloc Data[2];
        reduced[0] = saved[0];
        reduced[1] = saved[1];
        foreach (int capability in capabilities)
            reduced[capability / 32].Effective &= ~(1u << (capability % 32));
        Check(capset(&header, reduced), "capset (clear)");
        try
        {
            return body();
        }
        finally
        {
            Check(capset(&header, saved), "capset (restore)");
        }
    }

    static void Check(int result, string call) =>
        Assert.True(result == 0, $"{call} failed: errno {Marshal.GetLastPInvokeError()}");
}
