using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using AfXdp.Bpf;
using AfXdp.Testing;
using AfXdp.Device;
using AfXdp.Xsk;

namespace AfXdp.KernelTests.Reliability;

/// <summary>
/// Every loop of the CLI (bench in each mode, capture, echo, engine) notices within a second that its
/// interface or its XDP attachment went away while it ran, and exits non-zero with one line naming what
/// happened, instead of idling to the end of its duration. Faults: the veth pair deleted, the peer's
/// namespace deleted (which destroys the pair), the program's bpf_link detached with `bpftool link detach`
/// or `afxdp detach --force`. The check runs every 200 ms (<see cref="XskLiveness.DefaultPeriod"/>); the
/// test allows 1 s from the moment it starts the fault command (so the command's own start-up counts
/// against the loop; for `afxdp detach`, a .NET program slow to start, from the moment it sees the link
/// detached) to the loop's exit.
/// </summary>
public sealed class GoneTests
{
    static readonly TimeSpan ExitBound = TimeSpan.FromSeconds(1);

    static readonly string[] AllLoops = ["bench", "bench -p", "bench --async", "bench -B", "bench -m txonly", "bench -m txonly -R", "bench -m l2fwd",
        "capture", "echo", "engine"];

    public static TheoryData<string> Loops => [.. AllLoops];

    /// <summary>The loops that attach a program (bench -R only sends).</summary>
    public static TheoryData<string> AttachingLoops => [.. AllLoops.Where(loop => !loop.EndsWith("-R", StringComparison.Ordinal))];

    [Fact]
    public void The_check_period_is_at_most_a_second() =>
        Assert.InRange(XskLiveness.DefaultPeriod, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(1));

    [Theory]
    [MemberData(nameof(Loops))]
    public void Deleting_the_veth_ends_the_loop_with_one_line_naming_the_interface(string loop)
    {
        using VethLab lab = VethLab.Create();
        using RunningCli cli = RunningCli.Start(lab, loop);

        cli.Fault(() => lab.Exec(VethSide.A, "ip", "link", "del", lab.InterfaceA)); // and with it B's end

        string line = cli.ExitLine(ExitBound);
        Assert.Contains($"{lab.InterfaceB} queue 0 is gone", line);
        Assert.Contains("ENXIO", line);
    }

    [Fact]
    public void Deleting_the_peer_s_namespace_destroys_the_pair_and_ends_the_loop()
    {
        using VethLab lab = VethLab.Create();
        using RunningCli cli = RunningCli.Start(lab, "bench");

        cli.Fault(() => ExternalCommand.Run("ip", ["netns", "del", lab.NamespaceA]));

        Assert.Contains($"{lab.InterfaceB} queue 0 is gone", cli.ExitLine(ExitBound));
    }

    [Theory]
    [MemberData(nameof(AttachingLoops))]
    public void Detaching_the_link_with_bpftool_ends_the_loop_with_one_line_naming_the_program(string loop)
    {
        using VethLab lab = VethLab.Create();
        using RunningCli cli = RunningCli.Start(lab, loop);
        uint program = lab.Run(VethSide.B, () => NetDevice.Get(lab.InterfaceB).Xdp.First.Id);
        uint link = LinkOf(program);

        cli.Fault(() => ExternalCommand.Run("bpftool", ["link", "detach", "id", link.ToString()]));

        string line = cli.ExitLine(ExitBound);
        Assert.Contains($"{lab.InterfaceB} queue 0: XDP program {program} (", line);
        Assert.Contains($"is no longer attached to {lab.InterfaceB}", line);
        Assert.Contains($"its bpf_link {link} was detached by someone else", line);
    }

    [Theory]
    [InlineData("bench")]
    [InlineData("echo")]
    public void Detaching_it_with_afxdp_detach_force_ends_the_loop(string loop)
    {
        using VethLab lab = VethLab.Create();
        using RunningCli cli = RunningCli.Start(lab, loop);

        uint link = LinkOf(lab.Run(VethSide.B, () => NetDevice.Get(lab.InterfaceB).Xdp.First.Id));

        // A detached link stays, held by the loop, with no interface (xdp_link_fill_link_info: ifindex 0).
        cli.Fault(() => KernelTest.AfxdpIn(lab, VethSide.B, "detach", "-i", lab.InterfaceB, "--force"),
            observed: () => XdpLinkInfo.All().All(l => l.Id != link || l.InterfaceIndex == 0));

        Assert.Contains("is no longer attached", cli.ExitLine(ExitBound));
    }

    /// <summary>The bpf_link holding <paramref name="program"/>, from `bpftool link show` (links are global, not per namespace).</summary>
    static uint LinkOf(uint program)
    {
        CommandResult links = ExternalCommand.Run("bpftool", ["-j", "link", "show"]);
        Assert.True(links.Succeeded, "bpftool link show failed (apt-get install bpftool): " + links.Error);
        using JsonDocument json = JsonDocument.Parse(links.Output);
        return json.RootElement.EnumerateArray().Single(l => l.GetProperty("prog_id").GetUInt32() == program).GetProperty("id").GetUInt32();
    }

