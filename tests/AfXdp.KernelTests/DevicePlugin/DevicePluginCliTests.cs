using AfXdp.Testing;

namespace AfXdp.KernelTests.DevicePlugin;

/// <summary>What the CLI says about --xskmap and `afxdp plugin` given bad input (exit 2) or a refusing server (exit 1): one line.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class DevicePluginCliTests
{
    public DevicePluginCliTests() => KernelTest.RequireRoot();

    static void OneLine(CommandResult run, string expected, int exitCode = 2)
    {
        Assert.True(run.ExitCode == exitCode, $"exit {run.ExitCode}\n{run.Output}\n{run.Error}");
        Assert.Single(run.Error.Trim().Split('\n'));
        Assert.Contains(expected, run.Error);
        Assert.DoesNotContain("   at ", run.Error);
    }

    [Theory]
    [InlineData("bench", "cni")]
    [InlineData("bench", "uds:")]
    [InlineData("echo", "/tmp/afxdp_dp/eth0/afxdp.sock")]
    [InlineData("capture", "pinned:/x")]
    public void A_bad_xskmap_value_is_named_with_the_forms_expected(string command, string value)
    {
        string[] extra = command == "capture" ? ["-w", "/dev/null"] : [];
        CommandResult run = KernelTest.Afxdp([command, "-i", "lo", .. extra, "--xskmap", value]);
        OneLine(run, $"--xskmap: '{value}' is not uds[:PATH] (the device plugin's unix socket) or pin[:PATH] (its pinned XSKMAP)");
    }

    [Theory]
    [InlineData("--filter", "udp dst port 9", "the steering program is one we would load")]
    [InlineData("--no-rx", null, "a socket without an RX ring has nothing to register")]
    public void Bench_options_that_need_our_own_program_do_not_go_with_xskmap(string option, string? value, string why)
    {
        string[] given = value is null ? [option] : [option, value];
        OneLine(KernelTest.Afxdp(["bench", "-i", "lo", "-m", "txonly", "--xskmap", "uds", .. given]), $"--xskmap and {option}: {why}");
    }

    [Fact]
    public void A_refusal_of_the_plugin_is_one_line_naming_step_and_answer()
    {
        using VethLab lab = VethLab.Create();
        string socket = Path.Combine(Path.GetTempPath(), $"afxdp-dp-{Guid.NewGuid():N}.sock");
        using var server = new MinimalPluginServer(socket, request => new Reply("/host_nak"));
        CommandResult run = KernelTest.AfxdpIn(lab, VethSide.B, "bench", "-i", lab.InterfaceB, "-d", "1", "--xskmap", $"uds:{socket}");
        OneLine(run, $"device plugin {socket}: /connect,", exitCode: 1);
        Assert.Contains("failed. Cause: /host_nak for ", run.Error);
        Assert.False(lab.Status(VethSide.B).Xdp.Any, "with --xskmap nothing is attached, also when the plugin refuses");
    }

    [Fact]
    public void The_plugin_needs_something_to_serve_and_an_interface()
    {
        OneLine(KernelTest.Afxdp("plugin", "-i", "lo"), "plugin: nothing to serve: give --uds PATH, --pin DIR or both");
        using VethLab lab = VethLab.Create();
        OneLine(KernelTest.AfxdpIn(lab, VethSide.B, "plugin", "-i", "nosuch0", "--uds", "/tmp/afxdp-dp-nosuch.sock"), "nosuch0", exitCode: 1);
        Assert.False(File.Exists("/tmp/afxdp-dp-nosuch.sock"));
    }

    [Theory]
    [InlineData("--idle-timeout", "0.05")]
    [InlineData("--exchange-timeout", "0.099")]
    [InlineData("--exchange-timeout", "301")]
    public void The_plugins_timeouts_run_from_100_ms_to_300_s(string option, string value)
    {
        OneLine(KernelTest.Afxdp("plugin", "-i", "lo", "--uds", "/tmp/afxdp-dp-never.sock", option, value), $"{option}: '{value}' is not a number of seconds from 0.1 to 300");
        Assert.False(File.Exists("/tmp/afxdp-dp-never.sock"));
    }

    [Fact]
    public void The_plugin_refuses_a_pin_directory_off_bpffs_and_leaves_nothing()
    {
        using VethLab lab = VethLab.Create();
        string directory = Path.Combine(Path.GetTempPath(), $"afxdp-dp-{Guid.NewGuid():N}");
        CommandResult run = KernelTest.AfxdpIn(lab, VethSide.B, "plugin", "-i", lab.InterfaceB, "--pin", directory, "-d", "1");
        OneLine(run, "is not a directory on a BPF file system (bpffs)", exitCode: 1);
        Assert.False(Directory.Exists(directory), "the directory it made for the pin is removed again");
        Assert.False(lab.Status(VethSide.B).Xdp.Any, "the program is detached again");
    }
}
