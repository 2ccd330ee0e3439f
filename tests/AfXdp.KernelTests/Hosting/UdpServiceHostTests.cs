using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using AfXdp.Hosting;
using AfXdp.KernelTests.Samples;
using AfXdp.Net;
using AfXdp.TestShared;
using AfXdp.Testing;
using AfXdp.Udp;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AfXdp.KernelTests.Hosting;

/// <summary>
/// A UdpService on the Generic Host (AfXdp.Hosting) in a lab: settings from configuration, start, the log's events,
/// the health check, shutdown, a refused start and a worker's end stopping the host with their exit codes, allocation.
/// </summary>
public sealed class UdpServiceHostTests
{
    const int Port = 7007;

    public UdpServiceHostTests() => KernelTest.RequireRoot();

    /// <summary>What the test tells the handlers and learns from them (a singleton the container gives each).</summary>
    sealed class Probe
    {
        public int Handlers;
        public long Handled, AllocatedBefore = -1, AllocatedAfter = -1;
        public int SleepMilliseconds;
    }

    /// <summary>Prefixes "ok:" to each payload; throws on "throw"; sleeps per batch when told; measures allocation over datagrams 1,000 to 11,000.</summary>
    sealed class Prefixer : IUdpHandler
    {
        readonly Probe _probe;

        public Prefixer(Probe probe, UdpSender sender)
        {
            ArgumentNullException.ThrowIfNull(sender);
            _probe = probe;
            Interlocked.Increment(ref probe.Handlers);
        }

        public void Handle(UdpBatch batch)
        {
            if (_probe.SleepMilliseconds > 0)
                Thread.Sleep(_probe.SleepMilliseconds);
            foreach (Datagram d in batch)
            {
                if (d.Payload.SequenceEqual("throw"u8))
                    throw new InvalidOperationException("told to");
                int length = d.Payload.Length;
                d.Payload.CopyTo(d.ReplyPayload[3..]);
                "ok:"u8.CopyTo(d.ReplyPayload);
                d.Reply(length + 3);
                if (++_probe.Handled == 1_000)
                    _probe.AllocatedBefore = GC.GetAllocatedBytesForCurrentThread();
                else if (_probe.Handled == 11_000)
                    _probe.AllocatedAfter = GC.GetAllocatedBytesForCurrentThread();
            }
        }
    }

    /// <summary>A host as a service builds it, with the settings in the section "AfXdp" and every log entry recorded.</summary>
    sealed class TestHost : IDisposable
    {
        public TestHost(VethLab lab, Dictionary<string, string?> settings)
        {
            Lab = lab;
            HostApplicationBuilder builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            builder.Configuration.AddInMemoryCollection(settings.ToDictionary(p => "AfXdp:" + p.Key, p => p.Value));
            builder.Logging.ClearProviders().SetMinimumLevel(LogLevel.Trace).AddProvider(Log);
            builder.Services.AddSingleton(Probe);
            builder.Services.AddUdpService<Prefixer>(builder.Configuration.GetSection("AfXdp"));
            builder.Services.AddHealthChecks().AddUdpService();
            Host = builder.Build();
            // Started in B's namespace: the runner's thread, and the workers it starts, inherit it.
            lab.Run(VethSide.B, () => Host.StartAsync().GetAwaiter().GetResult());
        }

        public VethLab Lab { get; }

        public LogRecorder Log { get; } = new();

        public Probe Probe { get; } = new();

        public IHost Host { get; }

        public UdpServiceRunner Runner => Host.Services.GetServices<IHostedService>().OfType<UdpServiceRunner>().Single();

        public bool Stopping => Host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested;

        public void WaitServing() =>
            Assert.True(KernelTest.Eventually(() => Runner.State != UdpServiceState.Starting, TimeSpan.FromSeconds(20)) && Runner.State == UdpServiceState.Serving,
                $"{Runner.State}: {Runner.Fault?.Message}\n{Log}");

        /// <summary>The health check, run in B's namespace (the service's, as the process's would be in production).</summary>
        public HealthCheckResult Health() => Lab.Run(VethSide.B, () =>
            Host.Services.GetRequiredService<UdpServiceHealthCheck>().CheckHealthAsync(new HealthCheckContext()).GetAwaiter().GetResult());

        public void Dispose()
        {
            Host.StopAsync().GetAwaiter().GetResult();
            Host.Dispose();
        }
    }

