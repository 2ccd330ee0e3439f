using System.Runtime.InteropServices;
using AfXdp.Interop;

namespace AfXdp.Tests.Interop;

/// <summary>The unix-socket ABI the SCM_RIGHTS paths use: struct sizes of x86_64/aarch64 glibc, CMSG_* arithmetic, sun_path limits.</summary>
public unsafe class UnixSocketTests
{
    [Fact]
    public void Structs_have_the_kernels_sizes()
    {
        Assert.Equal(110, sizeof(Sys.sockaddr_un));
        Assert.Equal(2, (int)Marshal.OffsetOf<Sys.sockaddr_un>(nameof(Sys.sockaddr_un.sun_path)));
        Assert.Equal(16, sizeof(Sys.timeval));
        Assert.Equal(56, sizeof(Sys.msghdr));
        Assert.Equal(16, sizeof(Sys.cmsghdr));
        Assert.Equal(20, Sys.CmsgLength(sizeof(int)));   // CMSG_LEN(sizeof(int))
        Assert.Equal(24, Sys.CmsgSpace(sizeof(int)));    // CMSG_SPACE(sizeof(int))
        Assert.Equal(16 + 1016, Sys.CmsgSpace(253 * sizeof(int)));
    }

    [Fact]
    public void A_path_fits_sun_path_with_its_NUL()
    {
        Assert.True(Sys.TryUnixAddress(new string('a', 107), out Sys.sockaddr_un address));
        Assert.Equal(Sys.AF_UNIX, address.sun_family);
        Assert.Equal((byte)'a', address.sun_path[106]);
        Assert.Equal(0, address.sun_path[107]);
        Assert.False(Sys.TryUnixAddress(new string('a', 108), out _));
        Assert.False(Sys.TryUnixAddress("", out _));
        Assert.True(Sys.TryUnixAddress("/tmp/afxdp_dp/eth0/afxdp.sock", out address));
        Assert.Equal((byte)'/', address.sun_path[0]);
    }
}
