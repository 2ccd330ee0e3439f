using System.Net;
using System.Text.RegularExpressions;
using AfXdp.Bpf;
using AfXdp.Device;
using AfXdp.DevicePlugin;
using AfXdp.KernelTests.Xsk;
using AfXdp.Testing;
using AfXdp.Xsk;

namespace AfXdp.KernelTests.DevicePlugin;

/// <summary>
/// Issue 15 end to end: a privileged server on end B (our `afxdp plugin`, or the test's own) attaches the redirect
/// program and hands out its XSKMAP over the socket or as a pin; a child as a pod runs it (uid 65534, only CAP_NET_RAW
/// and CAP_IPC_LOCK) registers its socket with --xskmap, loads nothing, and receives what the peer's kernel and the
/// real `ping` send.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed partial class DevicePluginTrafficTests : IDisposable
{
    static readonly TimeSpan Start = TimeSpan.FromSeconds(30);

    readonly string _directory = Path.Combine(Path.GetTempPath(), $"afxdp-dp-{Guid.NewGuid():N}");

    public DevicePluginTrafficTests()
    {
        KernelTest.RequireRoot();
        // Root's 0755, as the plugin requires of its socket's directories; the children write their pcap in Shared as nobody.
        Directory.CreateDirectory(Shared);
        File.SetUnixFileMode(Shared, (UnixFileMode)0b111_111_111);
    }

    string Shared => Path.Combine(_directory, "shared");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [GeneratedRegex(@"prog id (\d+)")]
    private static partial Regex ProgramId();

    [GeneratedRegex(@"^mode=rxdrop .* pkts=(\d+) ", RegexOptions.Multiline)]
    private static partial Regex RxDropSummary();

    [Fact]
    public void Our_plugin_over_the_socket_an_unprivileged_capture_receives_what_the_peer_sends()
    {
        using VethLab lab = VethLab.Create();
        string socket = Path.Combine(_directory, lab.InterfaceB, DevicePluginProtocol.SocketFileName);
        string pcap = Path.Combine(Shared, "capture.pcap");
        using RunningCommand plugin = RunningCommand.Afxdp(lab, VethSide.B, "plugin", "-i", lab.InterfaceB, "--uds", socket, "--uid", "65534", "-a", "drv");
        uint programId = uint.Parse(ProgramId().Match(plugin.WaitForLine("serving the XSKMAP", Start)).Groups[1].Value);
        Assert.Equal(programId, lab.Status(VethSide.B).Xdp.DrvProgramId);

        // Another interface than the one served: /fd_nak, one line, exit 1 (a failure at run time); the plugin goes on serving.
        CommandResult wrong = KernelTest.AfxdpIn(lab, VethSide.B, "bench", "-i", "lo", "-d", "1", "--xskmap", $"uds:{socket}");
        Assert.Equal(1, wrong.ExitCode);
        Assert.Contains("/xsk_map_fd,lo failed. Cause: /fd_nak for lo: the plugin does not serve this interface to this pod.", wrong.Error);
        Assert.Single(wrong.Error.Trim().Split('\n'));

        using (RunningCommand capture = RunningCommand.Unprivileged(lab, $"capture -i {lab.InterfaceB} -w {pcap} -n 20 -d 30 --xskmap uds:{socket}"))
        {
            capture.WaitForLine("capturing", Start);
            XskTestBed.SendFromA(lab, 20, port: 7400);
            Assert.True(capture.WaitForExit(Start) == 0, capture.Output + capture.Error);
            Assert.Equal(RunningCommand.PodCapEff, capture.Output.Split('\n')[0]);
            Assert.Equal("65534", capture.Output.Split('\n')[1]);
            Assert.Contains($"registered in XSKMAP id", capture.Output);
            Assert.Contains("wrote 20 packets", capture.Output);
        }
        // The client attached nothing and left the plugin's program as it was.
        Assert.Equal(programId, lab.Status(VethSide.B).Xdp.DrvProgramId);
        CommandResult tcpdump = ExternalCommand.Run("tcpdump", ["-r", pcap, "-n"]);
        Assert.True(tcpdump.Succeeded, tcpdump.Output + tcpdump.Error);
        Assert.Equal(20, Regex.Matches(tcpdump.Output, $@"IP {Regex.Escape(lab.AddressA.ToString())}\.\d+ > {Regex.Escape(lab.AddressB.ToString())}\.7400: UDP, length 26").Count);

        plugin.Signal("TERM");
        Assert.Equal(0, plugin.WaitForExit(TimeSpan.FromSeconds(15)));
        Assert.Contains($"client 1: /xsk_map_fd,lo -> /fd_nak", plugin.Output);
        Assert.Contains($"client 2: /connect,{Dns.GetHostName()} -> /host_ok", plugin.Output);
        Assert.Contains($"client 2: /xsk_map_fd,{lab.InterfaceB} -> /fd_ack with XSKMAP id", plugin.Output);
        Assert.Contains("client 2: /fin -> /fin_ack", plugin.Output);
        Assert.Contains("stopped after 2 client(s): detached, socket removed", plugin.Output);
        Assert.False(File.Exists(socket));
        Assert.False(Directory.Exists(Path.GetDirectoryName(socket)));
        Assert.False(lab.Status(VethSide.B).Xdp.Any, "the plugin detached its program on SIGTERM");
    }

    [Fact]
    public void Our_plugin_pinned_an_unprivileged_echo_answers_the_real_ping()
    {
        using VethLab lab = VethLab.Create();
        PrivateMounts.Run(() => PinnedEcho(lab));
    }

    void PinnedEcho(VethLab lab)
    {
        string bpffs = MountBpfFs();
        string pinDirectory = Path.Combine(bpffs, lab.InterfaceB);
        string pin = Path.Combine(pinDirectory, DevicePluginProtocol.PinFileName);
        IPAddress spare = Spare(lab);
        using RunningCommand plugin = RunningCommand.Afxdp(lab, VethSide.B, "plugin", "-i", lab.InterfaceB, "--pin", pinDirectory, "--uid", "65534", "-a", "skb");
        uint programId = uint.Parse(ProgramId().Match(plugin.WaitForLine("serving the XSKMAP", Start)).Groups[1].Value);
        Assert.Equal("65534 600", ExternalCommand.RunChecked("stat", "-c", "%u %a", pin).Trim());

        using (RunningCommand echo = RunningCommand.Unprivileged(lab, $"echo -i {lab.InterfaceB} --ip {spare} -d 30 --xskmap pin:{pin}"))
        {
            echo.WaitForLine("answering ARP, ping and UDP port 7", Start);
            CommandResult ping = lab.Exec(VethSide.A, "ping", "-c", "5", "-i", "0.2", "-W", "2", spare.ToString());
            Assert.True(ping.Succeeded, ping.Output + ping.Error + echo.Output + echo.Error);
            Assert.Contains("5 packets transmitted, 5 received, 0% packet loss", ping.Output);
            echo.Signal("INT");
            Assert.True(echo.WaitForExit(Start) == 0, echo.Output + echo.Error);
            Assert.Equal(RunningCommand.PodCapEff, echo.Output.Split('\n')[0]);
            Assert.Contains($"registered in XSKMAP id", echo.Output);
            Assert.Matches(@"answered \d+ in .* arp=\d+ icmp=5 ", echo.Output);
        }
        Assert.Equal(programId, lab.Status(VethSide.B).Xdp.SkbProgramId);

        plugin.Signal("INT");
        Assert.Equal(0, plugin.WaitForExit(TimeSpan.FromSeconds(15)));
        Assert.Contains("stopped after 0 client(s): unpinned, detached", plugin.Output);
        Assert.False(File.Exists(pin));
        Assert.False(Directory.Exists(pinDirectory), "the plugin removes the directory it made on the bpffs");
        Assert.False(lab.Status(VethSide.B).Xdp.Any);
    }

    [Fact]
    public void The_minimal_server_over_the_socket_an_unprivileged_bench_receives()
    {
        using VethLab lab = VethLab.Create();
        using XskRedirectProgram program = lab.Run(VethSide.B, () => XskRedirectProgram.Attach(lab.InterfaceB, XdpAttachMode.Drv));
        string socket = Path.Combine(_directory, "afxdp.sock");
        using var server = new MinimalPluginServer(socket, MinimalPluginServer.Plugin(lab.InterfaceB, program.XskMap.Fd));
        CommandResult bench = UnprivilegedBenchWithFeeder(lab, $"uds:{socket}");
        Assert.True(bench.Succeeded, bench.Output + bench.Error);
        Assert.Equal(RunningCommand.PodCapEff, bench.Output.Split('\n')[0]);
        Assert.True(long.Parse(RxDropSummary().Match(bench.Output).Groups[1].Value) > 1000, bench.Output);
        Assert.Contains($"registered queue 0 in XSKMAP id {program.XskMap.Id} from {socket}", bench.Error);
        Assert.Equal([$"/connect,{Dns.GetHostName()}", "/version", $"/xsk_map_fd,{lab.InterfaceB}", "/fin"], server.Requests);
        Assert.Null(server.Fault);
        Assert.Equal(program.Link.ProgramId, lab.Status(VethSide.B).Xdp.DrvProgramId);
    }

    [Fact]
    public void A_map_the_test_pinned_itself_an_unprivileged_bench_receives()
    {
        using VethLab lab = VethLab.Create();
        using XskRedirectProgram program = lab.Run(VethSide.B, () => XskRedirectProgram.Attach(lab.InterfaceB, XdpAttachMode.Drv));
        PrivateMounts.Run(() => PinnedBench(lab, program));
    }

    void PinnedBench(VethLab lab, XskRedirectProgram program)
    {
        string pin = Path.Combine(MountBpfFs(), "xsks_map");
        program.XskMap.Pin(pin);
        ExternalCommand.RunChecked("chown", "65534", pin);
        CommandResult bench = UnprivilegedBenchWithFeeder(lab, $"pin:{pin}");
        Assert.True(bench.Succeeded, bench.Output + bench.Error);
        Assert.Equal(RunningCommand.PodCapEff, bench.Output.Split('\n')[0]);
        Assert.True(long.Parse(RxDropSummary().Match(bench.Output).Groups[1].Value) > 1000, bench.Output);
        Assert.Contains($"registered queue 0 in XSKMAP id {program.XskMap.Id} from {pin}", bench.Error);
        BpfFs.Unpin(pin);
    }

    [Fact]
    public void A_pin_the_child_may_not_open_says_whose_it_is()
    {
        using VethLab lab = VethLab.Create();
        using XskRedirectProgram program = lab.Run(VethSide.B, () => XskRedirectProgram.Attach(lab.InterfaceB, XdpAttachMode.Drv));
        PrivateMounts.Run(() => ForbiddenPin(lab, program));
    }

    void ForbiddenPin(VethLab lab, XskRedirectProgram program)
    {
        string pin = Path.Combine(MountBpfFs(), "xsks_map");
        program.XskMap.Pin(pin); // root's, mode 0600
        using RunningCommand bench = RunningCommand.Unprivileged(lab, $"bench -i {lab.InterfaceB} -d 1 --xskmap pin:{pin}");
        Assert.Equal(1, bench.WaitForExit(Start));
        Assert.Contains($"this user (uid 65534) may not open {pin}", bench.Error);
        Assert.Single(bench.Error.Trim().Split('\n'));
        BpfFs.Unpin(pin);
    }

    /// <summary>rxdrop for 1 s as a pod would run it, while the peer sends with `afxdp bench -m txonly`.</summary>
    static CommandResult UnprivilegedBenchWithFeeder(VethLab lab, string xskmap)
    {
        using RunningCommand feeder = RunningCommand.Afxdp(lab, VethSide.A, "bench", "-i", lab.InterfaceA, "-m", "txonly", "-R", "-c", "copy", "-d", "20", "--dmac", lab.MacB);
        using RunningCommand bench = RunningCommand.Unprivileged(lab, $"bench -i {lab.InterfaceB} -m rxdrop -c copy -d 1 --wait 20 --xskmap {xskmap}");
        int exit = bench.WaitForExit(Start);
        return new CommandResult("bench", exit, bench.Output, bench.Error);
    }

    /// <summary>A bpffs on a fresh directory, in the calling thread's private mount namespace (see <see cref="PrivateMounts"/>).</summary>
    string MountBpfFs()
    {
        string directory = Path.Combine(_directory, "bpffs");
        Directory.CreateDirectory(directory);
        ExternalCommand.RunChecked("mount", "-t", "bpf", "bpf", directory);
        Assert.True(BpfFs.IsBpfFs(directory));
        return directory;
    }

    /// <summary>An address of B's subnet that no kernel in the lab has: the echo answers for it, ARP included.</summary>
    static IPAddress Spare(VethLab lab)
    {
        byte[] bytes = lab.AddressB.GetAddressBytes();
        bytes[3] = 9;
        return new IPAddress(bytes);
    }
}
