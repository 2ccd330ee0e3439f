using System.Diagnostics;
using AfXdp.Device;
using AfXdp.Interop;
using AfXdp.Testing;
using Microsoft.Win32.SafeHandles;

namespace AfXdp.KernelTests.Reliability;

/// <summary>
/// SIGKILL at chosen and random moments: `afxdp bench` on end B (l2fwd and rxdrop, skb and drv), fed by a
/// txonly bench on end A. The child reports each phase of its setup as it reaches it, with the ids of the
/// kernel objects it made (AFXDP_PHASE_FILE: started, umem, socket, program/maps/link, attached, receiving),
/// so the test knows where each kill landed and what to look for: one run in five is killed as soon as the
/// child reports a phase of setup (each in turn, or 0-1 s into start-up), the others 0-300 ms after it reported
/// itself attached; at least 70 % must land after attach, and some during setup. After every kill nothing may be left: none of the programs, maps and links the
/// child reported (looked up by id; any answer but ENOENT fails the test), no XDP program on the interface,
/// no AF_XDP socket in the namespace (the kernel's own count, /proc/net/protocols), and nothing pinned in
/// the child's mount namespace (`ip netns exec` gives it its own: held open across the kill and searched with
/// nsenter). 100 runs; AFXDP_KILL_RUNS changes the count.
/// </summary>
public sealed class KillTests
{
    static int Runs => int.TryParse(Environment.GetEnvironmentVariable("AFXDP_KILL_RUNS"), out int n) && n > 0 ? n : 100;

    static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    /// <summary>The phases in the order the child reaches them; "(none)" when it was killed before it reported any.</summary>
    static readonly string[] Phases = ["(none)", "started", "umem", "socket", "program", "attached", "receiving"];

    /// <summary>What the child reported before it died: its last phase and the kernel objects it made.</summary>
    sealed record Report(string Phase, List<uint> Programs, List<uint> Maps, List<uint> Links)
    {
        public bool AfterAttach => Phase is "attached" or "receiving";

        /// <summary>Parses the phase file: one phase per line; "program P maps M1,M2 link L" carries the ids.</summary>
        public static Report Read(string path)
        {
            var report = new Report("(none)", [], [], []);
            string[] lines = File.Exists(path) ? File.ReadAllLines(path) : [];
            foreach (string line in lines.Where(l => l.Length > 0))
            {
                string[] words = line.Split(' ');
                Assert.True(Phases.Contains(words[0]), $"unknown phase line '{line}' in {path}");
                if (words[0] == "program")
                {
                    report.Programs.Add(uint.Parse(words[1]));
                    report.Maps.AddRange(words[3].Split(',').Select(uint.Parse));
                    report.Links.Add(uint.Parse(words[5]));
                }
                report = report with { Phase = words[0] };
            }
            return report;
        }
    }

