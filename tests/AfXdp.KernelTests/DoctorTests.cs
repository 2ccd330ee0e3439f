using AfXdp.Bpf;
using AfXdp.Device;
using AfXdp.KernelTests.Bpf;
using AfXdp.Testing;
using AfXdp.Xsk;

namespace AfXdp.KernelTests;

/// <summary>`afxdp doctor`, run as a user would inside a lab namespace: its findings, fixes and exit codes.</summary>
public sealed class DoctorTests
{
    public DoctorTests() => KernelTest.RequireRoot();

    static CommandResult Doctor(VethLab lab, params string[] args) => KernelTest.AfxdpIn(lab, VethSide.B, ["doctor", .. args]);

    [Fact]
    public void A_lab_interface_works_in_both_XDP_modes_in_copy_mode_only()
    {
        using VethLab lab = VethLab.Create();
        CommandResult run = Doctor(lab, "-i", lab.InterfaceB);
        Assert.True(run.Succeeded, run.Output + run.Error);
        string name = lab.InterfaceB;
        Assert.Contains($"afxdp doctor: {name} queue 0", run.Output);
        Assert.Matches(@"OK    kernel +Linux \d+\.\d+", run.Output);
        Assert.Contains("OK    af_xdp         socket(AF_XDP, SOCK_RAW) works", run.Output);
        Assert.Contains("OK    CAP_NET_RAW    present", run.Output);
        Assert.Matches($@"OK    interface +{name} \(ifindex \d+, up, mtu 1500\)", run.Output);
        Assert.Matches(@"OK    driver +veth", run.Output);
        Assert.Matches(@"OK    queue +queue 0 of 1; channels: combined 0 \(max 0\), rx 1", run.Output);
        Assert.Matches(@"OK    xdp modes +native \(drv\) and generic \(skb\)", run.Output);
        Assert.Matches(@"WARN  zero-copy +copy mode only \(EOPNOTSUPP for zero-copy", run.Output);
        Assert.Matches(@"OK    attached +no XDP program attached", run.Output);
        Assert.Matches(@"WARN  bpffs +not mounted at /sys/fs/bpf in this mount namespace", run.Output);
        Assert.Matches(@"0 failure\(s\), \d warning\(s\): AF_XDP should work", run.Output);
        // It tried things, and left nothing behind.
        Assert.False(lab.Run(VethSide.B, () => NetDevice.Get(name).Xdp.Any));
        Assert.DoesNotContain("afxdp_doctor", ExternalCommand.Run("bpftool", ["prog", "show"]).Output);
    }

    [Fact]
    public void A_veth_whose_peer_is_in_another_namespace_is_said_to_take_partial_checksums_as_information()
    {
        using VethLab lab = VethLab.Create();
        CommandResult run = Doctor(lab, "-i", lab.InterfaceB);
        Assert.True(run.Succeeded, run.Output + run.Error);
        int peer = lab.Run(VethSide.A, () => NetDevice.IndexOf(lab.InterfaceA));
        Assert.Matches(@"OK    checksums +veth: UDP checksums from the peer's stack may arrive partial \(CHECKSUM_PARTIAL", run.Output);
        Assert.Contains($"its peer (ifindex {peer}) is in another network namespace (nsid ", run.Output);
        Assert.Contains("AfXdp's UDP service and echo accept a partial checksum on veth", run.Output);
    }

    [Fact]
    public void A_veth_whose_peer_is_here_is_told_the_peers_tx_checksum_offload_on_and_then_off()
    {
        using VethLab lab = VethLab.Create();
        const string served = "ckb0", peer = "cka0";
        Assert.True(lab.Exec(VethSide.B, "ip", "link", "add", served, "type", "veth", "peer", "name", peer).Succeeded);
        Assert.True(lab.Exec(VethSide.B, "ip", "link", "set", served, "up").Succeeded);
        Assert.True(lab.Exec(VethSide.B, "ip", "link", "set", peer, "up").Succeeded);
        int peerIndex = lab.Run(VethSide.B, () => NetDevice.IndexOf(peer));
        CommandResult on = Doctor(lab, "-i", served);
        Assert.True(on.Succeeded, on.Output + on.Error);
        Assert.Matches($@"OK    checksums +veth: .*; its peer {peer} \(ifindex {peerIndex}\) has tx checksum offload on, so they do\.", on.Output);
        Assert.DoesNotContain("FAIL  checksums", on.Output);

        Assert.True(lab.Exec(VethSide.B, "ethtool", "-K", peer, "tx", "off").Succeeded);
        CommandResult off = Doctor(lab, "-i", served);
        Assert.Matches($@"OK    checksums +veth: .*; its peer {peer} \(ifindex {peerIndex}\) has tx checksum offload off, so they arrive whole\.", off.Output);
    }

