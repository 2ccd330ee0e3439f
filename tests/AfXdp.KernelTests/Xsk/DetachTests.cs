using System.Diagnostics;
using System.Net.Sockets;
using AfXdp.Bpf;
using AfXdp.Device;
using AfXdp.KernelTests.Bpf;
using AfXdp.Testing;
using AfXdp.Xsk;

namespace AfXdp.KernelTests.Xsk;

/// <summary>
/// Nothing stays attached: not after Dispose, not after the holder dies by SIGKILL (idle or in the
/// middle of receiving); what is attached is named with the link and process that hold it; and
/// `afxdp detach` removes what an older tool left.
/// </summary>
public sealed class DetachTests
{
    const int Port = 7000;

    static XdpAttachment XdpOf(VethLab lab) => lab.Run(VethSide.B, () => NetDevice.Get(lab.InterfaceB).Xdp);

    [Theory]
    [InlineData(XdpAttachMode.Skb)]
    [InlineData(XdpAttachMode.Drv)]
    public void Dispose_detaches_the_program_and_frees_it(XdpAttachMode mode)
    {
        using VethLab lab = VethLab.Create();
        XskRedirectProgram program = lab.Run(VethSide.B, () => XskRedirectProgram.Attach(lab.InterfaceB, mode));
        uint id = program.Program.Id;
        Assert.Equal(id, XdpOf(lab).ProgramIn(mode));
        program.Dispose();
        program.Dispose(); // idempotent
        Assert.False(XdpOf(lab).Any);
        Assert.True(KernelTest.Eventually(() => !PinTests.ProgramExists(id), TimeSpan.FromSeconds(5)), $"program {id} still loaded");
    }

    /// <summary>`afxdp bench` receiving on B (steering UDP port 7000 when <paramref name="filter"/>), once its program is attached.</summary>
    static Process StartReceiver(VethLab lab, string mode, bool filter = false)
    {
        Process child = KernelTest.StartAfxdpIn(lab, VethSide.B,
            ["bench", "-i", lab.InterfaceB, "-m", "rxdrop", "-a", mode, "-d", "60", .. filter ? ["--filter", $"udp dst port {Port}"] : Array.Empty<string>()]);
        Assert.True(KernelTest.Eventually(() => XdpOf(lab).Any || child.HasExited, TimeSpan.FromSeconds(20)), "the child never attached");
        Assert.False(child.HasExited, child.HasExited ? child.StandardError.ReadToEnd() : "");
        return child;
    }

    /// <summary>UDP datagrams from A's kernel to B's port 7000 until cancelled, in bursts.</summary>
    static Task SendUntil(VethLab lab, CancellationToken stop) => lab.RunAsync(VethSide.A, () =>
    {
        using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var destination = new System.Net.IPEndPoint(lab.AddressB, Port);
        for (int i = 0; !stop.IsCancellationRequested && i < 10_000_000; i++)
        {
            udp.SendTo(XskTestBed.Payload(i), destination);
            if (i % 64 == 63)
                Thread.Sleep(1);
        }
    });

    [Theory]
    [InlineData("skb", false)]
    [InlineData("drv", false)]
    [InlineData("skb", true)]
    [InlineData("drv", true)]
    public async Task A_process_killed_by_SIGKILL_leaves_nothing_attached(string mode, bool receiving)
    {
        using VethLab lab = VethLab.Create();
        using var stop = new CancellationTokenSource();
        using Process child = StartReceiver(lab, mode, filter: receiving);
        Task traffic = receiving ? SendUntil(lab, stop.Token) : Task.CompletedTask;
        try
        {
            uint id = XdpOf(lab).First.Id;
            using BpfProgram program = BpfProgram.FromId(id);
            Assert.Equal(receiving ? SteeringProgram.ProgramName : XskRedirectProgram.ProgramName, program.Name);
            if (receiving)
            {
                // Wait until frames are flowing into the child's socket: its verdict counters say so.
                IReadOnlyList<BpfMap> maps = program.OpenMaps();
                foreach (BpfMap other in maps.Where(m => m.Name != SteeringProgram.CountersName))
                    other.Dispose();
                using PerCpuArray<ulong> counters = PerCpuArray<ulong>.Open(maps.Single(m => m.Name == SteeringProgram.CountersName));
                Assert.True(KernelTest.Eventually(() => counters.Sum((uint)SteeringVerdict.Redirected) > 100, TimeSpan.FromSeconds(10)), "no traffic reached the child's socket");
            }
            program.Dispose(); // our handle would keep the program loaded

            child.Kill(); // SIGKILL: no finalizer, no Dispose runs
            Assert.True(child.WaitForExit(10_000));
            Assert.Equal(137, child.ExitCode);
            Assert.True(KernelTest.Eventually(() => !XdpOf(lab).Any, TimeSpan.FromSeconds(5)), "still attached after SIGKILL");
            Assert.True(KernelTest.Eventually(() => !PinTests.ProgramExists(id), TimeSpan.FromSeconds(5)), $"program {id} still loaded after SIGKILL");
        }
        finally
        {
            stop.Cancel();
            await traffic;
            if (!child.HasExited)
                child.Kill();
        }
    }

