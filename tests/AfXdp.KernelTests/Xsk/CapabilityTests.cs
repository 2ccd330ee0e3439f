using AfXdp.Device;
using AfXdp.Testing;
using AfXdp.Xsk;

namespace AfXdp.KernelTests.Xsk;

/// <summary>
/// The library's first capability failure names every capability the AF_XDP data path needs that the process
/// lacks (not one per attempt), and its fix says where setcap goes. The calls run in-process on a thread whose
/// effective set lacks them (<see cref="ThreadCapabilities"/>); CAP_SYS_ADMIN goes too, as it stands in for CAP_BPF and CAP_NET_ADMIN.
/// </summary>
public sealed class CapabilityTests
{
    static readonly int[] s_dataPath = [Privileges.CAP_NET_RAW, Privileges.CAP_BPF, Privileges.CAP_NET_ADMIN, Privileges.CAP_SYS_ADMIN];

    static PrivilegeException Refused(VethLab lab, int[] dropped, Action call) =>
        lab.Run(VethSide.B, () => ThreadCapabilities.Without(dropped, () => Assert.Throws<PrivilegeException>(call)));

    [Fact]
    public void Without_any_the_UMEM_names_CAP_NET_RAW_CAP_BPF_and_CAP_NET_ADMIN_at_once_and_where_setcap_goes()
    {
        KernelTest.RequireRoot();
        using VethLab lab = VethLab.Create();
        PrivilegeException e = Refused(lab, s_dataPath, () => new Umem(new UmemOptions { FrameCount = 512 }).Dispose());
        Assert.Equal("socket(AF_XDP, SOCK_RAW)", e.Call);
        Assert.StartsWith("the process lacks CAP_NET_RAW, CAP_BPF and CAP_NET_ADMIN: an AF_XDP socket", e.Cause);
        Assert.Contains("`setcap cap_net_raw,cap_bpf,cap_net_admin+ep` on the app's own executable", e.Fix);
        Assert.Contains("not the shared `dotnet` host", e.Fix);
        Assert.Contains("AmbientCapabilities=CAP_NET_RAW CAP_BPF CAP_NET_ADMIN", e.Fix);
    }

    [Fact]
    public void Without_any_the_XSKMAP_of_the_redirect_program_names_all_three_too()
    {
        KernelTest.RequireRoot();
        using VethLab lab = VethLab.Create();
        PrivilegeException e = Refused(lab, s_dataPath, () => XskRedirectProgram.Attach(lab.InterfaceB).Dispose());
        Assert.StartsWith("bpf(BPF_MAP_CREATE, XskMap \"afxdp_xsks\"", e.Call);
        Assert.True(e.Cause.StartsWith("the process lacks CAP_BPF, CAP_NET_ADMIN and CAP_NET_RAW: an XSKMAP needs CAP_BPF and CAP_NET_ADMIN; each AF_XDP socket it holds needs CAP_NET_RAW", StringComparison.Ordinal), e.Message);
        Assert.Contains("`setcap cap_bpf,cap_net_admin,cap_net_raw+ep`", e.Fix);
    }

    [Fact]
    public void Lacking_only_CAP_NET_ADMIN_the_XSKMAP_names_only_it()
    {
        KernelTest.RequireRoot();
        using VethLab lab = VethLab.Create();
        PrivilegeException e = Refused(lab, [Privileges.CAP_NET_ADMIN, Privileges.CAP_SYS_ADMIN], () => XskRedirectProgram.Attach(lab.InterfaceB).Dispose());
        Assert.StartsWith("the process lacks CAP_NET_ADMIN: an XSKMAP needs", e.Cause);
    }

    [Fact]
    public void A_UMEM_over_the_memlock_limit_without_CAP_IPC_LOCK_names_the_data_paths_capabilities_with_it()
    {
        KernelTest.RequireRoot();
        ulong limit = Privileges.MemlockLimit;
        Assert.True(limit < 1UL << 40, $"RLIMIT_MEMLOCK is {limit} here: no UMEM goes over it");
        // The smallest power-of-two frame count whose UMEM is over the limit; refused before anything is mapped.
        uint frames = (uint)Math.Max(2, System.Numerics.BitOperations.RoundUpToPowerOf2(limit / 4096 + 1));
        using VethLab lab = VethLab.Create();
        PrivilegeException e = Refused(lab, [.. s_dataPath, Privileges.CAP_IPC_LOCK], () => new Umem(new UmemOptions { FrameCount = frames }).Dispose());
        Assert.Contains("lacks CAP_IPC_LOCK; registration would fail with ENOBUFS. Besides, the process lacks CAP_NET_RAW, CAP_BPF and CAP_NET_ADMIN:", e.Cause);
        Assert.Contains("`setcap cap_ipc_lock,cap_net_raw,cap_bpf,cap_net_admin+ep`", e.Fix);
    }
}