    [Fact]
    public void A_queue_beyond_the_device_fails_with_the_range_to_use()
    {
        using VethLab lab = VethLab.Create();
        CommandResult run = Doctor(lab, "-i", lab.InterfaceB, "-q", "5");
        Assert.Equal(1, run.ExitCode);
        Assert.Matches($@"FAIL  queue +queue 5 is not in use: {lab.InterfaceB} has 1 active queue \(0\)", run.Output);
        Assert.Contains("fix: use a queue below 1", run.Output);
        Assert.Matches(@"WARN  zero-copy +not tried: queue 5 is not in use", run.Output);
        Assert.Contains("1 failure(s)", run.Output);
        Assert.Contains("AF_XDP would fail, see FAIL above", run.Output);
    }

    [Fact]
    public void A_missing_interface_fails()
    {
        using VethLab lab = VethLab.Create();
        CommandResult run = Doctor(lab, "-i", "nosuchif0");
        Assert.Equal(1, run.ExitCode);
        Assert.Matches(@"FAIL  interface +if_nametoindex\(""nosuchif0""\): there is no interface ""nosuchif0"" in this network namespace", run.Output);
    }

    [Fact]
    public void A_program_another_tool_attached_is_reported_with_id_name_and_holder()
    {
        string work = Directory.CreateTempSubdirectory("afxdp-doctor-").FullName;
        try
        {
            using VethLab lab = VethLab.Create();
            // Through netlink, with an XSKMAP: usable, so a warning.
            CommandResult load = lab.Exec(VethSide.B, "ip", "link", "set", "dev", lab.InterfaceB, "xdpgeneric", "obj", ByopProgram.Compile(work), "sec", "xdp");
            Assert.True(load.Succeeded, load.Error);
            uint id = lab.Run(VethSide.B, () => NetDevice.Get(lab.InterfaceB).Xdp.SkbProgramId);
            CommandResult run = Doctor(lab, "-i", lab.InterfaceB);
            Assert.True(run.Succeeded, run.Output + run.Error);
            Assert.Matches($@"WARN  attached +program {id} '{ByopProgram.Name}' in skb mode, attached by netlink; it has an XSKMAP", run.Output);
            Assert.Matches($@"WARN  xdp modes +not tried: program {id} is attached", run.Output);
            Assert.Contains($"afxdp detach -i {lab.InterfaceB}", run.Output);
            Assert.True(lab.Exec(VethSide.B, "ip", "link", "set", "dev", lab.InterfaceB, "xdpgeneric", "off").Succeeded);

            // Through a bpf_link this process holds, without an XSKMAP: nothing could reach a socket.
            using BpfProgram program = BpfProgram.LoadXdp(ProgramSpec.FromAssembler("someone_else", new Assembler().Mov64(Register.R0, 2).Exit()));
            using XdpLink link = lab.Run(VethSide.B, () => XdpLink.Attach(program, NetDevice.IndexOf(lab.InterfaceB), XdpAttachMode.Drv));
            uint linkId = lab.Run(VethSide.B, () => Assert.Single(XdpLinkInfo.On(NetDevice.Get(lab.InterfaceB))).Id);
            run = Doctor(lab, "-i", lab.InterfaceB);
            Assert.Equal(1, run.ExitCode);
            Assert.Matches($@"FAIL  attached +program {program.Id} 'someone_else' in drv mode, attached by bpf_link {linkId} held by pid {Environment.ProcessId} \(.+\); it has no XSKMAP", run.Output);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public void Missing_privileges_and_a_small_memlock_limit_say_what_to_grant()
    {
        using VethLab lab = VethLab.Create();
        CommandResult run = KernelTest.AfxdpWithout(lab, VethSide.B, "cap_net_raw,cap_ipc_lock", "ulimit -l 1024 && ", $"doctor -i {lab.InterfaceB}");
        Assert.Equal(1, run.ExitCode);
        Assert.Matches(@"FAIL  af_xdp +socket\(AF_XDP, SOCK_RAW\): EPERM", run.Output);
        Assert.Matches(@"FAIL  CAP_NET_RAW +missing: needed for creating AF_XDP sockets", run.Output);
        Assert.Contains("fix: run as root, or grant it: `setcap cap_net_raw+ep BINARY`", run.Output);
        Assert.Matches(@"WARN  CAP_IPC_LOCK +missing", run.Output);
        Assert.Matches(@"WARN  memlock +RLIMIT_MEMLOCK is 1 MiB, less than the default UMEM \(16 MiB\): a larger UMEM fails with ENOBUFS", run.Output);
        Assert.DoesNotContain("   at ", run.Error);
    }

    [Fact]
    public void Without_an_interface_only_the_system_is_checked()
    {
        using VethLab lab = VethLab.Create();
        CommandResult run = Doctor(lab);
        Assert.True(run.Succeeded, run.Output + run.Error);
        Assert.DoesNotContain(" interface ", run.Output);
        Assert.Contains("AF_XDP should work (add -i IF to check an interface)", run.Output);
    }
}
