using System.Diagnostics;
using System.Text.RegularExpressions;
using AfXdp.Device;
using AfXdp.KernelTests.Selftest;
using AfXdp.Testing;
using AfXdp.Xsk;

namespace AfXdp.KernelTests.Xsk;

/// <summary>
/// Which capabilities the data path needs: `afxdp bench -m l2fwd` (AF_XDP socket, UMEM, XSKMAP, XDP program,
/// bpf_link, traffic both ways) run by root with a bounding set of exactly CAP_NET_ADMIN, CAP_BPF, CAP_NET_RAW and
/// CAP_IPC_LOCK (setpriv), so the child has those and no other, CAP_SYS_ADMIN included. What happens
/// without each of them is in <see cref="ErrorTests"/>.
/// </summary>
public sealed partial class LeastPrivilegeTests
{
    const string Enough = "-all,+net_admin,+bpf,+net_raw,+ipc_lock";

    [GeneratedRegex(@"^mode=l2fwd .* pkts=(\d+) .* alloc_bytes=0$", RegexOptions.Multiline)]
    private static partial Regex Summary();

    static CommandResult BenchWith(VethLab lab, string boundingSet, string mode, string prefix = "", string options = "")
    {
        using Process feeder = KernelTest.StartAfxdpIn(lab, VethSide.A, "bench", "-i", lab.InterfaceA, "-m", "txonly", "-a", "drv", "-c", "copy", "-d", "10",
            "--dmac", lab.MacB);
        try
        {
            return lab.Exec(VethSide.B, "sh", "-c",
                $"{prefix}exec setpriv --bounding-set {boundingSet} -- {KernelTest.DotnetHost} {KernelTest.CliPath()} bench -i {lab.InterfaceB} -m l2fwd -a {mode} -c copy -d 1 --wait 30 {options}");
        }
        finally
        {
            feeder.Kill();
            feeder.WaitForExit(10_000);
        }
    }

    [Theory, AttachModes]
    public void NET_ADMIN_BPF_NET_RAW_and_IPC_LOCK_are_enough_for_the_data_path(XdpAttachMode mode)
    {
        using VethLab lab = VethLab.Create();
        CommandResult capabilities = lab.Exec(VethSide.B, "setpriv", "--bounding-set", Enough, "--", "grep", "CapEff", "/proc/self/status");
        ulong effective = Convert.ToUInt64(capabilities.Output.Split(':')[1].Trim(), 16);
        Assert.Equal(1UL << Privileges.CAP_NET_ADMIN | 1UL << Privileges.CAP_NET_RAW | 1UL << Privileges.CAP_IPC_LOCK | 1UL << Privileges.CAP_BPF, effective);

        CommandResult run = BenchWith(lab, Enough, mode.ToString().ToLowerInvariant());
        Assert.True(run.Succeeded, run.Output + run.Error);
        Match summary = Summary().Match(run.Output);
        Assert.True(summary.Success && long.Parse(summary.Groups[1].Value) > 1000, run.Output);
    }

    /// <summary>
    /// CAP_IPC_LOCK only lifts RLIMIT_MEMLOCK, against which the kernel pins the UMEM: a 2 MiB UMEM (rings of
    /// 256) under the usual 8 MiB limit needs three capabilities.
    /// </summary>
    [Fact]
    public void Without_CAP_IPC_LOCK_a_UMEM_within_the_memlock_limit_is_enough()
    {
        Assert.True(Privileges.MemlockLimit >= 2 << 20, $"RLIMIT_MEMLOCK is {Privileges.MemlockLimit} bytes here, less than the 2 MiB UMEM");
        using VethLab lab = VethLab.Create();
        CommandResult run = BenchWith(lab, "-all,+net_admin,+bpf,+net_raw", "drv", options: "-r 256");
        Assert.True(run.Succeeded, run.Output + run.Error);
        Assert.Matches(Summary(), run.Output);
    }
}