    static Dictionary<string, string?> Settings(VethLab lab, params (string Key, string Value)[] more)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Interface"] = lab.InterfaceB,
            ["Endpoints:0"] = $"{lab.AddressB}:{Port}",
            ["SpinTime"] = "00:00:00",
        };
        foreach ((string key, string value) in more)
            settings[key] = value;
        return settings;
    }

    static Socket Client(VethLab lab) => lab.Run(VethSide.A, () =>
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 5000 };
        socket.Bind(new IPEndPoint(lab.AddressA, 0));
        return socket;
    });

    static string Exchange(Socket client, VethLab lab, string text)
    {
        client.SendTo(Encoding.ASCII.GetBytes(text), new IPEndPoint(lab.AddressB, Port));
        var buffer = new byte[2048];
        return Encoding.ASCII.GetString(buffer, 0, client.Receive(buffer));
    }

    /// <summary>Runs <paramref name="body"/> and restores the process's exit code, which the runner sets for the real process's end.</summary>
    static int ExitCodeAfter(Action body)
    {
        int before = Environment.ExitCode;
        try
        {
            body();
            return Environment.ExitCode;
        }
        finally
        {
            Environment.ExitCode = before;
        }
    }

    [Fact]
    public void The_host_serves_the_configured_endpoint_logs_started_and_stopped_and_reports_healthy()
    {
        using VethLab lab = VethLab.Create();
        var host = new TestHost(lab, Settings(lab));
        UdpServiceRunner runner = host.Runner;
        try
        {
            host.WaitServing();
            using Socket client = Client(lab);
            Assert.Equal("ok:hello", Exchange(client, lab, "hello"));
            Assert.Equal(1, host.Probe.Handlers);
            HealthCheckResult health = host.Health();
            Assert.True(health.Status == HealthStatus.Healthy, health.Description);
            string started = Assert.Single(host.Log.Messages(UdpServiceEvents.Started));
            Assert.Contains($"{lab.AddressB}:{Port} on {lab.InterfaceB}", started);
            Assert.Contains("1 queue(s) (0)", started);
            Assert.Matches(@"program \w+ id \d+", started);
            Assert.Matches("attach mode (drv|skb)", started);
        }
        finally
        {
            host.Dispose();
        }
        Assert.Equal(UdpServiceState.Stopped, runner.State);
        Assert.Contains("received=1 sent=1", Assert.Single(host.Log.Messages(UdpServiceEvents.Stopped)));
        Assert.DoesNotContain("prog/xdp", lab.Exec(VethSide.B, "ip", "-details", "link", "show", lab.InterfaceB).Output);
    }

    [Fact]
    public void An_endpoint_without_a_port_stops_the_host_with_exit_code_2_and_one_line_naming_the_key_and_value()
    {
        using VethLab lab = VethLab.Create();
        LogRecorder log = null!;
        int exitCode = ExitCodeAfter(() =>
        {
            using var host = new TestHost(lab, Settings(lab, ("Endpoints:0", "10.0.0.1")));
            log = host.Log;
            Assert.True(KernelTest.Eventually(() => host.Stopping, TimeSpan.FromSeconds(10)), host.Log.ToString());
            Assert.Equal(UdpServiceState.Failed, host.Runner.State);
        });
        Assert.Equal(2, exitCode);
        string line = Assert.Single(log.Messages(UdpServiceEvents.StartFailed));
        Assert.Equal("AfXdp:Endpoints:0 = \"10.0.0.1\": not an IPv4 or [IPv6] address and port; write e.g. \"10.0.0.1:53\" or \"[fd00::1]:53\".", line);
    }

    [Fact]
    public void Deleting_the_interface_ends_the_worker_stops_the_host_with_exit_code_1_and_the_health_is_unhealthy()
    {
        using VethLab lab = VethLab.Create();
        LogRecorder log = null!;
        HealthCheckResult health = default;
        int exitCode = ExitCodeAfter(() =>
        {
            using var host = new TestHost(lab, Settings(lab));
            log = host.Log;
            host.WaitServing();
            Assert.True(lab.Exec(VethSide.A, "ip", "link", "del", lab.InterfaceA).Succeeded); // and with it B's end
            Assert.True(KernelTest.Eventually(() => host.Stopping, TimeSpan.FromSeconds(5)), host.Log.ToString());
            Assert.True(KernelTest.Eventually(() => host.Runner.State == UdpServiceState.Failed, TimeSpan.FromSeconds(5)), host.Runner.State.ToString());
            health = host.Health();
        });
        Assert.Equal(1, exitCode);
        Assert.Equal(HealthStatus.Unhealthy, health.Status);
        Assert.Contains("failed", health.Description);
        Assert.Contains("gone", Assert.Single(log.Messages(UdpServiceEvents.WorkerFaulted)));
    }

    [Fact]
    public void Frames_the_kernel_drops_for_a_slow_handler_degrade_the_health_and_are_logged_once_with_the_fix()
    {
        using VethLab lab = VethLab.Create();
        using var host = new TestHost(lab, Settings(lab));
        host.WaitServing();
        Assert.Equal(HealthStatus.Healthy, host.Health().Status);
        host.Probe.SleepMilliseconds = 50;
        using Socket client = Client(lab);
        // Far more than the RX ring (1024) holds while the handler sleeps: the kernel drops the rest.
        for (int i = 0; i < 20_000; i++)
            client.SendTo("flood"u8.ToArray(), new IPEndPoint(lab.AddressB, Port));
        HealthCheckResult degraded = host.Health();
        Assert.True(degraded.Status == HealthStatus.Degraded, $"{degraded.Status}: {degraded.Description}");
        Assert.Contains("the kernel drops frames", degraded.Description);
        host.Probe.SleepMilliseconds = 0;
        int[] drops = [UdpServiceEvents.KernelRxDrops, UdpServiceEvents.RxRingFull, UdpServiceEvents.FillRingEmpty];
        Assert.True(KernelTest.Eventually(() => host.Log.Entries.Any(e => drops.Contains(e.EventId)), TimeSpan.FromSeconds(5)), host.Log.ToString());
        // More drops later are counted, not told again.
        for (int i = 0; i < 20_000; i++)
            client.SendTo("flood"u8.ToArray(), new IPEndPoint(lab.AddressB, Port));
        Thread.Sleep(2500);
        Assert.All(drops, id => Assert.True(host.Log.Messages(id).Count <= 1, host.Log.ToString()));
        Assert.Contains(host.Log.Entries, e => drops.Contains(e.EventId) && e.Level == LogLevel.Warning && e.Message.Contains("Cores"));
        Assert.True(KernelTest.Eventually(() => host.Health().Status == HealthStatus.Healthy, TimeSpan.FromSeconds(10)), "the health stays degraded once the drops stop");
    }

    [Fact]
    public void Bad_checksums_and_a_handler_s_exceptions_are_logged_once_each_with_their_event_ids()
    {
        using VethLab lab = VethLab.Create();
        using var host = new TestHost(lab, Settings(lab));
        host.WaitServing();
        using Socket raw = lab.Run(VethSide.A, () => new Socket(AddressFamily.InterNetwork, SocketType.Raw, ProtocolType.Udp));
        using Socket client = Client(lab);
        byte[] datagram = DamagedDatagram.WrongChecksum(lab.AddressA, 40002, lab.AddressB, Port, "ping"u8);
        for (int i = 0; i < 5; i++)
        {
            raw.SendTo(datagram, new IPEndPoint(lab.AddressB, 0));
            client.SendTo("throw"u8.ToArray(), new IPEndPoint(lab.AddressB, Port));
        }
        // A throw costs its batch (several "throw"s may share one): ask once all five reached the handler.
        Assert.True(KernelTest.Eventually(() => host.Runner.Service!.ReadCounters() is { Received: 5, HandlerErrors: >= 1 }, TimeSpan.FromSeconds(5)), host.Runner.Service!.ReadCounters().ToString());
        Assert.Equal("ok:fine", Exchange(client, lab, "fine"));
        Assert.True(KernelTest.Eventually(() => host.Log.Messages(UdpServiceEvents.ChecksumDrops).Count == 1, TimeSpan.FromSeconds(5)), host.Log.ToString());
        Assert.Contains("wrong IPv4 header or UDP checksum", host.Log.Messages(UdpServiceEvents.ChecksumDrops)[0]);
        string thrown = Assert.Single(host.Log.Messages(UdpServiceEvents.HandlerException));
        Assert.Contains("InvalidOperationException: told to", thrown);
        Thread.Sleep(1500);
        Assert.Single(host.Log.Messages(UdpServiceEvents.ChecksumDrops));
    }

    [Fact]
    public void Zero_bytes_are_allocated_per_datagram_on_the_host_with_logging_on()
    {
        using VethLab lab = VethLab.Create();
        using var host = new TestHost(lab, Settings(lab));
        host.WaitServing();
        using Socket client = Client(lab);
        client.ReceiveTimeout = 2000;
        var buffer = new byte[64];
        var to = new IPEndPoint(lab.AddressB, Port);
        for (int i = 0; i < 12_000 && host.Probe.AllocatedAfter < 0; i++)
        {
            client.SendTo("0123456789"u8.ToArray(), to);
            client.Receive(buffer);
        }
        Assert.True(host.Probe.AllocatedAfter >= 0, $"only {host.Probe.Handled} datagrams were handled");
        Assert.Equal(0, host.Probe.AllocatedAfter - host.Probe.AllocatedBefore);
        Assert.NotEmpty(host.Log.Messages(UdpServiceEvents.Started));
    }

}
