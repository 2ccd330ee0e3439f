using System.Runtime.InteropServices;

namespace AfXdp.Interop;

internal static partial class Sys
{
    internal const uint MFD_CLOEXEC = 0x1;
    internal const uint MFD_HUGETLB = 0x4;
    internal const uint MFD_HUGE_2MB = 21u << 26; // MFD_HUGE_SHIFT = 26

    [LibraryImport(Libc, EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int MemfdCreate(string name, uint flags);

    [LibraryImport(Libc, EntryPoint = "ftruncate", SetLastError = true)]
    internal static partial int Ftruncate(int fd, long length);
}