    /// <summary>A CLI loop started on end B, set up and running; its output collected as it comes.</summary>
    sealed class RunningCli : IDisposable
    {
        readonly Process _process;
        readonly ConcurrentQueue<string> _stderr = new(), _stdout = new();
        readonly string _what;
        readonly string? _file;

        RunningCli(Process process, string what, string? file)
        {
            _process = process;
            _what = what;
            _file = file;
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _stderr.Enqueue(e.Data); };
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) _stdout.Enqueue(e.Data); };
            process.BeginErrorReadLine();
            process.BeginOutputReadLine();
        }

        /// <summary>When the clock started (see <see cref="Fault"/>); the exit must follow within the bound.</summary>
        long _faultAt;

        /// <summary>
        /// Runs the command that makes the fault, which must succeed. The clock starts before the command, or,
        /// when <paramref name="observed"/> is given, at the moment the test first sees the fault (polled every
        /// millisecond while the command runs): for `afxdp`, a .NET program whose own start-up takes up to 2 s on
        /// a loaded machine, a time that is not the loop's.
        /// </summary>
        public void Fault(Func<CommandResult> command, Func<bool>? observed = null)
        {
            _faultAt = Stopwatch.GetTimestamp();
            Task<CommandResult> running = Task.Run(command, TestContext.Current.CancellationToken);
            if (observed is not null)
            {
                while (!observed() && !running.IsCompleted)
                    Thread.Sleep(1);
                Assert.True(observed(), "the fault command ended and the test did not see the fault");
                _faultAt = Stopwatch.GetTimestamp();
            }
            CommandResult result = running.GetAwaiter().GetResult();
            Assert.True(result.Succeeded, $"{result.CommandLine}: {result.Output}{result.Error}");
        }

        public static RunningCli Start(VethLab lab, string loop)
        {
            string[] words = loop.Split(' ');
            string spare = new IPAddress([.. lab.AddressB.GetAddressBytes()[..3], 3]).ToString();
            string? pcap = words[0] == "capture" ? Path.Combine(Path.GetTempPath(), $"afxdp-gone-{Environment.ProcessId}.pcap") : null;
            string[] args = words[0] switch
            {
                "bench" => ["bench", "-i", lab.InterfaceB, "-d", "60", .. words[1..]],
                "capture" => ["capture", "-i", lab.InterfaceB, "-w", pcap!, "-d", "60"],
                "echo" => ["echo", "-i", lab.InterfaceB, "--ip", spare, "-d", "60"],
                _ => ["engine", "-i", lab.InterfaceB, "-q", "0", "-d", "60"],
            };
            var cli = new RunningCli(KernelTest.StartAfxdpIn(lab, VethSide.B, args), loop, pcap);
            // Set up once the program is attached (every loop binds its socket first), or once bench -R reports its first second.
            Func<bool> ready = loop.EndsWith("-R", StringComparison.Ordinal)
                ? () => !cli._stderr.IsEmpty
                : () => lab.Run(VethSide.B, () => NetDevice.Get(lab.InterfaceB).Xdp.Any);
            if (!KernelTest.Eventually(() => ready() || cli._process.HasExited, TimeSpan.FromSeconds(60)) || cli._process.HasExited)
                Assert.Fail($"{loop} did not start: {string.Join('\n', cli._stdout.Concat(cli._stderr))}");
            Thread.Sleep(300); // into its loop
            return cli;
        }

        /// <summary>Waits for the exit (within <paramref name="bound"/> of the fault); returns the one line it ended with.</summary>
        public string ExitLine(TimeSpan bound)
        {
            Assert.True(_faultAt != 0, "no fault was made");
            bool exited = _process.WaitForExit(bound + TimeSpan.FromSeconds(10));
            TimeSpan took = Stopwatch.GetElapsedTime(_faultAt);
            string output = string.Join('\n', _stdout.Concat(_stderr));
            Assert.True(exited, $"{_what} still runs {took.TotalSeconds:0.0} s after the fault:\n{output}");
            _process.WaitForExit(); // the output handlers drain
            Assert.True(took <= bound, $"{_what} took {took.TotalSeconds:0.00} s to exit after the fault command started (bound {bound.TotalSeconds} s)");
            Assert.True(_process.ExitCode == 1, $"{_what} exited {_process.ExitCode}:\n{output}");
            Assert.DoesNotContain("   at ", output);
            string last = _stderr.LastOrDefault() ?? "";
            Assert.True(last.Length > 0 && !last.StartsWith('['), $"{_what} ended without a line naming the fault:\n{output}");
            return last;
        }

        public void Dispose()
        {
            if (!_process.HasExited)
                _process.Kill();
            _process.WaitForExit();
            _process.Dispose();
            if (_file is not null)
                File.Delete(_file);
        }
    }
}
