using System.Diagnostics;
using AfXdp.Bpf;
using AfXdp.Device;
using AfXdp.Interop;
using AfXdp.KernelTests.Selftest;
using AfXdp.Testing;
using AfXdp.Xsk;

namespace AfXdp.KernelTests.Reliability;

/// <summary>
/// Faults injected under bound sockets: the interface deleted or set down, the namespace deleted, the XDP
/// program detached by someone else. Each ends in a clear error or a clean pause, never a hang or a crash;
/// every wait is bounded.
/// </summary>
public sealed class FaultTests
{
    const int Small = TestFrame.MinimumLength;
    static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    static string IpMode(XdpAttachMode mode) => mode == XdpAttachMode.Skb ? "xdpgeneric" : "xdpdrv";

    static void Exchange(XskPair pair, int count)
    {
        Task<List<ReceivedPacket>> receiving = pair.StartReceiving(count);
        pair.Send(pair.Stream(count, Small));
        pair.AssertPackets(receiving.Result, [.. Enumerable.Range(0, count)], _ => Small);
    }

    /// <summary>Runs <paramref name="step"/> until it throws or <paramref name="limit"/> passes; returns what it threw.</summary>
    static Exception? UntilItThrows(Action step, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            while (clock.Elapsed < limit)
                step();
        }
        catch (Exception e)
        {
            return e;
        }
        return null;
    }

    static void AssertGone(AfXdpException? e, XskSocket socket, string call)
    {
        Assert.NotNull(e);
        Assert.Equal(Errno.ENXIO, e.Errno);
        Assert.StartsWith(call, e.Call);
        Assert.Contains($"{socket.InterfaceName} queue 0 is gone: the kernel unbound the socket when the interface was removed", e.Message);
    }

    [Theory, AttachModes]
    public async Task Deleting_the_interface_unbinds_the_sockets_with_a_clear_error(XdpAttachMode mode)
    {
        using var pair = new XskPair(mode);
        Exchange(pair, 64);
        // A receive loop waiting in poll, as an application would: it must learn that the interface went away.
        Task<Exception?> receiver = Task.Factory.StartNew(() => UntilItThrows(() => pair.Receiver.PollRx(50), TimeSpan.FromSeconds(10)), TaskCreationOptions.LongRunning);

        CommandResult delete = pair.Lab.Exec(VethSide.A, "ip", "link", "del", pair.Lab.InterfaceA); // and with it B's end
        Assert.True(delete.Succeeded, delete.Error);

        var clock = Stopwatch.StartNew();
        AssertGone(await receiver as AfXdpException, pair.Receiver, "poll(AF_XDP socket, POLLIN)");
        // The loop polls for 50 ms at a time, so it learns within one poll; the bound leaves a loaded 2-core machine its margin.
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
        AssertGone(Record.Exception(() => pair.Sender.WakeupTx()) as AfXdpException, pair.Sender, "sendto(AF_XDP socket");
        AssertGone(Record.Exception(() => pair.Receiver.WakeupRx()) as AfXdpException, pair.Receiver, "recvfrom(AF_XDP socket");
        AssertGone(Record.Exception(() => pair.Sender.PollTx(10)) as AfXdpException, pair.Sender, "poll(AF_XDP socket, POLLOUT)");
        Assert.Equal(default, pair.Receiver.Statistics); // the socket itself is still there to ask
        uint program = pair.Program!.Program.Id;
        pair.Program.Dispose();
        Assert.True(KernelTest.Eventually(() => !ProgramExists(program), Bound), $"program {program} still loaded");
    }

    /// <summary>
    /// The peer set down: the sender's TX ring waits (its wakeups say ENETDOWN, not an error), nothing arrives;
    /// up again, every frame goes out and arrives. Then the receiver's own interface set down: its wakeups and
    /// polls report nothing, without an error, and traffic resumes once it is up.
    /// </summary>
    [Theory, AttachModes]
    public async Task An_interface_set_down_pauses_traffic_and_up_resumes_it(XdpAttachMode mode)
    {
        using var pair = new XskPair(mode);
        Exchange(pair, 16);

        SetLink(pair.Lab, VethSide.A, "down");
        Task<List<ReceivedPacket>> receiving = pair.StartReceiving(64, poll: true);
        Task<List<ulong>> sending = pair.StartSending(pair.Stream(64, Small));
        Thread.Sleep(300);
        Assert.False(sending.IsCompleted);
        Assert.False(receiving.IsCompleted);
        Assert.False(pair.Sender.WakeupTx());
        SetLink(pair.Lab, VethSide.A, "up");
        Assert.Equal(64, (await sending).Count);
        pair.AssertPackets(await receiving, [.. Enumerable.Range(0, 64)], _ => Small);

        SetLink(pair.Lab, VethSide.B, "down");
        Assert.False(pair.Receiver.WakeupRx());
        Assert.False(pair.Receiver.PollRx(100));
        SetLink(pair.Lab, VethSide.B, "up");
        Assert.True(pair.Receiver.WakeupRx());
        Exchange(pair, 64);
        Assert.Equal(default, pair.Receiver.Statistics);
    }

    /// <summary>
    /// `ip netns del` only removes the namespace's name: the sockets hold the namespace, so traffic goes on.
    /// Once they close, the kernel destroys it, and the veth pair with it.
    /// </summary>
    [Theory, AttachModes]
    public void Deleting_the_namespace_leaves_the_sockets_working_until_they_close(XdpAttachMode mode)
    {
        using var pair = new XskPair(mode);
        Assert.True(ExternalCommand.Run("ip", ["netns", "del", pair.Lab.NamespaceB]).Succeeded);
        Assert.DoesNotContain(pair.Lab.NamespaceB, KernelTest.NetworkNamespaces());
        Exchange(pair, 64);
        var e = Assert.Throws<AfXdpException>(() => pair.Lab.Run(VethSide.B, () => { }));
        Assert.Contains($"there is no network namespace named '{pair.Lab.NamespaceB}'", e.Message);

        pair.Program!.Dispose();
        pair.Receiver.Dispose();
        pair.ReceiverUmem.Dispose();
        Assert.True(KernelTest.Eventually(() => !pair.Lab.Exec(VethSide.A, "ip", "link", "show", pair.Lab.InterfaceA).Succeeded, Bound),
            "the veth pair outlived the namespace's last socket");
    }

    /// <summary>A bpf_link attachment belongs to whoever holds the link: `ip link set ... xdp off` is refused, and traffic goes on.</summary>
    [Theory, AttachModes]
    public void A_bpf_link_attachment_cannot_be_removed_with_ip_link(XdpAttachMode mode)
    {
        using var pair = new XskPair(mode);
        CommandResult off = pair.Lab.Exec(VethSide.B, "ip", "link", "set", "dev", pair.Lab.InterfaceB, IpMode(mode), "off");
        Assert.False(off.Succeeded);
        Assert.Contains("active BPF XDP link", off.Error);
        Assert.Equal(pair.Program!.Program.Id, XdpOf(pair).ProgramIn(mode));
        Exchange(pair, 64);
    }

    /// <summary>
    /// A program attached through netlink (here by bpftool) can be removed by anyone with `ip link set ... off`:
    /// the sockets stay bound and see no error, frames go to the kernel stack instead; attached again, they come back.
    /// </summary>
    [Theory, AttachModes]
    public void A_netlink_attachment_removed_by_someone_else_stops_redirection_until_it_is_back(XdpAttachMode mode)
    {
        using var pair = new XskPair(mode, new XskPairOptions { RedirectProgram = false });
        using BpfMap xsks = BpfMap.Create(MapSpec.XskMap("afxdp_xsks", 1));
        using BpfProgram program = BpfProgram.LoadXdp(XskRedirectProgram.Spec(xsks));
        xsks.Update(0, (uint)pair.Receiver.Fd);
        void Attach()
        {
            CommandResult attach = pair.Lab.Exec(VethSide.B, "bpftool", "net", "attach", IpMode(mode), "id", program.Id.ToString(), "dev", pair.Lab.InterfaceB);
            Assert.True(attach.Succeeded, attach.Error);
        }
        try
        {
            Attach();
            Exchange(pair, 64);

            CommandResult off = pair.Lab.Exec(VethSide.B, "ip", "link", "set", "dev", pair.Lab.InterfaceB, IpMode(mode), "off");
            Assert.True(off.Succeeded, off.Error);
            Assert.False(XdpOf(pair).Any);
            pair.Send(pair.Stream(64, Small));
            Assert.Empty(pair.Receive(1, poll: true, timeout: TimeSpan.FromMilliseconds(300)));

            Attach();
            Exchange(pair, 64);
            Assert.Equal(default, pair.Receiver.Statistics);
        }
        finally
        {
            pair.Lab.Exec(VethSide.B, "ip", "link", "set", "dev", pair.Lab.InterfaceB, IpMode(mode), "off");
        }
    }

    static XdpAttachment XdpOf(XskPair pair) => pair.Lab.Run(VethSide.B, () => NetDevice.Get(pair.Lab.InterfaceB).Xdp);

    static void SetLink(VethLab lab, VethSide side, string state)
    {
        CommandResult result = lab.Exec(side, "ip", "link", "set", "dev", lab.InterfaceOf(side), state);
        Assert.True(result.Succeeded, result.Error);
    }

    internal static bool ProgramExists(uint id)
    {
        try
        {
            BpfProgram.FromId(id).Dispose();
            return true;
        }
        catch (AfXdpException e) when (e.Errno == Errno.ENOENT)
        {
            return false;
        }
    }
}
