using System.Diagnostics;
using System.Net;
using AfXdp.Device;
using AfXdp.Testing;
using AfXdp.Udp;

namespace AfXdp.KernelTests.Udp;

/// <summary>What the UDP service says at start and at a second Run, in its own terms: another service on the interface, kernel sockets it shadows, a service that has stopped.</summary>
public sealed class UdpServiceStartUpTests
{
    public UdpServiceStartUpTests() => KernelTest.RequireRoot();

    static UdpService Serve(VethLab lab, Action<UdpServiceReport>? log, params int[] ports) => lab.Run(VethSide.B, () => new UdpService(new UdpServiceOptions
    {
        Interface = lab.InterfaceB,
        Endpoints = [.. ports.Select(p => new IPEndPoint(lab.AddressB, p))],
        SpinTime = TimeSpan.Zero,
        Log = log,
    }));

    /// <summary>Starts <paramref name="program"/> in the lab's namespace (ip netns exec execs it: the pid is the program's).</summary>
    static Process StartIn(VethLab lab, VethSide side, string program, params string[] args)
    {
        ExternalTools.Require(program);
        var start = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in (string[])["netns", "exec", lab.NamespaceOf(side), program, .. args])
            start.ArgumentList.Add(arg);
        return Process.Start(start)!;
    }

    static void Stop(Process process)
    {
        if (!process.HasExited)
            process.Kill();
        Assert.True(process.WaitForExit(10_000));
    }

    [Fact]
    public void A_second_service_on_the_interface_in_this_process_is_refused_naming_the_first_and_how_to_serve_both_ports()
    {
        using VethLab lab = VethLab.Create();
        using UdpService first = Serve(lab, null, 5000);
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<AfXdpException>(() => Serve(lab, null, 5001));
        Assert.Equal(0, e.Errno);
        Assert.Equal($"UdpService({lab.InterfaceB}, {lab.AddressB}:5001)", e.Call);
        Assert.Equal($"{lab.InterfaceB} is already served by UdpService({lab.InterfaceB}, {lab.AddressB}:5000) in this process, whose AF_XDP sockets hold queue 0: a queue takes one AF_XDP socket, an interface one steering program.", e.Cause);
        Assert.StartsWith($"serve every port from one service: list all the endpoints in its UdpServiceOptions.Endpoints ([{lab.AddressB}:5000, {lab.AddressB}:5001])", e.Fix);
        // Said at once: not after the bind's EBUSY retries (3 s).
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
        // The first still serves, and once it is disposed the interface is free for another.
        Assert.True(lab.Status(VethSide.B).Xdp.Any);
        first.Dispose();
        using UdpService next = Serve(lab, null, 5001);
        Assert.Equal(5001, next.Endpoints[0].Port);
    }

    [Fact]
    public async Task A_service_on_an_interface_another_process_serves_is_refused_naming_that_process_and_the_fix()
    {
        using VethLab lab = VethLab.Create();
        byte[] spare = lab.AddressB.GetAddressBytes();
        spare[3] = 3;
        using Process echo = KernelTest.StartAfxdpIn(lab, VethSide.B, "echo", "-i", lab.InterfaceB, "--ip", new IPAddress(spare).ToString(), "-d", "30");
        try
        {
            string? banner = await echo.StandardOutput.ReadLineAsync(TestContext.Current.CancellationToken).AsTask()
                .WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
            Assert.Contains("answering ARP", banner);
            var e = Assert.Throws<AfXdpException>(() => Serve(lab, null, 5000));
            Assert.Equal(Interop.Errno.EBUSY, e.Errno);
            Assert.Equal($"UdpService({lab.InterfaceB}, {lab.AddressB}:5000)", e.Call);
            Assert.StartsWith($"{lab.InterfaceB} is already served by another process's AF_XDP socket: queue 0 of {lab.InterfaceB} is bound by another AF_XDP socket", e.Cause);
            Assert.Contains($"pid {echo.Id} (dotnet, 1 bound AF_XDP socket)", e.Cause);
            Assert.Equal("serve every port from one service: list all the endpoints in the UdpServiceOptions.Endpoints of the service that runs there, or stop it first.", e.Fix);
            Assert.DoesNotContain("bind another queue", e.Message);
        }
        finally
        {
            Stop(echo);
        }
        // The refused service claimed nothing: now that the other process is gone, a service starts.
        using UdpService service = Serve(lab, null, 5000);
    }

    [Fact]
    public void A_kernel_socket_on_a_served_port_is_named_with_its_process_and_the_fix_and_one_in_another_namespace_is_not()
    {
        using VethLab lab = VethLab.Create();
        using Process shadowed = StartIn(lab, VethSide.B, "socat", "-u", "UDP-LISTEN:5000", "STDOUT");
        using Process elsewhere = StartIn(lab, VethSide.A, "socat", "-u", "UDP-LISTEN:5001", "STDOUT");
        try
        {
            Assert.True(KernelTest.Eventually(() => lab.Run(VethSide.B, () => KernelUdpSocket.InThisNamespace().Any(s => s.Local.Port == 5000))
                && lab.Run(VethSide.A, () => KernelUdpSocket.InThisNamespace().Any(s => s.Local.Port == 5001)), TimeSpan.FromSeconds(10)), "socat did not bind");
            var log = new List<string>();
            using UdpService service = Serve(lab, report => { Assert.Equal(UdpServiceReportKind.ShadowedSocket, report.Kind); log.Add(report.Message); }, 5000, 5001);
            string warning = Assert.Single(log);
            Assert.Equal($"{service}: the kernel UDP socket on 0.0.0.0:5000 of socat (pid {shadowed.Id}) no longer receives the datagrams to {lab.AddressB}:5000: " +
                "this service's steering program takes them before the kernel's stack. Fix: stop that program, or serve another port; nothing to do if the service is meant to take its place.", warning);
        }
        finally
        {
            Stop(shadowed);
            Stop(elsewhere);
        }
    }

    [Fact]
    public async Task Run_after_Run_returned_says_the_service_has_stopped_and_during_a_run_that_it_is_serving()
    {
        using VethLab lab = VethLab.Create();
        using UdpService service = Serve(lab, null, 5000);
        UdpBatchHandler ignore = _ => { };
        using (var stop = new CancellationTokenSource())
        {
            Task running = service.RunAsync(new IgnoringHandler(), stop.Token);
            var during = Assert.Throws<InvalidOperationException>(() => service.Run(ignore, CancellationToken.None));
            Assert.Equal($"{service} is already serving: Run or RunAsync was called and has not returned, and a service runs once. Cancel that run's token to stop it.", during.Message);
            stop.Cancel();
            await running.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        }
        var after = Assert.Throws<InvalidOperationException>(() => service.Run(ignore, CancellationToken.None));
        Assert.Equal($"{service} has stopped: its Run returned, and a service runs once. To serve again, dispose it and create a new UdpService.", after.Message);
    }

    sealed class IgnoringHandler : IUdpHandler
    {
        public void Handle(UdpBatch batch)
        {
        }
    }
}
