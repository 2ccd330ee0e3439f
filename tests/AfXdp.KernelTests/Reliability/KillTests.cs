using System.Diagnostics;
using AfXdp.Bpf;
using AfXdp.Device;
using AfXdp.Testing;
using AfXdp.Xsk;

namespace AfXdp.KernelTests.Reliability;

/// <summary>
/// SIGKILL at random moments: `afxdp bench` on end B (l2fwd and rxdrop, skb and drv), fed by a txonly bench
/// on end A, killed 0-500 ms after it started: while the runtime starts, while it sets up, while it moves
/// packets. After every kill nothing may be left: no XDP program on the interface, none of the child's
/// programs, maps or links in the kernel, no AF_XDP socket in the namespace, nothing pinned.
/// 100 runs; AFXDP_KILL_RUNS changes the count.
/// </summary>
public sealed class KillTests
{
    static int Runs => int.TryParse(Environment.GetEnvironmentVariable("AFXDP_KILL_RUNS"), out int n) && n > 0 ? n : 100;

    static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    /// <summary>The BPF objects a process holds, from /proc/PID/fdinfo of its anon_inode:bpf-* descriptors.</summary>
    sealed record BpfObjects(List<uint> Programs, List<uint> Maps, List<uint> Links);

    [Fact]
    public void A_bench_killed_at_random_moments_leaves_nothing_behind()
    {
        KernelTest.RequireRoot();
        int seed = Environment.TickCount;
        var random = new Random(seed);
        var phases = new SortedDictionary<string, int>();
        using VethLab lab = VethLab.Create();
        using Process feeder = KernelTest.StartAfxdpIn(lab, VethSide.A, "bench", "-i", lab.InterfaceA, "-m", "txonly", "-a", "drv", "-c", "copy",
            "-d", "600", "--dmac", lab.MacB);
        try
        {
            for (int run = 0; run < Runs; run++)
            {
                string attach = run % 2 == 0 ? "skb" : "drv", mode = run / 2 % 2 == 0 ? "l2fwd" : "rxdrop";
                int delay = random.Next(0, 501);
                using Process child = KernelTest.StartAfxdpIn(lab, VethSide.B, "bench", "-i", lab.InterfaceB, "-m", mode, "-a", attach, "-c", "copy", "-d", "60");
                Thread.Sleep(delay);
                BpfObjects held = Held(child.Id);
                string phase = held.Links.Count > 0 ? "attached, moving packets" : held.Programs.Count + held.Maps.Count > 0 ? "setting up the program" : "starting (runtime, UMEM, socket)";
                child.Kill();
                string context = $"run {run} (seed {seed}): {mode} -a {attach} killed after {delay} ms while {phase}";
                Assert.True(child.WaitForExit(10_000), $"{context}: the child did not die");
                Assert.True(child.ExitCode == 137, $"{context}: exit code {child.ExitCode}: {child.StandardError.ReadToEnd()}");
                phases[phase] = phases.GetValueOrDefault(phase) + 1;
                AssertNothingLeft(lab, held, context);
            }
        }
        finally
        {
            feeder.Kill();
            feeder.WaitForExit(10_000);
        }
        Assert.False(Directory.Exists("/sys/fs/bpf") && Directory.EnumerateFileSystemEntries("/sys/fs/bpf", "afxdp*", SearchOption.AllDirectories).Any(),
            "something named afxdp is pinned under /sys/fs/bpf");
        string figures = $"{Runs} SIGKILLs (seed {seed}): {string.Join(", ", phases.Select(p => $"{p.Value} {p.Key}"))}";
        TestContext.Current.TestOutputHelper?.WriteLine(figures);
        Console.Error.WriteLine(figures);
    }

    static void AssertNothingLeft(VethLab lab, BpfObjects held, string context)
    {
        Assert.True(KernelTest.Eventually(() => !lab.Run(VethSide.B, () => NetDevice.Get(lab.InterfaceB)).Xdp.Any, Bound),
            $"{context}: an XDP program is still attached to {lab.InterfaceB}");
        foreach (uint id in held.Programs)
            Assert.True(KernelTest.Eventually(() => !FaultTests.ProgramExists(id), Bound), $"{context}: program {id} outlived its process");
        foreach (uint id in held.Maps)
            Assert.True(KernelTest.Eventually(() => !Exists("map", id), Bound), $"{context}: map {id} outlived its process");
        foreach (uint id in held.Links)
            Assert.True(KernelTest.Eventually(() => !Exists("link", id), Bound), $"{context}: link {id} outlived its process");
        Assert.True(KernelTest.Eventually(() => lab.Exec(VethSide.B, "ss", "-f", "xdp", "-a", "-n", "-H").Output.Trim().Length == 0, Bound),
            $"{context}: an AF_XDP socket is left in {lab.NamespaceB}");
    }

    static bool Exists(string kind, uint id) => ExternalCommand.Run("bpftool", [kind, "show", "id", id.ToString()]).Succeeded;

    /// <summary>The program, map and link ids behind the process's anon_inode:bpf-* descriptors (empty once it is gone).</summary>
    static BpfObjects Held(int pid)
    {
        var held = new BpfObjects([], [], []);
        try
        {
            foreach (string fd in Directory.EnumerateFiles($"/proc/{pid}/fd"))
            {
                string? target = File.ResolveLinkTarget(fd, returnFinalTarget: false)?.Name;
                if (target is null || !target.StartsWith("anon_inode:bpf", StringComparison.Ordinal))
                    continue;
                foreach (string line in File.ReadLines($"/proc/{pid}/fdinfo/{Path.GetFileName(fd)}"))
                {
                    string[] field = line.Split(':', StringSplitOptions.TrimEntries);
                    List<uint>? into = (target, field[0]) switch
                    {
                        ("anon_inode:bpf-prog", "prog_id") => held.Programs,
                        ("anon_inode:bpf-map", "map_id") => held.Maps,
                        ("anon_inode:bpf_link", "link_id") => held.Links,
                        _ => null,
                    };
                    into?.Add(uint.Parse(field[1]));
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The process ended (or closed the descriptor) while being read: what was read stands.
        }
        return held;
    }
}
