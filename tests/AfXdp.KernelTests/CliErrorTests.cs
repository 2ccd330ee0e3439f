using System.Text.RegularExpressions;
using AfXdp.Testing;
using AfXdp.Net;

namespace AfXdp.KernelTests;

/// <summary>
/// Bad input to the CLI, as a user types it: one line on stderr naming the value and what is expected,
/// exit code 2 for a command line that cannot be right and 1 for a failure at run time, never a stack trace.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed partial class CliErrorTests
{
    public CliErrorTests() => KernelTest.RequireRoot();

    /// <summary>No such interface: if a bad value were accepted by mistake, the run still touches nothing.</summary>
    const string None = "afxdp-none0";

    public static TheoryData<string[], string> UsageErrors => new()
    {
        { ["bench", "-i", None, "-d", "abc"], "afxdp bench: --duration: 'abc' is not a number of seconds above 0 and up to 86400" },
        { ["bench", "-i", None, "-d", "-1"], "--duration: '-1' is not a number of seconds" },
        { ["bench", "-i", None, "-d", "0"], "--duration: '0' is not a number of seconds above 0" },
        { ["bench", "-i", None, "-b", "abc"], "afxdp bench: --batch: 'abc' is not a whole number from 1 to 1024" },
        { ["bench", "-i", None, "--batch", "0"], "--batch: '0' is not a whole number from 1 to 1024" },
        { ["bench", "-i", None, "-r", "1000"], "--ring: '1000' is not a power of two from 64 to 65536" },
        { ["bench", "-i", None, "-m", "fwd"], "--mode: 'fwd' is not one of rxdrop, txonly, l2fwd" },
        { ["bench", "-i", None, "-a", "hw"], "--attach: 'hw' is not one of skb, drv, auto" },
        { ["bench", "-i", None, "-c", "1"], "--bind: '1' is not one of copy, zc, auto" },
        { ["bench", "-i", None, "-q", "-1"], "--queue: '-1' is not a queue id from 0 to 4095" },
        { ["bench", "-i", None, "--dmac", "zz:00"], "--dmac: 'zz:00' is not a MAC address (like 02:00:00:00:0b:01)" },
        { ["bench", "-i", None, "--smac", "02:00:00:00:0b"], "--smac: '02:00:00:00:0b' is not a MAC address" },
        { ["bench", "-i", None, "--sip", "1.2"], "--sip: '1.2' is not an IPv4 address (like 10.0.0.2)" },
        { ["bench", "-i", None, "--dip", "10.0.0.256"], "--dip: '10.0.0.256' is not an IPv4 address" },
        { ["bench", "-i", None, "--sport", "70000"], "--sport: '70000' is not a port from 0 to 65535" },
        { ["bench", "-i", None, "--tx-budget", "x"], "--tx-budget: 'x' is not a whole number" },
        { ["bench", "-i", None, "--filter", "udp dst prt 9"], "--filter: expected \"port\" after 'dst', found 'prt' (word 3)" },
        { ["bench", "-i", None, "--size", "20"], "--size: '20' is not a whole number from 42" },
        { ["bench", "-i", None, "--size", "4000"], "--size: '4000' is not a frame length from 42 (Ethernet + IPv4 + UDP headers) to 3840" },
        { ["bench", "-i", None, "-f", "3000"], "UmemOptions.FrameSize = 3000: in aligned mode the kernel accepts only a power-of-two frame size" },
        { ["bench", "-i", None, "-m", "txonly", "--async"], "--async: only with -m rxdrop, not -m txonly" },
        { ["bench", "-i", None, "--bogus"], "Unrecognized command or argument '--bogus'" },
        { ["bench", "-d", "1"], "Option '--interface' is required" },
        { ["engine", "-i", None, "-d", "-1"], "afxdp engine: --duration: '-1' is not a number of seconds above 0" },
        { ["engine", "-i", None, "-q", "x"], "--queue: 'x' is not a queue id from 0 to 4095" },
        { ["engine", "-i", None, "-q", "1", "1"], "XdpEngineOptions.Queues = [1, 1]: a queue is listed twice" },
        { ["engine", "-i", None, "--cores", "x"], "--cores: 'x' is not a CPU number" },
        { ["engine", "-i", None, "--handler", "echo"], "--handler: 'echo' is not one of drop, reflect" },
        { ["engine", "-i", None, "--spin-us", "-2"], "--spin-us: '-2' is not a number of microseconds from 0 to 1000000, or -1" },
        { ["capture", "-i", None, "-w", "/nonexistent/dir/x.pcap"], "afxdp capture: --write: '/nonexistent/dir/x.pcap': the directory /nonexistent/dir does not exist" },
        { ["capture", "-i", None, "-w", "/tmp"], "--write: '/tmp' is a directory; expected the path of a file to write" },
        { ["capture", "-i", None, "-w", "/tmp/"], "--write: '/tmp/' is a directory" },
        { ["capture", "-i", None, "-w", "/tmp/x.pcap", "-n", "-1"], "--count: '-1' is not a whole number from 0" },
        { ["capture", "-i", None, "-w", "/tmp/x.pcap", "-d", "1s"], "--duration: '1s' is not a number of seconds from 0 to 86400" },
        { ["capture", "-i", None, "-w", "/tmp/x.pcap", "--filter", "tcp port"], "--filter:" },
        { ["echo", "-i", None, "--ip", "10.99.0.300"], "afxdp echo: --ip: '10.99.0.300' is not an IPv4 address" },
        { ["echo", "-i", None, "--ip", "fd00::1"], "--ip: 'fd00::1' is not an IPv4 address" },
        { ["echo", "-i", None, "-d", "-1"], "--duration: '-1' is not a number of seconds from 0 to 86400" },
        { ["echo", "-i", None, "--port", "0"], "--port: '0' is not a port from 1 to 65535" },
        { ["demo", "-n", "0"], "afxdp demo: --count: '0' is not a whole number from 1 to 100000" },
        { ["demo", "-n", "many"], "--count: 'many' is not a whole number" },
        { ["doctor", "-q", "-1"], "afxdp doctor: --queue: '-1' is not a queue id" },
        { ["lab", "up", "--mtu", "70000"], "afxdp lab up: VethLabOptions.Mtu = 70000: a veth MTU lies between 68 and 65535" },
        { ["lab", "up", "--queues", "0"], "--queues: '0' is not a whole number from 1 to 4096" },
        { ["lab", "up", "--gro", "maybe"], "--gro: 'maybe' is not one of on, off" },
        { ["napi", "-i", None, "--defer-hard-irqs", "x"], "--defer-hard-irqs: 'x' is not a whole number" },
        { ["handoff-rx", "--connect", "/tmp/x.sock", "--timeout", "0"], "--timeout: '0' is not a number of seconds above 0" },
        { ["nosuch"], "afxdp: Unrecognized command or argument 'nosuch'" },
        { [], "afxdp: name a command: lab, demo, bench" },
    };

    [Theory, MemberData(nameof(UsageErrors))]
    public void A_command_line_that_cannot_be_right_is_one_line_naming_the_value_and_exit_code_2(string[] args, string message)
    {
        CommandResult run = KernelTest.Afxdp(args);
        Assert.True(run.ExitCode == 2, $"exit code {run.ExitCode}: {run.Output}{run.Error}");
        AssertOneLine(run.Error, message);
        Assert.DoesNotContain("(Parameter '", run.Error); // the user typed an option: ArgumentException's parameter name is not theirs
    }

    /// <summary>Failures the command line cannot show: interfaces and queues that do not exist, in a lab's namespace.</summary>
    [Theory]
    [InlineData("bench -i {none} -d 1", "afxdp: if_nametoindex(\"{none}\") failed: ENODEV (No such device). Cause: there is no interface \"{none}\"")]
    [InlineData("capture -i {none} -w {file}", "afxdp: if_nametoindex(\"{none}\") failed: ENODEV")]
    [InlineData("echo -i {none} --ip 10.9.9.9", "afxdp: if_nametoindex(\"{none}\") failed: ENODEV")]
    [InlineData("engine -i {none} -d 1", "\"{none}\"")]
    [InlineData("detach -i {none}", "afxdp: if_nametoindex(\"{none}\") failed: ENODEV")]
    [InlineData("napi -i {none}", "{none}")]
    [InlineData("bench -i {if} -q 5 -d 1", "afxdp: RxSocket({if}, queue 5) failed: EINVAL (Invalid argument). Cause: queue 5 is not in use: {if} has 1 active queue (0).")]
    [InlineData("capture -i {if} -q 5 -w {file}", "afxdp: RxSocket({if}, queue 5) failed: EINVAL (Invalid argument). Cause: queue 5 is not in use")]
    [InlineData("capture -i {if} -w /dev/null", "afxdp: capture to /dev/null: /dev/null is a character device, not a regular file")]
    [InlineData("engine -i {if} -q 5 -d 1", "afxdp: XdpEngineOptions.Queues: 5 failed: EINVAL (Invalid argument). Cause: queue 5 is not in use: {if} has 1 active queue (0).")]
    public void A_failure_at_run_time_is_one_line_and_exit_code_1(string commandLine, string message)
    {
        using VethLab lab = VethLab.Create();
        string file = Path.Combine(Path.GetTempPath(), $"afxdp-cli-{Guid.NewGuid():N}.pcap");
        string Fill(string text) => text.Replace("{none}", None).Replace("{if}", lab.InterfaceB).Replace("{file}", file);
        try
        {
            CommandResult run = KernelTest.AfxdpIn(lab, VethSide.B, Fill(commandLine).Split(' '));
            Assert.True(run.ExitCode == 1, $"exit code {run.ExitCode}: {run.Output}{run.Error}");
            AssertOneLine(run.Error, Fill(message));
            Assert.StartsWith("afxdp: ", run.Error);
            Assert.False(lab.Run(VethSide.B, () => AfXdp.Device.NetDevice.Get(lab.InterfaceB).Xdp.Any), "a failed run left a program attached");
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void An_unexpected_exception_is_one_line_and_its_stack_trace_only_with_AFXDP_DEBUG()
    {
        string missing = $"/tmp/afxdp-no-such-{Guid.NewGuid():N}.sock";
        CommandResult run = KernelTest.Afxdp("handoff-rx", "--connect", missing, "--timeout", "1");
        Assert.Equal(1, run.ExitCode);
        AssertOneLine(run.Error, "(SocketException; AFXDP_DEBUG=1 shows where)");

        CommandResult debug = ExternalCommand.Run("env", ["AFXDP_DEBUG=1", KernelTest.DotnetHost, KernelTest.CliPath(), "handoff-rx", "--connect", missing, "--timeout", "1"]);
        Assert.Equal(1, debug.ExitCode);
        Assert.Contains("   at ", debug.Error);
    }

    [Fact]
    public void A_run_without_privileges_names_every_missing_one_at_once()
    {
        using VethLab lab = VethLab.Create();
        CommandResult run = KernelTest.AfxdpWithout(lab, VethSide.B, "cap_net_raw,cap_net_admin,cap_bpf,cap_sys_admin,cap_ipc_lock", "ulimit -l 1024 && ",
            $"bench -i {lab.InterfaceB} -d 1");
        Assert.Equal(1, run.ExitCode);
        Assert.DoesNotContain("   at ", run.Error);
        string[] lines = run.Error.Trim().Split('\n');
        Assert.Equal(2, lines.Length); // what failed first, then everything that is lacking
        Assert.StartsWith("afxdp: Umem(16777216 bytes): the kernel pins UMEM pages against RLIMIT_MEMLOCK", lines[0]);
        Assert.StartsWith("afxdp: what `afxdp doctor` finds lacking here: FAIL CAP_NET_RAW: ", lines[1]);
        foreach (string lacking in (string[])["FAIL CAP_NET_ADMIN", "FAIL CAP_BPF", "WARN CAP_SYS_ADMIN", "WARN CAP_IPC_LOCK", "WARN memlock: RLIMIT_MEMLOCK is 1 MiB"])
            Assert.Contains(lacking, lines[1]);
        Assert.EndsWith("run as root, or `setcap cap_net_raw,cap_net_admin,cap_bpf,cap_ipc_lock+ep BINARY`.", lines[1]);
    }

    [Fact]
    public void Capture_into_a_directory_it_may_not_write_is_one_line_and_exit_code_1()
    {
        using VethLab lab = VethLab.Create();
        DirectoryInfo directory = Directory.CreateTempSubdirectory("afxdp-readonly-");
        try
        {
            directory.UnixFileMode = UnixFileMode.UserRead | UnixFileMode.UserExecute;
            string path = Path.Combine(directory.FullName, "x.pcap");
            // Root writes anywhere: without CAP_DAC_OVERRIDE it is held to the mode like anyone else.
            CommandResult run = KernelTest.AfxdpWithout(lab, VethSide.B, "cap_dac_override", "", $"capture -i {lab.InterfaceB} -w {path}");
            Assert.Equal(1, run.ExitCode);
            AssertOneLine(run.Error, $"afxdp: capture to {path} failed: EACCES (Permission denied). Cause: the new file {directory.FullName}/.x.pcap.");
            Assert.Contains($"cannot be created: a capture is written beside its target and renamed onto it, so it needs to create files in {directory.FullName}.", run.Error);
            Assert.Empty(directory.GetFileSystemInfos());
            Assert.False(lab.Run(VethSide.B, () => AfXdp.Device.NetDevice.Get(lab.InterfaceB).Xdp.Any), "a failed run left a program attached");
        }
        finally
        {
            directory.UnixFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
            directory.Delete(recursive: true);
        }
    }

    [GeneratedRegex(@"^afxdp: capture to (?<path>\S+): writing failed: No space left on device.*; it holds the (?<packets>\d+) packets written before, whole and readable\. Fix: ")]
    private static partial Regex DiskFull();

    /// <summary>A 64 KiB tmpfs in a mount namespace of the test's own fills up under a txonly feeder; the file keeps whole records.</summary>
    [Fact]
    public void Capture_onto_a_full_disk_stops_with_one_line_and_leaves_a_readable_file()
    {
        using VethLab lab = VethLab.Create();
        using System.Diagnostics.Process feeder = KernelTest.StartAfxdpIn(lab, VethSide.A,
            "bench", "-i", lab.InterfaceA, "-m", "txonly", "-R", "-c", "copy", "-d", "20", "--dmac", lab.MacB, "--sip", lab.AddressA.ToString(), "--dip", lab.AddressB.ToString());
        // The tmpfs goes with the thread's mount namespace; the empty directory under it is removed below.
        string mount = Directory.CreateTempSubdirectory("afxdp-full-").FullName;
        try
        {
            PrivateMounts.Run(() =>
            {
                PrivateMounts.MountTmpfs(mount, "64k");
                string path = Path.Combine(mount, "full.pcap");
                CommandResult run = KernelTest.AfxdpIn(lab, VethSide.B, "capture", "-i", lab.InterfaceB, "-w", path, "-d", "15", "-a", "drv");

                Assert.True(run.ExitCode == 1, $"exit code {run.ExitCode}: {run.Output}{run.Error}");
                AssertOneLine(run.Error, "writing failed: No space left on device");
                Match failure = DiskFull().Match(run.Error);
                Assert.True(failure.Success, run.Error);
                long written = long.Parse(failure.Groups["packets"].Value);
                Assert.True(written > 100, run.Error);

                using (var reader = new PcapReader(File.OpenRead(path)))
                {
                    long records = 0;
                    while (reader.TryReadPacket(out PcapPacket packet))
                    {
                        Assert.Equal(packet.OriginalLength, packet.Data.Length);
                        records++;
                    }
                    Assert.Equal(written, records);
                }
                CommandResult tcpdump = ExternalCommand.Run("tcpdump", ["-r", path, "-n", "-q"]);
                Assert.True(tcpdump.Succeeded, tcpdump.Error);
                Assert.Equal(written, tcpdump.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
                Assert.DoesNotContain("truncated", tcpdump.Error);
            });
        }
        finally
        {
            if (!feeder.HasExited)
                feeder.Kill();
            feeder.WaitForExit();
            Directory.Delete(mount);
        }
    }

    /// <summary>One line (the run's only output on stderr) containing <paramref name="expected"/>, and no stack frame.</summary>
    static void AssertOneLine(string error, string expected)
    {
        Assert.DoesNotContain("   at ", error);
        string[] lines = error.Trim().Split('\n');
        Assert.True(lines.Length == 1, $"expected one line on stderr, got {lines.Length}:\n{error}");
        Assert.Contains(expected, lines[0]);
    }
}
