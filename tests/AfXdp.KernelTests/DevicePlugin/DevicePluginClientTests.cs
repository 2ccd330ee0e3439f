using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AfXdp.Bpf;
using AfXdp.DevicePlugin;
using AfXdp.Interop;

namespace AfXdp.KernelTests.DevicePlugin;

/// <summary>
/// The client against the minimal server written in the test from the protocol text: the exchange DPDK's driver
/// makes, each refusal and protocol error as a DevicePluginException naming the step and the answer, and dead
/// servers (nothing there, nothing listening, hanging up mid-handshake, never answering).
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class DevicePluginClientTests : IDisposable
{
    const string Interface = "xblb0";
    static readonly TimeSpan Short = TimeSpan.FromSeconds(1);

    readonly string _path = Path.Combine(Path.GetTempPath(), $"afxdp-dp-{Guid.NewGuid():N}.sock");
    readonly XskMap _map;

    public DevicePluginClientTests()
    {
        KernelTest.RequireRoot();
        _map = XskMap.Create("afxdp_test", 4);
    }

    public void Dispose()
    {
        _map.Dispose();
        File.Delete(_path);
    }

    MinimalPluginServer Serve(Func<string, Reply> answer) => new(_path, answer);

    MinimalPluginServer ServeExcept(string request, Reply instead) => Serve(MinimalPluginServer.PluginExcept(Interface, _map.Fd, request, instead));

    DevicePluginException Refused(MinimalPluginServer server, TimeSpan? timeout = null)
    {
        var e = Assert.Throws<DevicePluginException>(() => DevicePluginClient.GetXskMap(_path, Interface, "afxdp-pod", timeout ?? Short).Dispose());
        Assert.Null(server.Fault);
        Assert.Equal(_path, e.SocketPath);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Contains("Fix:", e.Message);
        return e;
    }

    [Fact]
    public void The_exchange_is_DPDKs_and_gives_the_served_XSKMAP()
    {
        using MinimalPluginServer server = Serve(MinimalPluginServer.Plugin(Interface, _map.Fd));
        using XskMap received = DevicePluginClient.GetXskMap(_path, Interface);
        Assert.Equal(_map.Id, received.Id);
        Assert.Equal(4u, received.Slots);
        Assert.NotEqual(_map.Fd, received.Fd);
        // uds_get_xskmap_fd: /connect with gethostname(), /version, /xsk_map_fd with the interface, /fin.
        Assert.Equal([$"/connect,{Dns.GetHostName()}", "/version", $"/xsk_map_fd,{Interface}", "/fin"], server.Requests);
    }

    [Fact]
    public void The_steps_one_by_one()
    {
        using MinimalPluginServer server = Serve(MinimalPluginServer.Plugin(Interface, _map.Fd));
        using DevicePluginClient client = DevicePluginClient.Open(_path, Short);
        client.Connect("afxdp-pod");
        Assert.Equal("0.1", client.GetVersion());
        using XskMap first = client.RequestXskMap(Interface);
        using XskMap second = client.RequestXskMap(Interface);
        Assert.Equal(first.Id, second.Id);
        client.Finish();
        Assert.Equal(["/connect,afxdp-pod", "/version", $"/xsk_map_fd,{Interface}", $"/xsk_map_fd,{Interface}", "/fin"], server.Requests);
    }

    [Fact]
    public void Host_nak_names_the_host()
    {
        using MinimalPluginServer server = ServeExcept("/connect", new Reply("/host_nak"));
        DevicePluginException e = Refused(server);
        Assert.Equal("/connect,afxdp-pod", e.Step);
        Assert.Equal("/host_nak", e.Answer);
        Assert.Contains("/host_nak for afxdp-pod: the plugin knows no pod of that name", e.Message);
        Assert.Single(server.Requests);
    }

    [Fact]
    public void Fd_nak_names_the_interface()
    {
        using MinimalPluginServer server = ServeExcept("/xsk_map_fd", new Reply("/fd_nak"));
        DevicePluginException e = Refused(server);
        Assert.Equal($"/xsk_map_fd,{Interface}", e.Step);
        Assert.Equal("/fd_nak", e.Answer);
        Assert.Contains($"/fd_nak for {Interface}: the plugin does not serve this interface to this pod", e.Message);
    }

    [Fact]
    public void Another_interface_than_the_one_served_gets_fd_nak()
    {
        using MinimalPluginServer server = Serve(MinimalPluginServer.Plugin("eth9", _map.Fd));
        DevicePluginException e = Refused(server);
        Assert.Equal("/fd_nak", e.Answer);
        Assert.Contains($"`afxdp plugin -i {Interface}`", e.Fix);
    }

    [Theory]
    [InlineData("/connect", "/error", "the plugin failed on its side")]
    [InlineData("/connect", "/nak", "the plugin did not understand the request")]
    [InlineData("/version", "/nak", "the plugin did not understand the request")]
    [InlineData("/version", "/error", "the plugin failed on its side")]
    [InlineData("/xsk_map_fd", "/nak", "the plugin did not understand the request")]
    [InlineData("/xsk_map_fd", "/error", "the plugin failed on its side")]
    [InlineData("/fin", "/nak", "the plugin did not understand the request")]
    [InlineData("/connect", "/fd_ack", "answered '/fd_ack' where /host_ok was expected")]
    [InlineData("/fin", "/fin", "answered '/fin' where /fin_ack was expected")]
    public void Nak_error_and_stray_answers_are_refusals_naming_step_and_answer(string request, string answer, string cause)
    {
        using MinimalPluginServer server = ServeExcept(request, new Reply(answer));
        DevicePluginException e = Refused(server);
        Assert.StartsWith(request, e.Step);
        Assert.Equal(answer, e.Answer);
        Assert.Contains(cause, e.Message);
        Assert.Equal(0, e.Errno);
    }

    [Fact]
    public void Fd_ack_without_a_descriptor_is_a_protocol_error()
    {
        using MinimalPluginServer server = ServeExcept("/xsk_map_fd", new Reply("/fd_ack"));
        DevicePluginException e = Refused(server);
        Assert.Equal("/fd_ack", e.Answer);
        Assert.Contains("came without a descriptor", e.Message);
    }

    [Fact]
    public void A_descriptor_that_is_not_an_XSKMAP_is_refused()
    {
        using ArrayMap<uint> array = ArrayMap<uint>.Create("afxdp_test_arr", 4);
        using (MinimalPluginServer server = ServeExcept("/xsk_map_fd", new Reply("/fd_ack", array.Fd)))
            Assert.Contains("is not an XSKMAP", Refused(server).Message);
        File.Delete(_path);
        using var notMap = new FileStream("/proc/self/status", FileMode.Open, FileAccess.Read);
        using (MinimalPluginServer server = ServeExcept("/xsk_map_fd", new Reply("/fd_ack", (int)notMap.SafeFileHandle.DangerousGetHandle())))
            Assert.Contains("is not an XSKMAP", Refused(server).Message);
    }

    [Fact]
    public void An_answer_longer_than_the_protocols_is_refused()
    {
        using MinimalPluginServer server = ServeExcept("/version", new Reply(new string('9', 200)));
        Assert.Contains("longer than the 128 bytes", Refused(server).Message);
    }

    [Fact]
    public void A_request_the_plugin_would_cut_is_not_sent()
    {
        using MinimalPluginServer server = Serve(MinimalPluginServer.Plugin(Interface, _map.Fd));
        var e = Assert.Throws<DevicePluginException>(() => DevicePluginClient.GetXskMap(_path, Interface, new string('p', 60), Short));
        Assert.Contains("the plugin reads at most 64", e.Message);
        Assert.Empty(server.Requests);
    }

    [Fact]
    public void No_socket_at_the_path()
    {
        var e = Assert.Throws<DevicePluginException>(() => DevicePluginClient.GetXskMap(_path, Interface, null, Short));
        Assert.Equal("connect", e.Step);
        Assert.Equal(Errno.ENOENT, e.Errno);
        Assert.Contains($"there is no socket at {_path}", e.Message);
    }

    [Fact]
    public void A_socket_nobody_listens_on_refuses_the_connection()
    {
        MinimalPluginServer.LeaveStaleSocket(_path);
        var e = Assert.Throws<DevicePluginException>(() => DevicePluginClient.GetXskMap(_path, Interface, null, Short));
        Assert.Equal(Errno.ECONNREFUSED, e.Errno);
        Assert.Contains("nothing listens on", e.Message);
    }

    [Fact]
    public void A_stream_socket_is_not_the_plugins()
    {
        using var stream = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        stream.Bind(new UnixDomainSocketEndPoint(_path));
        stream.Listen();
        var e = Assert.Throws<DevicePluginException>(() => DevicePluginClient.GetXskMap(_path, Interface, null, Short));
        Assert.Equal(Errno.EPROTOTYPE, e.Errno);
        Assert.Contains("not a SOCK_SEQPACKET socket", e.Message);
    }

    [Fact]
    public void A_server_hanging_up_mid_handshake()
    {
        using MinimalPluginServer server = ServeExcept("/xsk_map_fd", Reply.HangUp);
        DevicePluginException e = Refused(server);
        Assert.Equal($"/xsk_map_fd,{Interface}", e.Step);
        Assert.Null(e.Answer);
        Assert.Contains("closed the connection without answering", e.Message);
    }

    [Fact]
    public void A_server_that_never_answers_times_out_on_the_step()
    {
        using MinimalPluginServer server = ServeExcept("/version", Reply.Silence);
        var clock = Stopwatch.StartNew();
        DevicePluginException e = Refused(server, TimeSpan.FromMilliseconds(700));
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(650), TimeSpan.FromSeconds(5));
        Assert.Equal("/version", e.Step);
        Assert.Equal(Errno.EAGAIN, e.Errno);
        Assert.Contains("no answer within 0.7 s", e.Message);
    }

    [Fact]
    public void A_listener_that_never_accepts_still_answers_nothing_within_the_timeout()
    {
        using var listener = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(_path));
        listener.Listen(); // the kernel completes the connection in the backlog; no one ever reads
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<DevicePluginException>(() => DevicePluginClient.GetXskMap(_path, Interface, null, TimeSpan.FromMilliseconds(500)));
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(450), TimeSpan.FromSeconds(5));
        Assert.StartsWith("/connect,", e.Step);
        Assert.Equal(Errno.EAGAIN, e.Errno);
    }
}
