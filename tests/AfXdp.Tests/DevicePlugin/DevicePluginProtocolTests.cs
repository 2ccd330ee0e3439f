using AfXdp.DevicePlugin;

namespace AfXdp.Tests.DevicePlugin;

/// <summary>
/// The device plugin's messages as its server (afxdp-plugins-for-kubernetes, udsserver.go) reads them and DPDK's
/// af_xdp driver writes them, and the uds:/pin: forms of --xskmap.
/// </summary>
public class DevicePluginProtocolTests
{
    [Theory]
    [InlineData("/connect,afxdp-pod", DevicePluginCommand.Connect, "afxdp-pod")]
    [InlineData("/connect, afxdp pod ", DevicePluginCommand.Connect, "afxdppod")] // the plugin removes every space from the name
    [InlineData("/connect", DevicePluginCommand.Connect, null)]                   // still a /connect, with no name: /host_nak
    [InlineData("/connect,", DevicePluginCommand.Connect, null)]
    [InlineData("/connect,a,b", DevicePluginCommand.Connect, null)]
    [InlineData("/version", DevicePluginCommand.Version, null)]
    [InlineData("/fin", DevicePluginCommand.Fin, null)]
    [InlineData("/xsk_map_fd,eth0", DevicePluginCommand.XskMapFd, "eth0")]
    [InlineData("/xsk_map_fd,", DevicePluginCommand.XskMapFd, "")]               // no such interface: /fd_nak
    [InlineData("/xsk_map_fd", DevicePluginCommand.Unknown, null)]               // the plugin answers a malformed one /nak
    [InlineData("/xsk_map_fd,eth0,eth1", DevicePluginCommand.Unknown, null)]
    [InlineData("/version,1", DevicePluginCommand.Unknown, null)]
    [InlineData("/fin ", DevicePluginCommand.Unknown, null)]
    [InlineData("/Connect,pod", DevicePluginCommand.Unknown, null)]
    [InlineData("/config_busy_poll,20,64", DevicePluginCommand.Unknown, null)]   // the plugin's busy-poll request is not served here
    [InlineData("", DevicePluginCommand.Unknown, null)]
    public void Requests_are_read_as_the_plugin_reads_them(string message, DevicePluginCommand command, string? argument) =>
        Assert.Equal(new DevicePluginRequest(command, argument), DevicePluginProtocol.ParseRequest(message));

    [Fact]
    public void Requests_are_written_as_DPDK_writes_them()
    {
        Assert.Equal("/connect,afxdp-pod", DevicePluginProtocol.Request(DevicePluginProtocol.Connect, "afxdp-pod"));
        Assert.Equal("/xsk_map_fd,eth0", DevicePluginProtocol.Request(DevicePluginProtocol.XskMapFd, "eth0"));
        Assert.Equal("/version", DevicePluginProtocol.Request(DevicePluginProtocol.Version));
        Assert.Equal("/fin", DevicePluginProtocol.Request(DevicePluginProtocol.Fin));
    }

    [Fact]
    public void Message_texts_are_the_plugins()
    {
        string[] texts =
        [
            DevicePluginProtocol.Connect, DevicePluginProtocol.HostOk, DevicePluginProtocol.HostNak, DevicePluginProtocol.Version,
            DevicePluginProtocol.XskMapFd, DevicePluginProtocol.FdAck, DevicePluginProtocol.FdNak, DevicePluginProtocol.Fin,
            DevicePluginProtocol.FinAck, DevicePluginProtocol.Nak, DevicePluginProtocol.Error, DevicePluginProtocol.ProtocolVersion,
        ];
        Assert.Equal(["/connect", "/host_ok", "/host_nak", "/version", "/xsk_map_fd", "/fd_ack", "/fd_nak", "/fin", "/fin_ack", "/nak", "/error", "0.1"], texts);
        Assert.Equal(64, DevicePluginProtocol.MaxRequestLength);
        Assert.Equal(128, DevicePluginProtocol.MaxAnswerLength);
    }

