namespace AfXdp.Interop;

/// <summary>errno values used by the library (asm-generic/errno-base.h, errno.h).</summary>
internal static class Errno
{
    /// <summary>Operation not permitted (a capability is missing).</summary>
    public const int EPERM = 1;
    /// <summary>No such file or directory.</summary>
    public const int ENOENT = 2;
    /// <summary>No such process.</summary>
    public const int ESRCH = 3;
    /// <summary>Interrupted system call.</summary>
    public const int EINTR = 4;
    /// <summary>Input/output error.</summary>
    public const int EIO = 5;
    /// <summary>No such device or address.</summary>
    public const int ENXIO = 6;
    /// <summary>Argument list too long.</summary>
    public const int E2BIG = 7;
    /// <summary>Bad file descriptor (closed, or never opened).</summary>
    public const int EBADF = 9;
    /// <summary>Resource temporarily unavailable (try again).</summary>
    public const int EAGAIN = 11;
    /// <summary>Cannot allocate memory.</summary>
    public const int ENOMEM = 12;
    /// <summary>Permission denied.</summary>
    public const int EACCES = 13;
    /// <summary>Bad address.</summary>
    public const int EFAULT = 14;
    /// <summary>Device or resource busy.</summary>
    public const int EBUSY = 16;
    /// <summary>File exists.</summary>
    public const int EEXIST = 17;
    /// <summary>No such device.</summary>
    public const int ENODEV = 19;
    /// <summary>Not a directory.</summary>
    public const int ENOTDIR = 20;
    /// <summary>Invalid argument.</summary>
    public const int EINVAL = 22;
    /// <summary>Too many open files.</summary>
    public const int EMFILE = 24;
    /// <summary>No space left on device.</summary>
    public const int ENOSPC = 28;
    /// <summary>Broken pipe (the other end closed).</summary>
    public const int EPIPE = 32;
    /// <summary>Numerical result out of range.</summary>
    public const int ERANGE = 34;
    /// <summary>File name too long.</summary>
    public const int ENAMETOOLONG = 36;
    /// <summary>Function not implemented.</summary>
    public const int ENOSYS = 38;
    /// <summary>Directory not empty.</summary>
    public const int ENOTEMPTY = 39;
    /// <summary>Too many levels of symbolic links (or a link where O_NOFOLLOW refused one).</summary>
    public const int ELOOP = 40;
    /// <summary>Protocol not available (an unknown socket option).</summary>
    public const int ENOPROTOOPT = 92;
    /// <summary>Operation not supported.</summary>
    public const int EOPNOTSUPP = 95;
    /// <summary>Address family not supported by protocol.</summary>
    public const int EAFNOSUPPORT = 97;
    /// <summary>Address already in use.</summary>
    public const int EADDRINUSE = 98;
    /// <summary>Network is down.</summary>
    public const int ENETDOWN = 100;
    /// <summary>No buffer space available.</summary>
    public const int ENOBUFS = 105;
    /// <summary>Socket operation on non-socket.</summary>
    public const int ENOTSOCK = 88;
    /// <summary>Protocol wrong type for socket.</summary>
    public const int EPROTOTYPE = 91;
    /// <summary>Software caused connection abort.</summary>
    public const int ECONNABORTED = 103;
    /// <summary>Connection reset by peer.</summary>
    public const int ECONNRESET = 104;
    /// <summary>Transport endpoint is not connected.</summary>
    public const int ENOTCONN = 107;
    /// <summary>Connection refused.</summary>
    public const int ECONNREFUSED = 111;

    /// <summary>The symbolic name of an errno value, e.g. "EBUSY"; "errno N" when unknown.</summary>
    public static string Name(int errno) => errno switch
    {
        EPERM => "EPERM", ENOENT => "ENOENT", ESRCH => "ESRCH", EINTR => "EINTR", EIO => "EIO",
        ENXIO => "ENXIO", E2BIG => "E2BIG", EBADF => "EBADF", EAGAIN => "EAGAIN", ENOMEM => "ENOMEM",
        EACCES => "EACCES", EFAULT => "EFAULT", EBUSY => "EBUSY", EEXIST => "EEXIST", ENODEV => "ENODEV",
        ENOTDIR => "ENOTDIR", EINVAL => "EINVAL", EMFILE => "EMFILE", ENOSPC => "ENOSPC", EPIPE => "EPIPE", ERANGE => "ERANGE", ENAMETOOLONG => "ENAMETOOLONG", ENOSYS => "ENOSYS", ENOTEMPTY => "ENOTEMPTY", ELOOP => "ELOOP", ENOPROTOOPT => "ENOPROTOOPT",
        EOPNOTSUPP => "EOPNOTSUPP", EAFNOSUPPORT => "EAFNOSUPPORT", EADDRINUSE => "EADDRINUSE",
        ENETDOWN => "ENETDOWN", ENOBUFS => "ENOBUFS", ENOTSOCK => "ENOTSOCK", EPROTOTYPE => "EPROTOTYPE", ECONNABORTED => "ECONNABORTED", ECONNRESET => "ECONNRESET", ENOTCONN => "ENOTCONN", ECONNREFUSED => "ECONNREFUSED",
        _ => $"errno {errno}",
    };
}