    [Fact]
    public void The_link_on_an_interface_names_its_program_and_the_process_holding_it()
    {
        using VethLab lab = VethLab.Create();
        using Process child = StartReceiver(lab, "drv");
        try
        {
            uint id = XdpOf(lab).DrvProgramId;
            (IReadOnlyList<XdpLinkInfo> links, IReadOnlyList<AttachedProgram> attached) = lab.Run(VethSide.B, () =>
            {
                NetDevice device = NetDevice.Get(lab.InterfaceB);
                return (XdpLinkInfo.On(device), AttachedProgram.On(device));
            });
            XdpLinkInfo link = Assert.Single(links);
            Assert.Equal(id, link.ProgramId);
            Assert.Contains(new LinkHolder(child.Id, "dotnet"), link.FindHolders());
            Assert.Contains(link, XdpLinkInfo.All());
            AttachedProgram program = Assert.Single(attached);
            Assert.Equal(new AttachedProgram(id, XskRedirectProgram.ProgramName, XdpAttachMode.Drv, link), program);
            Assert.Equal($"program {id} '{XskRedirectProgram.ProgramName}' in drv mode, attached by bpf_link {link.Id} held by pid {child.Id} (dotnet)", program.Describe());

            // Whoever else tries to attach is told who holds the interface.
            var e = lab.Run(VethSide.B, () => Assert.Throws<XdpProgramConflictException>(() => XskRedirectProgram.Attach(lab.InterfaceB, XdpAttachMode.Skb).Dispose()));
            Assert.Contains($"program id {id} '{XskRedirectProgram.ProgramName}' attached in drv mode (by bpf_link {link.Id} held by pid {child.Id} (dotnet))", e.Message);
        }
        finally
        {
            child.Kill();
        }
    }

    [Fact]
    public void Afxdp_detach_removes_a_program_an_older_tool_attached_through_netlink()
    {
        string work = Directory.CreateTempSubdirectory("afxdp-detach-").FullName;
        try
        {
            using VethLab lab = VethLab.Create();
            CommandResult nothing = KernelTest.AfxdpIn(lab, VethSide.B, "detach", "-i", lab.InterfaceB);
            Assert.Equal(0, nothing.ExitCode);
            Assert.Contains($"{lab.InterfaceB}: no XDP program attached", nothing.Output);

            CommandResult load = lab.Exec(VethSide.B, "ip", "link", "set", "dev", lab.InterfaceB, "xdpgeneric", "obj", ByopProgram.Compile(work), "sec", "xdp");
            Assert.True(load.Succeeded, load.Error);
            uint id = XdpOf(lab).SkbProgramId;
            Assert.NotEqual(0u, id);
            Assert.Empty(lab.Run(VethSide.B, () => XdpLinkInfo.On(NetDevice.Get(lab.InterfaceB))));

            CommandResult detach = KernelTest.AfxdpIn(lab, VethSide.B, "detach", "-i", lab.InterfaceB);
            Assert.True(detach.Succeeded, detach.Output + detach.Error);
            Assert.Contains($"{lab.InterfaceB}: detached program {id} '{ByopProgram.Name}' (skb mode, attached by netlink)", detach.Output);
            Assert.False(XdpOf(lab).Any);
            Assert.True(KernelTest.Eventually(() => !PinTests.ProgramExists(id), TimeSpan.FromSeconds(5)), $"program {id} still loaded");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public void Afxdp_detach_names_the_process_holding_a_bpf_link_and_detaches_it_only_when_forced()
    {
        using VethLab lab = VethLab.Create();
        using Process child = StartReceiver(lab, "skb");
        try
        {
            uint id = XdpOf(lab).SkbProgramId;
            uint linkId = lab.Run(VethSide.B, () => Assert.Single(XdpLinkInfo.On(NetDevice.Get(lab.InterfaceB))).Id);

            CommandResult refused = KernelTest.AfxdpIn(lab, VethSide.B, "detach", "-i", lab.InterfaceB);
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains($"program {id} '{XskRedirectProgram.ProgramName}' (skb mode) is attached by bpf_link {linkId} held by pid {child.Id} (dotnet)", refused.Error);
            Assert.Contains("only that process should remove it", refused.Error);
            Assert.Contains($"afxdp detach -i {lab.InterfaceB} --force", refused.Error);
            Assert.Equal(id, XdpOf(lab).SkbProgramId);

            CommandResult forced = KernelTest.AfxdpIn(lab, VethSide.B, "detach", "-i", lab.InterfaceB, "--force");
            Assert.True(forced.Succeeded, forced.Output + forced.Error);
            Assert.Contains($"detached program {id} '{XskRedirectProgram.ProgramName}' (skb mode) from bpf_link {linkId} held by pid {child.Id} (dotnet)", forced.Output);
            Assert.False(XdpOf(lab).Any);
            Assert.False(child.HasExited, "the holder lives on with an empty link");
        }
        finally
        {
            child.Kill();
        }
    }
}
