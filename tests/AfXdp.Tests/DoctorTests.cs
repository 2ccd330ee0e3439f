using AfXdp.Diagnostics;

namespace AfXdp.Tests;

public class DoctorTests
{
    [Theory]
    [InlineData("6.18.44-fc-v657", 6, 18, 44)]
    [InlineData("5.15.0-91-generic", 5, 15, 0)]
    [InlineData("4.18.0-513.el8.x86_64", 4, 18, 0)]
    [InlineData("6.1", 6, 1, 0)]
    public void KernelReleasesParse(string release, int major, int minor, int patch) =>
        Assert.Equal(new Version(major, minor, patch), Doctor.ParseRelease(release));

    [Theory]
    [InlineData("4.14.0", CheckStatus.Fail, "AF_XDP arrived in 4.18")]
    [InlineData("5.4.0-150-generic", CheckStatus.Warn, "no bpf_link for XDP (5.9+)")]
    [InlineData("5.9.0", CheckStatus.Ok, "XDP bpf_link (5.9+)")]
    [InlineData("6.18.44-fc-v657", CheckStatus.Ok, "Linux 6.18.44-fc-v657: AF_XDP (4.18+)")]
    [InlineData("custom", CheckStatus.Warn, "version not recognised")]
    public void OldKernelsAreExplained(string release, CheckStatus status, string detail)
    {
        DoctorCheck check = Doctor.Kernel(release);
        Assert.Equal(status, check.Status);
        Assert.Contains(detail, check.Detail);
        Assert.Equal(status != CheckStatus.Ok, check.Fix is not null);
    }
}
