using System.Runtime.InteropServices;
using System.Text;

namespace AfXdp.Interop;

internal static unsafe partial class Sys
{
    internal const int AF_UNIX = 1;
    internal const int SOCK_SEQPACKET = 5;
    internal const int SCM_RIGHTS = 1;
    internal const int SO_RCVTIMEO = 20;
    internal const int SO_SNDTIMEO = 21;
    internal const int MSG_TRUNC = 0x20;
    internal const int MSG_CTRUNC = 0x8;
    internal const int MSG_NOSIGNAL = 0x4000;
    internal const int MSG_CMSG_CLOEXEC = 0x40000000;

    /// <summary>The kernel's limit on descriptors in one SCM_RIGHTS message (SCM_MAX_FD).</summary>
    internal const int SCM_MAX_FD = 253;

    /// <summary>Bytes of sun_path, the terminating NUL included.</summary>
    internal const int UnixPathSize = 108;

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

    /// <summary>struct sockaddr_un (110 bytes): a unix socket's file system path.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct sockaddr_un
    {
        public ushort sun_family;
        public fixed byte sun_path[UnixPathSize];
    }

    /// <summary>struct timeval, as SO_RCVTIMEO and SO_SNDTIMEO take it on 64-bit.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct timeval
    {
        public long tv_sec;
        public long tv_usec;
    }

    /// <summary>CMSG_LEN(n): header plus n bytes of data.</summary>
    internal static int CmsgLength(int dataLength) => sizeof(cmsghdr) + dataLength;

    /// <summary>CMSG_SPACE(n): CMSG_LEN rounded up to the alignment of size_t.</summary>
    internal static int CmsgSpace(int dataLength) => sizeof(cmsghdr) + ((dataLength + sizeof(nuint) - 1) & ~(sizeof(nuint) - 1));

    [LibraryImport(Libc, EntryPoint = "sendmsg", SetLastError = true)]
    internal static partial nint SendMsg(int fd, msghdr* msg, int flags);

    [LibraryImport(Libc, EntryPoint = "recvmsg", SetLastError = true)]
    internal static partial nint RecvMsg(int fd, msghdr* msg, int flags);

    [LibraryImport(Libc, EntryPoint = "connect", SetLastError = true)]
    internal static partial int Connect(int fd, void* addr, uint addrlen);

    [LibraryImport(Libc, EntryPoint = "listen", SetLastError = true)]
    internal static partial int Listen(int fd, int backlog);

    [LibraryImport(Libc, EntryPoint = "accept4", SetLastError = true)]
    internal static partial int Accept4(int fd, void* addr, uint* addrlen, int flags);

    /// <summary>A sockaddr_un for <paramref name="path"/>; false when the path does not fit sun_path (107 bytes and a NUL).</summary>
    internal static bool TryUnixAddress(string path, out sockaddr_un address)
    {
        address = new sockaddr_un { sun_family = AF_UNIX };
        byte[] bytes = Encoding.UTF8.GetBytes(path);
        if (bytes.Length == 0 || bytes.Length >= UnixPathSize)
            return false;
        fixed (byte* destination = address.sun_path)
            bytes.CopyTo(new Span<byte>(destination, UnixPathSize));
        return true;
    }