    [Theory]
    [InlineData("/nak", true)]
    [InlineData("/error", true)]
    [InlineData("/fd_nak", false)]
    [InlineData("/host_nak", false)]
    [InlineData("0.1", false)]
    public void Nak_and_error_refuse_any_request(string answer, bool refusal) => Assert.Equal(refusal, DevicePluginProtocol.IsRefusal(answer));

    [Fact]
    public void Default_paths_are_where_the_plugin_mounts_them_in_a_pod()
    {
        Assert.Equal("/tmp/afxdp_dp/eth0/afxdp.sock", DevicePluginProtocol.DefaultSocketPath("eth0"));
        Assert.Equal("/tmp/afxdp_dp/eth0/xsks_map", DevicePluginProtocol.DefaultPinPath("eth0"));
    }

    [Theory]
    [InlineData("uds", XskMapSourceKind.Uds, null, "/tmp/afxdp_dp/eth0/afxdp.sock")]
    [InlineData("uds:/run/dp.sock", XskMapSourceKind.Uds, "/run/dp.sock", "/run/dp.sock")]
    [InlineData("uds:relative.sock", XskMapSourceKind.Uds, "relative.sock", "relative.sock")]
    [InlineData("uds:/a:b", XskMapSourceKind.Uds, "/a:b", "/a:b")]
    [InlineData("pin", XskMapSourceKind.Pin, null, "/tmp/afxdp_dp/eth0/xsks_map")]
    [InlineData("pin:/sys/fs/bpf/eth0/xsks_map", XskMapSourceKind.Pin, "/sys/fs/bpf/eth0/xsks_map", "/sys/fs/bpf/eth0/xsks_map")]
    public void Xskmap_sources_are_read(string text, XskMapSourceKind kind, string? path, string pathForEth0)
    {
        Assert.True(XskMapSource.TryParse(text, out XskMapSource? source, out _));
        Assert.Equal(kind, source!.Kind);
        Assert.Equal(path, source.Path);
        Assert.Equal(pathForEth0, source.PathFor("eth0"));
        Assert.Equal(text, source.ToString());
        Assert.Equal(source, XskMapSource.Parse(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData("uds:")]
    [InlineData("pin:")]
    [InlineData("UDS:/x")]
    [InlineData("cni")]
    [InlineData("/tmp/afxdp_dp/eth0/afxdp.sock")]
    [InlineData("unix:/x")]
    public void Other_xskmap_texts_are_refused_naming_the_value_and_the_forms(string text)
    {
        Assert.False(XskMapSource.TryParse(text, out XskMapSource? source, out string error));
        Assert.Null(source);
        Assert.Contains($"'{text}'", error);
        Assert.Contains("uds[:PATH]", error);
        Assert.Contains("pin[:PATH]", error);
        var e = Assert.Throws<ArgumentException>(() => XskMapSource.Parse(text));
        Assert.Equal("text", e.ParamName);
        Assert.Contains($"'{text}'", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_refusal_reads_as_the_servers_answer_not_as_an_invalid_argument()
    {
        var e = new DevicePluginException("/tmp/afxdp_dp/xblb0/afxdp.sock", "/xsk_map_fd,xblb0", "/fd_nak", 0,
            "/fd_nak for xblb0: the plugin does not serve this interface to this pod.", "ask for another.");
        Assert.Equal("device plugin /tmp/afxdp_dp/xblb0/afxdp.sock: /xsk_map_fd,xblb0 failed. Cause: /fd_nak for xblb0: the plugin does not serve this interface to this pod. Fix: ask for another.",
            e.Message);
        Assert.Equal("/fd_nak", e.Answer);
        Assert.Equal("/xsk_map_fd,xblb0", e.Step);
        Assert.IsAssignableFrom<AfXdpException>(e);
        var timeout = new DevicePluginException("/s", "/version", null, 11, "no answer within 1 s.", "check the server.");
        Assert.StartsWith("device plugin /s: /version failed: EAGAIN", timeout.Message);
    }
}
