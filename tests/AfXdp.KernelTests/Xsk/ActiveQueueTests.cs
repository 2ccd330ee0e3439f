using AfXdp.Device;
using AfXdp.Engine;
using AfXdp.Testing;
using AfXdp.Xsk;

namespace AfXdp.KernelTests.Xsk;

/// <summary>
/// A veth created as `ip link add` makes it (no queue options) allocates 2 RX queues and uses 1:
/// NetDevice, bind, the engine and doctor must agree on what is in use.
/// </summary>
public sealed class ActiveQueueTests
{
    public ActiveQueueTests() => KernelTest.RequireRoot();

    /// <summary>A lab whose veth pair has the kernel's default queues (numrxqueues 2, real 1), as a plain `ip link add` gives.</summary>
    static VethLab DefaultVeth()
    {
        VethLab lab = VethLab.Create(new VethLabOptions { RxQueues = 2, TxQueues = 2 });
        // Both ends: native XDP on veth wants at least as many RX queues as the peer has TX queues (else ENOSPC).
        foreach (VethSide side in new[] { VethSide.A, VethSide.B })
        {
            CommandResult channels = lab.Exec(side, "ethtool", "-L", lab.InterfaceOf(side), "rx", "1", "tx", "1");
            Assert.True(channels.ExitCode == 0, $"{channels.CommandLine}: {channels.Error}");
        }
        return lab;
    }

    [Fact]
    public void A_device_reports_its_active_queues_apart_from_the_allocated_ones()
    {
        using VethLab lab = DefaultVeth();
        (uint allocated, uint active) = lab.Run(VethSide.B, () =>
        {
            NetDevice device = NetDevice.Get(lab.InterfaceB);
            return (device.QueueCount, device.QueryActiveQueues());
        });
        Assert.Equal(2u, allocated);
        Assert.Equal(1u, active);
    }

    [Fact]
    public void Binding_an_inactive_queue_says_it_is_not_in_use_and_how_to_raise_it()
    {
        using VethLab lab = DefaultVeth();
        var e = Assert.Throws<AfXdpException>(() => lab.Run(VethSide.B, () =>
        {
            using var umem = new Umem(new UmemOptions { FrameCount = 256, FillRingSize = 256, CompletionRingSize = 256 });
            using var socket = new RxSocket(umem, lab.InterfaceB, 1);
        }));
        Assert.Contains($"queue 1 is not in use: {lab.InterfaceB} has 1 active queue (0) of 2 allocated.", e.Message);
        Assert.Contains($"ethtool -L {lab.InterfaceB} rx 2 tx 2", e.Message);
    }

    [Fact]
    public void The_engine_binds_every_active_queue_and_no_other()
    {
        using VethLab lab = DefaultVeth();
        using XdpEngine engine = lab.Run(VethSide.B, () => new XdpEngine(new XdpEngineOptions { Interface = lab.InterfaceB }));
        Assert.Equal([0u], engine.Queues.Select(q => q.QueueId));
    }

    [Fact]
    public void Doctor_agrees_with_bind()
    {
        using VethLab lab = DefaultVeth();
        CommandResult run = KernelTest.AfxdpIn(lab, VethSide.B, "doctor", "-i", lab.InterfaceB, "-q", "1");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"queue 1 is not in use: {lab.InterfaceB} has 1 active queue (0) of 2 allocated", run.Output);
    }

    [Fact]
    public void Bench_on_an_inactive_queue_says_so_and_exits_non_zero()
    {
        using VethLab lab = DefaultVeth();
        CommandResult run = KernelTest.AfxdpIn(lab, VethSide.B, "bench", "-i", lab.InterfaceB, "-q", "1", "-m", "rxdrop", "-d", "1");
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains($"queue 1 is not in use: {lab.InterfaceB} has 1 active queue (0) of 2 allocated", run.Output + run.Error);
        Assert.DoesNotContain("shared UMEM", run.Output + run.Error);
    }
}