    [Fact]
    public void A_bench_killed_at_random_moments_leaves_nothing_behind()
    {
        KernelTest.RequireRoot();
        int seed = Environment.TickCount;
        var random = new Random(seed);
        var landed = new SortedDictionary<int, int>();
        using VethLab lab = VethLab.Create();
        using Process feeder = KernelTest.StartAfxdpIn(lab, VethSide.A, "bench", "-i", lab.InterfaceA, "-m", "txonly", "-a", "drv", "-c", "copy",
            "-d", "900", "--dmac", lab.MacB);
        string ownMountNamespace = File.ResolveLinkTarget("/proc/self/ns/mnt", returnFinalTarget: false)!.Name;
        try
        {
            for (int run = 0; run < Runs; run++)
            {
                string attach = run % 2 == 0 ? "skb" : "drv", mode = run / 2 % 2 == 0 ? "l2fwd" : "rxdrop";
                string phaseFile = Path.Combine(Path.GetTempPath(), $"afxdp-kill-{Environment.ProcessId}-{run}.phases");
                File.Delete(phaseFile);
                using Process child = KernelTest.StartAfxdpIn(lab, VethSide.B, new Dictionary<string, string> { ["AFXDP_PHASE_FILE"] = phaseFile },
                    "bench", "-i", lab.InterfaceB, "-m", mode, "-a", attach, "-c", "copy", "-d", "60");
                try
                {
                    // One run in five aims at a phase of setup in turn (or a random moment of start-up); the rest at receiving.
                    string aim = run % 5 == 0 ? Phases[run / 5 % Array.IndexOf(Phases, "attached")] : "attached";
                    int aimed = Array.IndexOf(Phases, aim);
                    Assert.True(KernelTest.Eventually(() => Array.IndexOf(Phases, Report.Read(phaseFile).Phase) >= aimed || child.HasExited, TimeSpan.FromSeconds(60)),
                        $"run {run}: the child did not report {aim} within 60 s");
                    int delay = aim == "(none)" ? random.Next(0, 1001) : aim == "attached" ? random.Next(0, 301) : 0;
                    Thread.Sleep(delay);
                    // Held across the kill: the child's mount namespace outlives it while this handle is open, so it can be searched.
                    using SafeFileHandle? mountNamespace = child.HasExited ? null : OpenMountNamespace(child.Id);
                    if (mountNamespace is null)
                    {
                        // Gone from /proc before .NET has reaped it, or reaped: either way it ended on its own.
                        child.WaitForExit(10_000);
                        Assert.Fail($"run {run}: the child ended before the kill (exit {(child.HasExited ? child.ExitCode : -1)}, phase {Report.Read(phaseFile).Phase}): " +
                            $"{child.StandardOutput.ReadToEnd()} {child.StandardError.ReadToEnd()}");
                    }
                    bool ownNamespace = File.ResolveLinkTarget(HandlePath(mountNamespace), returnFinalTarget: false)?.Name != ownMountNamespace;
                    child.Kill();
                    Assert.True(child.WaitForExit(10_000), $"run {run}: the child did not die");
                    Report report = Report.Read(phaseFile);
                    string context = $"run {run} (seed {seed}): {mode} -a {attach} killed {delay} ms after it reported {aim}, in phase {report.Phase}";
                    Assert.True(child.ExitCode == 137, $"{context}: exit code {child.ExitCode}: {child.StandardOutput.ReadToEnd()} {child.StandardError.ReadToEnd()}");
                    if (Array.IndexOf(Phases, report.Phase) >= Array.IndexOf(Phases, "program"))
                        Assert.True(report.Programs.Count == 1 && report.Maps.Count >= 1 && report.Links.All(l => l != 0), $"{context}: the report lacks the objects it made");
                    landed[Array.IndexOf(Phases, report.Phase)] = landed.GetValueOrDefault(Array.IndexOf(Phases, report.Phase)) + 1;
                    AssertNothingLeft(lab, report, mountNamespace, ownNamespace, context);
                }
                finally
                {
                    if (!child.HasExited)
                        child.Kill(); // a failed run leaves no bench behind
                    File.Delete(phaseFile);
                }
            }
        }
        finally
        {
            feeder.Kill();
            feeder.WaitForExit(10_000);
        }
        string figures = $"{Runs} SIGKILLs (seed {seed}), by the phase they landed in: {string.Join(", ", landed.Select(p => $"{Phases[p.Key]} {p.Value}"))}";
        TestContext.Current.TestOutputHelper?.WriteLine(figures);
        Console.Error.WriteLine(figures);
        int afterAttach = landed.Where(p => p.Key >= Array.IndexOf(Phases, "attached")).Sum(p => p.Value);
        Assert.True(afterAttach * 10 >= Runs * 7, $"only {afterAttach} of {Runs} kills landed after attach: {figures}");
        Assert.True(landed.Keys.Any(p => p < Array.IndexOf(Phases, "attached")), $"no kill landed during setup: {figures}");
    }

