using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AfXdp.Bpf;
using AfXdp.Device;
using AfXdp.Interop;
using AfXdp.Testing;
using AfXdp.Xsk;

namespace AfXdp.KernelTests;

public sealed class VethLabTests(LabFixture fixture) : IClassFixture<LabFixture>
{
    const int Port = 9099;

    [Fact]
    public void A_lab_has_unique_short_names_and_both_ends_up_without_IPv6()
    {
        VethLab lab = fixture.Lab;

        Assert.Matches($"^afx{Environment.ProcessId}-[0-9a-f]+a$", lab.NamespaceA);
        Assert.All(new[] { lab.InterfaceA, lab.InterfaceB }, name => Assert.True(name.Length <= 15, name));
        Assert.Contains(lab.NamespaceA, KernelTest.NetworkNamespaces());
        Assert.Contains(lab.NamespaceB, KernelTest.NetworkNamespaces());
        foreach (VethSide side in Enum.GetValues<VethSide>())
        {
            VethEndStatus end = lab.Status(side);
            Assert.Equal("UP", end.OperState);
            Assert.Equal(side == VethSide.A ? "02:00:00:00:0a:01" : "02:00:00:00:0b:01", end.Mac);
            Assert.Equal([$"{(side == VethSide.A ? lab.AddressA : lab.AddressB)}/24"], end.Addresses);
            Assert.Equal((1, 1), (end.RxQueues, end.TxQueues));
            Assert.False(end.Xdp.Any);
        }
    }

    [Fact]
    public void Ping_from_A_reaches_B()
    {
        VethLab lab = fixture.Lab;

        CommandResult ping = lab.Exec(VethSide.A, "ping", "-c", "3", "-W", "1", lab.AddressB.ToString());

        Assert.True(ping.Succeeded, $"{ping.CommandLine} exited {ping.ExitCode}:\n{ping.Output}{ping.Error}");
        Assert.Contains("3 received", ping.Output);
    }

    [Fact]
    public async Task A_UDP_datagram_sent_in_A_reaches_a_socket_bound_in_B()
    {
        VethLab lab = fixture.Lab;
        byte[] payload = "hello from side A"u8.ToArray();
        using var bound = new ManualResetEventSlim();

        Task<(byte[] Data, IPEndPoint From)> received = lab.RunAsync(VethSide.B, () =>
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 5000 };
            try
            {
                socket.Bind(new IPEndPoint(lab.AddressB, Port));
            }
            finally
            {
                bound.Set(); // a failed bind shows up through the task
            }
            byte[] buffer = new byte[2048];
            EndPoint from = new IPEndPoint(IPAddress.Any, 0);
            int length = socket.ReceiveFrom(buffer, ref from);
            return (buffer[..length], (IPEndPoint)from);
        });
        Assert.True(bound.Wait(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));

        lab.Run(VethSide.A, () =>
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            socket.SendTo(payload, new IPEndPoint(lab.AddressB, Port));
        });

        (byte[] data, IPEndPoint from) = await received.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.Equal(payload, data);
        Assert.Equal(lab.AddressA, from.Address);
    }

    [Fact]
    public void Status_shows_an_attached_XDP_program()
    {
        VethLab lab = fixture.Lab;
        using BpfProgram pass = BpfProgram.LoadXdp(ProgramSpec.FromAssembler("afx_lab_pass", new Assembler().Mov64(Register.R0, 2).Exit())); // XDP_PASS

        using (XdpLink link = lab.Run(VethSide.A, () => XdpLink.Attach(pass, NetDevice.IndexOf(lab.InterfaceA), XdpAttachMode.Skb)))
        {
            Assert.Equal(pass.Id, lab.Status(VethSide.A).Xdp.SkbProgramId);
            Assert.False(lab.Status(VethSide.B).Xdp.Any);
        }

        Assert.False(lab.Status(VethSide.A).Xdp.Any);
    }

    [Fact]
    public void A_failed_ip_command_is_named_with_its_error()
    {
        var e = Assert.Throws<AfXdpException>(() => ExternalCommand.RunChecked("ip", "netns", "add", fixture.Lab.NamespaceA));

        Assert.Equal(Errno.EEXIST, e.Errno);
        Assert.Equal($"ip netns add {fixture.Lab.NamespaceA}", e.Call);
        Assert.Contains("File exists", e.Cause);
    }

    [Fact]
    public void Options_set_queues_MTU_GRO_and_keep_IPv6()
    {
        KernelTest.RequireRoot();
        using VethLab lab = VethLab.Create(new VethLabOptions { RxQueues = 2, TxQueues = 3, Mtu = 3000, Gro = true, KeepIpv6 = true });

        VethEndStatus b = lab.Status(VethSide.B);
        Assert.Equal((2, 3, 3000), (b.RxQueues, b.TxQueues, b.Mtu));
        Assert.Contains(b.Addresses, a => a.StartsWith("fe80:", StringComparison.Ordinal));
        CommandResult features = lab.Exec(VethSide.B, "ethtool", "-k", lab.InterfaceB);
        Assert.Contains("generic-receive-offload: on", features.Output);
    }

    [Fact]
    public void Options_refuse_a_MAC_that_is_not_locally_administered()
    {
        var e = Assert.Throws<ArgumentException>(() => VethLab.Create(new VethLabOptions { MacA = "00:1b:21:00:00:01" }));

        Assert.Equal("MacA", e.ParamName);
        Assert.Contains("locally administered", e.Message);
    }

    [Fact]
    public void Dispose_deletes_both_namespaces_and_may_be_repeated()
    {
        KernelTest.RequireRoot();
        VethLab lab = VethLab.Create();
        Assert.Contains(lab.NamespaceA, KernelTest.NetworkNamespaces());

        lab.Dispose();
        lab.Dispose();

        HashSet<string> left = KernelTest.NetworkNamespaces();
        Assert.DoesNotContain(lab.NamespaceA, left);
        Assert.DoesNotContain(lab.NamespaceB, left);
    }

    [Fact]
    public void Create_sweeps_the_namespaces_of_a_lab_whose_process_died()
    {
        KernelTest.RequireRoot();
        using Process exited = Process.Start("true");
        exited.WaitForExit();
        int deadPid = exited.Id;
        Assert.False(Directory.Exists($"/proc/{deadPid}"), $"pid {deadPid} was reused already");
        string[] stale = [$"afx{deadPid}-0a", $"afx{deadPid}-0b"];
        foreach (string ns in stale)
            ExternalCommand.RunChecked("ip", "netns", "add", ns);

        using (VethLab.Create())
        {
            HashSet<string> left = KernelTest.NetworkNamespaces();
            Assert.DoesNotContain(stale[0], left);
            Assert.DoesNotContain(stale[1], left);
        }
    }

    [Fact]
    public void Only_throwaway_lab_names_carry_an_owner_pid()
    {
        Assert.Equal(1234, VethLab.OwnerPid("afx1234-3a"));
        Assert.Null(VethLab.OwnerPid("afxlabA"));
        Assert.Null(VethLab.OwnerPid("afx-no-such-namespace"));
        Assert.Null(VethLab.OwnerPid("pktcap-a"));
    }
}
