using AfXdp.Bpf;
using AfXdp.Device;
using AfXdp.Interop;
using AfXdp.Testing;
using AfXdp.Xsk;

namespace AfXdp.KernelTests.Xsk;

/// <summary>Each documented failure, provoked for real, says the call, the errno, the cause and the fix.</summary>
public sealed class ErrorTests
{
    static AfXdpException Fails(VethLab lab, Action action) =>
        lab.Run(VethSide.B, () => Assert.ThrowsAny<AfXdpException>(action));

    /// <summary>
    /// A queue held by another socket of this process: nothing says it is not one being closed, so bind retries
    /// for BusyRetryTimeout (no sooner: the lower bound holds however loaded the machine), then gives up.
    /// </summary>
    [Fact]
    public void A_queue_held_by_another_UMEM_of_this_process_is_EBUSY_after_a_bounded_retry()
    {
        using var bed = new XskTestBed(XdpAttachMode.Skb, new XskSocketOptions { TxRingSize = 0 });
        var clock = System.Diagnostics.Stopwatch.StartNew();
        AfXdpException e = Fails(bed.Lab, () => new RxTxSocket(new Umem(), bed.Lab.InterfaceB, 0, new XskSocketOptions { BusyRetryTimeout = TimeSpan.FromMilliseconds(500) }).Dispose());
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(30));
        Assert.Equal(Errno.EBUSY, e.Errno);
        Assert.Contains($"bind({bed.Lab.InterfaceB}, queue 0)", e.Message);
        Assert.Contains("still held by another AF_XDP socket", e.Message);
        Assert.Contains("Fix: retry", e.Message);
    }

    /// <summary>
    /// The race: two benches started on one queue at the same moment. The kernel lets one bind; the other
    /// gets EBUSY, finds the first holding AF_XDP sockets in the namespace, and fails at once naming it, instead of
    /// waiting to run after it. Rounds of it, each with both starting together.
    /// </summary>
    [Fact]
    public void Two_benches_started_on_one_queue_at_once_one_runs_and_the_other_fails_naming_it()
    {
        using VethLab lab = VethLab.Create();
        for (int round = 0; round < 3; round++)
        {
            string[] bench = ["bench", "-i", lab.InterfaceB, "-m", "rxdrop", "-d", "60"];
            using System.Diagnostics.Process first = KernelTest.StartAfxdpIn(lab, VethSide.B, bench), second = KernelTest.StartAfxdpIn(lab, VethSide.B, bench);
            try
            {
                Assert.True(KernelTest.Eventually(() => first.HasExited || second.HasExited, TimeSpan.FromSeconds(30)), $"round {round}: both run");
                System.Diagnostics.Process loser = first.HasExited ? first : second, winner = loser == first ? second : first;
                string error = loser.StandardError.ReadToEnd();
                Assert.True(loser.ExitCode == 1, $"round {round}: exit {loser.ExitCode}: {error}"); // a run-time failure (CommandLine.Failed)
                Assert.Contains($"bind({lab.InterfaceB}, queue 0) failed: EBUSY", error);
                Assert.Contains($"queue 0 of {lab.InterfaceB} is bound by another AF_XDP socket; in this network namespace bound AF_XDP sockets are held by pid {winner.Id} (", error);
                Assert.DoesNotContain("   at ", error);
                Thread.Sleep(500);
                Assert.False(winner.HasExited, $"round {round}: the winner stopped too");
            }
            finally
            {
                foreach (System.Diagnostics.Process running in new[] { first, second }.Where(p => !p.HasExited))
                    running.Kill();
                first.WaitForExit();
                second.WaitForExit();
            }
        }
    }

    [Fact]
    public void A_queue_the_device_lacks_is_EINVAL_naming_the_active_queues()
    {
        using VethLab lab = VethLab.Create();
        AfXdpException e = Fails(lab, () => new RxTxSocket(new Umem(), lab.InterfaceB, 5).Dispose());
        Assert.Equal(Errno.EINVAL, e.Errno);
        Assert.Contains($"queue 5 is not in use: {lab.InterfaceB} has 1 active queue (0)", e.Message);
        Assert.Contains("use a queue below 1", e.Message);
    }

    [Fact]
    public void Zero_copy_on_veth_is_EOPNOTSUPP_with_the_copy_mode_fix()
    {
        using VethLab lab = VethLab.Create();
        AfXdpException e = Fails(lab, () => new RxTxSocket(new Umem(), lab.InterfaceB, 0, new XskSocketOptions { BindMode = XdpBindMode.ZeroCopy }).Dispose());
        Assert.Equal(Errno.EOPNOTSUPP, e.Errno);
        Assert.Contains("zero-copy", e.Message);
        Assert.Contains("XdpBindMode.Copy", e.Message);
    }

    [Fact]
    public void A_missing_interface_is_ENODEV()
    {
        using VethLab lab = VethLab.Create();
        AfXdpException e = Fails(lab, () => new RxTxSocket(new Umem(), "nosuchif0", 0).Dispose());
        Assert.Equal(Errno.ENODEV, e.Errno);
        Assert.Contains("no interface \"nosuchif0\" in this network namespace", e.Message);
        // The other end's interface exists, but in the other namespace.
        Assert.Equal(Errno.ENODEV, Fails(lab, () => XskRedirectProgram.Attach(lab.InterfaceA).Dispose()).Errno);
    }

    [Fact]
    public void A_UMEM_from_another_namespace_is_refused_before_bind()
    {
        using VethLab lab = VethLab.Create();
        using var umem = new Umem(); // created in this thread's namespace, not the lab's
        AfXdpException e = Fails(lab, () => new RxTxSocket(umem, lab.InterfaceB, 0).Dispose());
        Assert.Equal(0, e.Errno);
        Assert.Contains("the UMEM was created in network namespace net:[", e.Message);
        Assert.Contains("inside the interface's namespace", e.Message);
    }

    [Fact]
    public void A_rejected_program_carries_the_verifier_log()
    {
        KernelTest.RequireRoot();
        // Returns without setting r0: the verifier refuses to read an uninitialised register.
        var spec = ProgramSpec.FromAssembler("afxdp_bad", new Assembler().Mov64(Register.R1, 0).Exit());
        VerifierException e = Assert.Throws<VerifierException>(() => BpfProgram.LoadXdp(spec).Dispose());
        Assert.Equal(Errno.EACCES, e.Errno);
        Assert.Contains("R0 !read_ok", e.Log);
        Assert.Contains("R0 !read_ok", e.Message);
        Assert.Contains("0: (b7) r1 = 0", e.Disassembly);
    }

    [Fact]
    public void An_interface_with_a_program_is_not_taken_over_silently()
    {
        using var bed = new XskTestBed(XdpAttachMode.Drv, new XskSocketOptions { TxRingSize = 0 });
        var e = bed.Lab.Run(VethSide.B, () => Assert.Throws<XdpProgramConflictException>(() => XskRedirectProgram.Attach(bed.Lab.InterfaceB, XdpAttachMode.Drv).Dispose()));
        Assert.Equal(bed.Program!.Program.Id, e.ProgramId);
        Assert.Equal(XskRedirectProgram.ProgramName, e.ProgramName);
        Assert.Contains($"XDP program id {e.ProgramId} '{XskRedirectProgram.ProgramName}' attached in drv mode", e.Message);
        Assert.Contains("afxdp detach", e.Message);
        // The refused attempt left the original in place.
        Assert.Equal(bed.Program.Program.Id, bed.Lab.Run(VethSide.B, () => NetDevice.Get(bed.Lab.InterfaceB)).Xdp.DrvProgramId);
    }

    [Fact]
    public void Without_CAP_NET_RAW_socket_creation_is_EPERM_naming_the_capability()
    {
        using VethLab lab = VethLab.Create();
        CommandResult run = KernelTest.AfxdpWithout(lab, VethSide.B, "cap_net_raw", "", $"bench -i {lab.InterfaceB} -d 1");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("socket(AF_XDP, SOCK_RAW) failed: EPERM", run.Error);
        Assert.Contains("CAP_NET_RAW", run.Error);
        Assert.DoesNotContain("   at ", run.Error);
    }

    /// <summary>The XSKMAP is the first BPF object the data path creates; it needs both capabilities (map_create asks bpf_net_capable too).</summary>
    [Theory]
    [InlineData("cap_bpf", "CAP_BPF")]
    [InlineData("cap_net_admin", "CAP_NET_ADMIN")]
    public void Without_CAP_BPF_or_CAP_NET_ADMIN_the_XSKMAP_is_EPERM_naming_the_capability(string dropped, string named)
    {
        using VethLab lab = VethLab.Create();
        CommandResult run = KernelTest.AfxdpWithout(lab, VethSide.B, $"{dropped},cap_sys_admin", "", $"bench -i {lab.InterfaceB} -d 1");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("bpf(BPF_MAP_CREATE, XskMap \"afxdp_xsks\"", run.Error);
        Assert.Contains($"failed: EPERM (Operation not permitted). Cause: the process lacks {named}: an XSKMAP needs CAP_BPF and CAP_NET_ADMIN", run.Error);
        Assert.DoesNotContain("   at ", run.Error);
    }

    [Fact]
    public void Without_CAP_IPC_LOCK_a_UMEM_over_the_memlock_limit_is_refused_before_the_kernel_says_ENOBUFS()
    {
        using VethLab lab = VethLab.Create();
        CommandResult run = KernelTest.AfxdpWithout(lab, VethSide.B, "cap_ipc_lock", "ulimit -l 1024 && ", $"bench -i {lab.InterfaceB} -d 1");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("RLIMIT_MEMLOCK (1048576 bytes)", run.Error);
        Assert.Contains("lacks CAP_IPC_LOCK", run.Error);
        Assert.Contains("ENOBUFS", run.Error);
    }
}
