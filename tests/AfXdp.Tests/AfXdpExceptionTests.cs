using AfXdp.Interop;

namespace AfXdp.Tests;

/// <summary>How an <see cref="AfXdpException"/> reads: the kernel's errno when there is one, never a made-up one.</summary>
public class AfXdpExceptionTests
{
    [Fact]
    public void A_refusal_before_any_syscall_names_no_errno()
    {
        var e = new AfXdpException("UmemOptions.FrameSize = 3000", 0, "an aligned frame must be 2048 or 4096 bytes.", "use 2048 or 4096.");
        Assert.Equal("UmemOptions.FrameSize = 3000: an aligned frame must be 2048 or 4096 bytes. Fix: use 2048 or 4096.", e.Message);
        Assert.DoesNotContain("invalid argument", e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("", e.ErrnoName);
    }

    [Fact]
    public void A_kernel_error_names_the_errno_and_its_text()
    {
        var e = new AfXdpException("bind(veth0, queue 0)", Errno.EBUSY, "another socket holds the queue.", "close it.");
        Assert.Equal("bind(veth0, queue 0) failed: EBUSY (Device or resource busy). Cause: another socket holds the queue. Fix: close it.", e.Message);
    }
}