    static void AssertNothingLeft(VethLab lab, Report report, SafeFileHandle mountNamespace, bool ownNamespace, string context)
    {
        foreach (uint id in report.Programs)
            Assert.True(KernelTest.Eventually(() => !Exists(Sys.BPF_PROG_GET_FD_BY_ID, id), Bound), $"{context}: program {id} outlived its process");
        foreach (uint id in report.Maps)
            Assert.True(KernelTest.Eventually(() => !Exists(Sys.BPF_MAP_GET_FD_BY_ID, id), Bound), $"{context}: map {id} outlived its process");
        foreach (uint id in report.Links)
            Assert.True(KernelTest.Eventually(() => !Exists(Sys.BPF_LINK_GET_FD_BY_ID, id), Bound), $"{context}: link {id} outlived its process");
        Assert.True(KernelTest.Eventually(() => !lab.Run(VethSide.B, () => NetDevice.Get(lab.InterfaceB)).Xdp.Any, Bound),
            $"{context}: an XDP program is still attached to {lab.InterfaceB}");
        Assert.True(KernelTest.Eventually(() => XdpSockets(lab) == 0, Bound), $"{context}: {XdpSockets(lab)} AF_XDP socket(s) left in {lab.NamespaceB}");
        if (ownNamespace)
            Assert.True(PinsIn(mountNamespace, context) is "", $"{context}: pinned in the child's mount namespace: {PinsIn(mountNamespace, context)}");
    }

    /// <summary>The path through which other processes reach a descriptor of this one.</summary>
    static string HandlePath(SafeFileHandle handle) => $"/proc/{Environment.ProcessId}/fd/{handle.DangerousGetHandle()}";

    static SafeFileHandle? OpenMountNamespace(int pid)
    {
        try
        {
            return File.OpenHandle($"/proc/{pid}/ns/mnt");
        }
        catch (IOException)
        {
            return null; // the process is gone
        }
    }

    /// <summary>True while the kernel has the object; false once it says ENOENT; any other answer fails the test.</summary>
    static bool Exists(int command, uint id)
    {
        var attr = new bpf_attr_get_id { id = id };
        int fd = Sys.Bpf(command, ref attr, out int errno);
        if (fd >= 0)
        {
            Sys.Close(fd);
            return true;
        }
        Assert.True(errno == Errno.ENOENT, $"bpf(command {command}, id {id}) failed with {Errno.Name(errno)}, which says nothing about whether it is gone");
        return false;
    }

    /// <summary>The kernel's count of AF_XDP sockets in B's namespace: the "sockets" column of the XDP row of /proc/net/protocols.</summary>
    static int XdpSockets(VethLab lab)
    {
        CommandResult protocols = lab.Exec(VethSide.B, "cat", "/proc/net/protocols");
        Assert.True(protocols.Succeeded, "reading /proc/net/protocols failed: " + protocols.Error);
        string? row = protocols.Output.Split('\n').FirstOrDefault(line => line.StartsWith("XDP ", StringComparison.Ordinal));
        Assert.True(row is not null, "/proc/net/protocols has no XDP row (a kernel without CONFIG_XDP_SOCKETS?):\n" + protocols.Output);
        return int.Parse(row.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2]);
    }

    /// <summary>Everything named afxdp* under /sys/fs/bpf in the (dead) child's mount namespace; a failing nsenter or find fails the test.</summary>
    static string PinsIn(SafeFileHandle mountNamespace, string context)
    {
        CommandResult find = ExternalCommand.Run("nsenter", [$"--mount={HandlePath(mountNamespace)}", "--", "sh", "-c",
            "if [ -d /sys/fs/bpf ]; then find /sys/fs/bpf -name 'afxdp*'; fi"]);
        Assert.True(find.Succeeded, $"{context}: searching the child's mount namespace failed (nsenter is in util-linux): {find.Error}");
        return find.Output.Trim();
    }
}
