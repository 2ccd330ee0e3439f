using System.Runtime.InteropServices;

namespace AfXdp.Interop;

internal static unsafe partial class Sys
{
    internal const int SCM_RIGHTS = 1;
    internal const int MSG_CTRUNC = 0x8;
    internal const int MSG_CMSG_CLOEXEC = 0x40000000;

    /// <summary>struct iovec.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct iovec
    {
        public void* iov_base;
        public nuint iov_len;
    }

    /// <summary>struct msghdr (56 bytes on 64-bit).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct msghdr
    {
        public void* msg_name;
        public uint msg_namelen;
        public iovec* msg_iov;
        public nuint msg_iovlen;
        public void* msg_control;
        public nuint msg_controllen;
        public int msg_flags;
    }

    /// <summary>struct cmsghdr (16 bytes on 64-bit); the data follows, aligned to size_t.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct cmsghdr
    {
        public nuint cmsg_len;
        public int cmsg_level;
        public int cmsg_type;
    }

    /// <summary>CMSG_LEN(n): header plus n bytes of data.</summary>
    internal static int CmsgLength(int dataLength) => sizeof(cmsghdr) + dataLength;

    /// <summary>CMSG_SPACE(n): CMSG_LEN rounded up to the alignment of size_t.</summary>
    internal static int CmsgSpace(int dataLength) => sizeof(cmsghdr) + ((dataLength + sizeof(nuint) - 1) & ~(sizeof(nuint) - 1));

    [LibraryImport(Libc, EntryPoint = "sendmsg", SetLastError = true)]
    internal static partial nint SendMsg(int fd, msghdr* msg, int flags);

    [LibraryImport(Libc, EntryPoint = "recvmsg", SetLastError = true)]
    internal static partial nint RecvMsg(int fd, msghdr* msg, int flags);
}
