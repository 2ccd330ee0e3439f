using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using AfXdp.Bpf;
using AfXdp.DevicePlugin;
using AfXdp.Interop;
using AfXdp.Cli.DevicePlugin;

namespace AfXdp.KernelTests.DevicePlugin;

/// <summary>Our side of the protocol (what `afxdp plugin` serves), in process, against our client and raw sockets.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed partial class DevicePluginServerTests : IDisposable
{
    const string Interface = "xblb0";
    static readonly TimeSpan Short = TimeSpan.FromSeconds(2);

    readonly string _directory = Path.Combine(Path.GetTempPath(), $"afxdp-dp-{Guid.NewGuid():N}");
    readonly XskMap _map;
    readonly ConcurrentQueue<string> _log = new();
    readonly CancellationTokenSource _stop = new();

    public DevicePluginServerTests()
    {
        KernelTest.RequireRoot();
        _map = XskMap.Create("afxdp_test", 4);
    }

    string SocketPath => Path.Combine(_directory, Interface, DevicePluginProtocol.SocketFileName);

    public void Dispose()
    {
        _stop.Cancel();
        _map.Dispose();
        if (Directory.Exists(_directory))
            Directory.Delete(_directory, recursive: true);
    }

    (DevicePluginServer Server, Task Running) Start(DevicePluginServerOptions? options = null)
    {
        var server = new DevicePluginServer(SocketPath, new Dictionary<string, XskMap> { [Interface] = _map },
            (options ?? new DevicePluginServerOptions()) with { Log = _log.Enqueue });
        return (server, Task.Run(() => server.Run(_stop.Token)));
    }

    /// <summary>Cancels, waits for Run to return and disposes; the time from the cancellation to Run's return.</summary>
    TimeSpan Stop(DevicePluginServer server, Task running)
    {
        var clock = Stopwatch.StartNew();
        _stop.Cancel();
        Assert.True(running.Wait(TimeSpan.FromSeconds(5)), "the server did not stop within 5 s of the cancellation");
        TimeSpan stopping = clock.Elapsed;
        server.Dispose();
        return stopping;
    }

    [Fact]
    public void Serves_clients_one_after_another_and_removes_what_it_made()
    {
        (DevicePluginServer server, Task running) = Start();
        Assert.True(File.Exists(SocketPath));
        Assert.Equal((UnixFileMode)0b110_000_000, File.GetUnixFileMode(SocketPath));
        for (int i = 0; i < 3; i++)
        {
            using XskMap received = DevicePluginClient.GetXskMap(SocketPath, Interface, $"pod-{i}", Short);
            Assert.Equal(_map.Id, received.Id);
        }
        Assert.Equal(3, server.Clients);
        Stop(server, running);
        Assert.False(File.Exists(SocketPath));
        Assert.False(Directory.Exists(Path.Combine(_directory, Interface)), "the server removes the directories it made");
        Assert.Contains($"client 3: /xsk_map_fd,{Interface} -> /fd_ack with XSKMAP id {_map.Id}", _log);
        Assert.Contains("client 3: /fin -> /fin_ack", _log);
    }

    [Fact]
    public void Refuses_an_interface_it_does_not_serve_and_goes_on_serving()
    {
        (DevicePluginServer server, Task running) = Start();
        var e = Assert.Throws<DevicePluginException>(() => DevicePluginClient.GetXskMap(SocketPath, "eth7", "pod", Short));
        Assert.Equal("/fd_nak", e.Answer);
        Assert.Contains("/fd_nak for eth7: the plugin does not serve this interface to this pod", e.Message);
        using XskMap received = DevicePluginClient.GetXskMap(SocketPath, Interface, "pod", Short);
        Assert.Equal(_map.Id, received.Id);
        Stop(server, running);
        Assert.Contains("client 1: /xsk_map_fd,eth7 -> /fd_nak", _log);
    }

    [Fact]
    public void With_host_names_given_refuses_others()
    {
        (DevicePluginServer server, Task running) = Start(new DevicePluginServerOptions { Hostnames = ["afxdp-pod"] });
        var e = Assert.Throws<DevicePluginException>(() => DevicePluginClient.GetXskMap(SocketPath, Interface, "intruder", Short));
        Assert.Equal("/host_nak", e.Answer);
        Assert.Contains("/host_nak for intruder", e.Message);
        using XskMap received = DevicePluginClient.GetXskMap(SocketPath, Interface, "afxdp-pod", Short);
        Stop(server, running);
        Assert.Contains("client 1: /connect,intruder -> /host_nak", _log);
        Assert.Contains("client 2: /connect,afxdp-pod -> /host_ok", _log);
    }

    [Fact]
    public void The_first_request_must_be_connect_and_unknown_ones_get_nak()
    {
        (DevicePluginServer server, Task running) = Start();
        using (DevicePluginClient client = DevicePluginClient.Open(SocketPath, Short))
        {
            Assert.Equal("/nak", Assert.Throws<DevicePluginException>(() => client.GetVersion()).Answer);
            Assert.Contains("closed the connection without answering", Assert.Throws<DevicePluginException>(() => client.Connect("pod")).Message);
        }
        using (var raw = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified) { ReceiveTimeout = 2000 })
        {
            raw.Connect(new UnixDomainSocketEndPoint(SocketPath));
            Assert.Equal("/host_ok", Exchange(raw, "/connect,pod"));
            Assert.Equal("/nak", Exchange(raw, "/config_busy_poll,20,64"));
            Assert.Equal("/nak", Exchange(raw, "/connect,pod"));
            Assert.Equal("/fd_nak", Exchange(raw, "/xsk_map_fd,"));
            Assert.Equal("0.1", Exchange(raw, "/version"));
            Assert.Equal("/fin_ack", Exchange(raw, "/fin"));
            Assert.Equal(0, raw.Receive(new byte[16])); // /fin ends the conversation
        }
        Stop(server, running);
    }

    [Fact]
    public void A_silent_client_is_dropped_after_the_idle_timeout_and_the_next_is_served()
    {
        (DevicePluginServer server, Task running) = Start(new DevicePluginServerOptions { IdleTimeout = TimeSpan.FromMilliseconds(500) });
        using (var silent = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified) { ReceiveTimeout = 5000 })
        {
            silent.Connect(new UnixDomainSocketEndPoint(SocketPath));
            Assert.Equal(0, silent.Receive(new byte[16]));
        }
        using XskMap received = DevicePluginClient.GetXskMap(SocketPath, Interface, "pod", Short);
        Stop(server, running);
        Assert.Contains("client 1: silent for 0.5 s, dropped", _log);
    }

    [Fact]
    public void Gives_the_socket_to_the_owner_asked_for()
    {
        (DevicePluginServer server, Task running) = Start(new DevicePluginServerOptions { OwnerUid = 65534 });
        string owner = AfXdp.Testing.ExternalCommand.RunChecked("stat", "-c", "%u %a", SocketPath).Trim();
        Stop(server, running);
        Assert.Equal("65534 600", owner);
    }

    [Fact]
    public void Will_not_take_over_a_path_in_use()
    {
        (DevicePluginServer server, Task running) = Start();
        var e = Assert.Throws<AfXdpException>(() => new DevicePluginServer(SocketPath, new Dictionary<string, XskMap>()));
        Assert.Equal(Errno.EADDRINUSE, e.Errno);
        Assert.Contains("another server listens", e.Message);
        Stop(server, running);

        Directory.CreateDirectory(Path.GetDirectoryName(SocketPath)!);
        MinimalPluginServer.LeaveStaleSocket(SocketPath);
        e = Assert.Throws<AfXdpException>(() => new DevicePluginServer(SocketPath, new Dictionary<string, XskMap>()));
        Assert.Contains("a socket left behind by a server that was killed", e.Message);
        Assert.True(File.Exists(SocketPath), "a file the server did not make is not removed");
    }

    [Fact]
    public void Stops_within_the_poll_slice_while_a_client_is_connected()
    {
        (DevicePluginServer server, Task running) = Start();
        using var idle = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
        idle.Connect(new UnixDomainSocketEndPoint(SocketPath));
        Assert.True(KernelTest.Eventually(() => server.Clients == 1, TimeSpan.FromSeconds(5)));
        TimeSpan stopping = Stop(server, running);
        // The slice is 100 ms; the rest of the second is for a machine where builds compete for the two cores
        // (the server's thread waiting for a CPU, the task's completion scheduled), not for more slices.
        Assert.True(stopping < TimeSpan.FromSeconds(1), $"stopped {stopping.TotalMilliseconds:0} ms after the cancellation; the poll slice is 100 ms");
        Assert.False(File.Exists(SocketPath));
    }

    static string Exchange(Socket socket, string request)
    {
        socket.Send(System.Text.Encoding.UTF8.GetBytes(request));
        return Receive(socket);
    }
}
