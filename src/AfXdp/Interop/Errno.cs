namespace AfXdp.Interop;

/// <summary>errno values used by the library (asm-generic/errno-base.h, errno.h).</summary>
public static class Errno
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int ESRCH = 3;
    public const int EINTR = 4;
    public const int EIO = 5;
    public const int ENXIO = 6;
    public const int E2BIG = 7;
    public const int EBADF = 9;
    public const int EAGAIN = 11;
    public const int ENOMEM = 12;
    public const int EACCES = 13;
    public const int EFAULT = 14;
    public const int EBUSY = 16;
    public const int EEXIST = 17;
    public const int ENODEV = 19;
    public const int EINVAL = 22;
    public const int EMFILE = 24;
    public const int ENOSPC = 28;
    public const int EPIPE = 32;
    public const int ERANGE = 34;
    public const int ENAMETOOLONG = 36;
    public const int ENOSYS = 38;
    public const int ENOPROTOOPT = 92;
    public const int EOPNOTSUPP = 95;
    public const int EAFNOSUPPORT = 97;
    public const int EADDRINUSE = 98;
    public const int ENETDOWN = 100;
    public const int ENOBUFS = 105;
    public const int ENOTSOCK = 88;
    public const int EPROTOTYPE = 91;
    public const int ECONNABORTED = 103;
    public const int ECONNRESET = 104;
    public const int ENOTCONN = 107;
    public const int ECONNREFUSED = 111;

    /// <summary>The symbolic name of an errno value, e.g. "EBUSY"; "errno N" when unknown.</summary>
    public static string Name(int errno) => errno switch
    {
        EPERM => "EPERM", ENOENT => "ENOENT", ESRCH => "ESRCH", EINTR => "EINTR", EIO => "EIO",
        ENXIO => "ENXIO", E2BIG => "E2BIG", EBADF => "EBADF", EAGAIN => "EAGAIN", ENOMEM => "ENOMEM",
        EACCES => "EACCES", EFAULT => "EFAULT", EBUSY => "EBUSY", EEXIST => "EEXIST", ENODEV => "ENODEV",
        EINVAL => "EINVAL", EMFILE => "EMFILE", ENOSPC => "ENOSPC", EPIPE => "EPIPE", ERANGE => "ERANGE", ENAMETOOLONG => "ENAMETOOLONG", ENOSYS => "ENOSYS", ENOPROTOOPT => "ENOPROTOOPT",
        EOPNOTSUPP => "EOPNOTSUPP", EAFNOSUPPORT => "EAFNOSUPPORT", EADDRINUSE => "EADDRINUSE",
        ENETDOWN => "ENETDOWN", ENOBUFS => "ENOBUFS", ENOTSOCK => "ENOTSOCK", EPROTOTYPE => "EPROTOTYPE", ECONNABORTED => "ECONNABORTED", ECONNRESET => "ECONNRESET", ENOTCONN => "ENOTCONN", ECONNREFUSED => "ECONNREFUSED",
        _ => $"errno {errno}",
    };
}