    /// <summary>SO_RCVTIMEO and SO_SNDTIMEO: a blocking call on the socket gives up with EAGAIN after <paramref name="timeout"/>.</summary>
    internal static int SetTimeouts(int fd, TimeSpan timeout)
    {
        var value = new timeval { tv_sec = (long)timeout.TotalSeconds, tv_usec = timeout.Microseconds + 1000L * timeout.Milliseconds };
        if (SetSockOpt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, (uint)sizeof(timeval)) != 0)
            return -1;
        return SetSockOpt(fd, SOL_SOCKET, SO_SNDTIMEO, &value, (uint)sizeof(timeval));
    }

    /// <summary>
    /// sendmsg of <paramref name="data"/> with <paramref name="descriptors"/> attached (SCM_RIGHTS; no control
    /// message when empty), retried on EINTR: the bytes sent, or -1 with errno.
    /// </summary>
    internal static nint SendWithDescriptors(int socket, ReadOnlySpan<byte> data, ReadOnlySpan<int> descriptors)
    {
        if (descriptors.Length > SCM_MAX_FD)
            throw new ArgumentOutOfRangeException(nameof(descriptors), descriptors.Length, $"one message carries at most {SCM_MAX_FD} descriptors (SCM_MAX_FD)");
        int dataLength = descriptors.Length * sizeof(int);
        byte* control = stackalloc byte[CmsgSpace(SCM_MAX_FD * sizeof(int))];
        var header = (cmsghdr*)control;
        header->cmsg_len = (nuint)CmsgLength(dataLength);
        header->cmsg_level = SOL_SOCKET;
        header->cmsg_type = SCM_RIGHTS;
        descriptors.CopyTo(new Span<int>(control + sizeof(cmsghdr), descriptors.Length));
        fixed (byte* bytes = data)
        {
            var iov = new iovec { iov_base = bytes, iov_len = (nuint)data.Length };
            var msg = new msghdr { msg_iov = &iov, msg_iovlen = 1 };
            if (descriptors.Length > 0)
            {
                msg.msg_control = control;
                msg.msg_controllen = (nuint)CmsgSpace(dataLength);
            }
            nint sent;
            // MSG_NOSIGNAL: a peer that went away is EPIPE here, not a SIGPIPE.
            do
                sent = SendMsg(socket, &msg, MSG_NOSIGNAL);
            while (sent < 0 && LastErrno == Errno.EINTR);
            return sent;
        }
    }

    /// <summary>
    /// recvmsg of one message into <paramref name="buffer"/>, retried on EINTR: the bytes received (0 when the
    /// peer closed), or -1 with errno. Descriptors that came with it are added to <paramref name="descriptors"/>
    /// (close-on-exec, the caller owns them); <paramref name="messageFlags"/> says MSG_TRUNC / MSG_CTRUNC.
    /// <paramref name="flags"/> adds to recvmsg's (MSG_DONTWAIT).
    /// </summary>
    internal static nint ReceiveWithDescriptors(int socket, Span<byte> buffer, List<SafeFd> descriptors, out int messageFlags, int flags = 0)
    {
        int controlLength = CmsgSpace(SCM_MAX_FD * sizeof(int));
        byte* control = stackalloc byte[controlLength];
        fixed (byte* bytes = buffer)
        {
            var iov = new iovec { iov_base = bytes, iov_len = (nuint)buffer.Length };
            var msg = new msghdr { msg_iov = &iov, msg_iovlen = 1, msg_control = control, msg_controllen = (nuint)controlLength };
            nint received;
            do
                received = RecvMsg(socket, &msg, MSG_CMSG_CLOEXEC | flags);
            while (received < 0 && LastErrno == Errno.EINTR);
            messageFlags = received < 0 ? 0 : msg.msg_flags;
            if (received < 0)
                return received;
            for (var header = (cmsghdr*)(msg.msg_controllen >= (nuint)sizeof(cmsghdr) ? control : null); header is not null;
                 header = NextHeader(control, msg.msg_controllen, header))
            {
                if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS)
                    continue;
                int count = ((int)header->cmsg_len - sizeof(cmsghdr)) / sizeof(int);
                for (int i = 0; i < count; i++)
                    descriptors.Add(new SafeFd(((int*)((byte*)header + sizeof(cmsghdr)))[i]));
            }
            return received;
        }
    }

    /// <summary>CMSG_NXTHDR.</summary>
    static cmsghdr* NextHeader(byte* control, nuint controlLength, cmsghdr* header)
    {
        byte* next = (byte*)header + (((int)header->cmsg_len + sizeof(nuint) - 1) & ~(sizeof(nuint) - 1));
        return next + sizeof(cmsghdr) <= control + controlLength ? (cmsghdr*)next : null;
    }
}
