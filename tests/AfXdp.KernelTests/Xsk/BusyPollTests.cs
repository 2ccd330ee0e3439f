using AfXdp.Bpf;
using AfXdp.Device;
using AfXdp.Testing;
using AfXdp.Xsk;

namespace AfXdp.KernelTests.Xsk;

/// <summary>Preferred busy polling on the socket, and the device's NAPI deferral in sysfs.</summary>
public sealed class BusyPollTests
{
    public BusyPollTests() => KernelTest.RequireRoot();

    [Fact]
    public void Napi_settings_are_written_and_read_in_the_device_s_own_namespace_without_touching_the_host_s_sys()
    {
        using VethLab lab = VethLab.Create();
        string hostSysMounts = SysMounts();
        Assert.Equal(NapiSettings.Default, lab.Run(VethSide.B, () => NapiSettings.Read(lab.InterfaceB)));

        lab.Run(VethSide.B, () => NapiSettings.Write(lab.InterfaceB, new NapiSettings(2, 200_000)));

        Assert.Equal(new NapiSettings(2, 200_000), lab.Run(VethSide.B, () => NapiSettings.Read(lab.InterfaceB)));
        // `ip netns exec` mounts a sysfs of B's namespace: an independent look at the same device.
        Assert.Equal("2", lab.Exec(VethSide.B, "cat", $"/sys/class/net/{lab.InterfaceB}/napi_defer_hard_irqs").Output.Trim());
        Assert.Equal("200000", lab.Exec(VethSide.B, "cat", $"/sys/class/net/{lab.InterfaceB}/gro_flush_timeout").Output.Trim());
        Assert.Equal("0", lab.Exec(VethSide.A, "cat", $"/sys/class/net/{lab.InterfaceA}/napi_defer_hard_irqs").Output.Trim());
        Assert.Equal(hostSysMounts, SysMounts());
        Assert.False(Directory.Exists($"/sys/class/net/{lab.InterfaceB}"));
    }

    /// <summary>The host's mounts at or under /sys (mountinfo field 5 is the mount point).</summary>
    static string SysMounts() => string.Join('\n', File.ReadLines("/proc/self/mountinfo").Where(line => line.Split(' ')[4].StartsWith("/sys", StringComparison.Ordinal)));

    [Fact]
    public void Bad_napi_values_and_unknown_interfaces_are_refused()
    {
        using VethLab lab = VethLab.Create();
        Assert.Contains("cannot be negative", Assert.Throws<ArgumentOutOfRangeException>(() => lab.Run(VethSide.B, () => NapiSettings.Write(lab.InterfaceB, new NapiSettings(-1, 0)))).Message);
        Assert.Contains("cannot be negative", Assert.Throws<ArgumentOutOfRangeException>(() => lab.Run(VethSide.B, () => NapiSettings.Write(lab.InterfaceB, new NapiSettings(0, -5)))).Message);
        // The device is B's: from the host's namespace there is no such interface.
        Assert.Contains("no interface", Assert.Throws<AfXdpException>(() => NapiSettings.Read(lab.InterfaceB)).Message);
    }

    [Fact]
    public void A_busy_polling_socket_reports_its_options_and_napi_and_receives()
    {
        using VethLab lab = VethLab.Create();
        // Native XDP on veth creates NAPI contexts, but veth does not tie them to its queues
        // (netif_queue_set_napi), so bind finds none: busy polling has nothing to drive on veth.
        (Umem umem, XskRedirectProgram program, RxSocket socket) = lab.Run(VethSide.B, () =>
        {
            var u = new Umem(new UmemOptions { FrameCount = 2048, FillRingSize = 1024, CompletionRingSize = 1024 });
            var p = XskRedirectProgram.Attach(lab.InterfaceB, XdpAttachMode.Drv);
            var s = new RxSocket(u, lab.InterfaceB, 0, new XskSocketOptions());
            p.Register(s);
            return (u, p, s);
        });
        try
        {
            Assert.Equal(new BusyPollSettings(false, 0, 0), socket.BusyPoll);
            socket.EnableBusyPoll(20, 64);
            Assert.Equal(new BusyPollSettings(true, 20, 64), socket.BusyPoll);
            Assert.Equal(0, socket.NapiId);

            socket.Fill.Reserve(1024, out uint f);
            for (uint i = 0; i < 1024; i++)
                socket.Fill[f + i] = umem.FrameAddress(i);
            socket.Fill.Submit(1024);
            lab.Run(VethSide.A, () =>
            {
                using var udp = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
                for (int i = 0; i < 100; i++)
                    udp.SendTo(XskTestBed.Payload(i), new System.Net.IPEndPoint(lab.AddressB, 7300));
            });
            int received = 0;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (received < 100 && clock.Elapsed < TimeSpan.FromSeconds(5))
            {
                socket.WakeupRx(); // with busy polling on a NIC, this syscall runs the queue's NAPI
                uint n = socket.Rx.Peek(64, out _);
                socket.Rx.Release(n);
                received += (int)n;
            }
            Assert.Equal(100, received);
        }
        finally
        {
            program.Dispose();
            socket.Dispose();
            umem.Dispose();
        }
    }
}
