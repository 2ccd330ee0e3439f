using System.Reflection;
using AfXdp.Testing;

namespace AfXdp.KernelTests;

/// <summary>What every kernel test needs: root, and a look at the namespaces it may leave behind.</summary>
internal static class KernelTest
{
    /// <summary>Fails (not skips) without root: CI runs these tests as root, so a skip would hide a broken setup.</summary>
    public static void RequireRoot()
    {
        if (!Environment.IsPrivilegedProcess)
            Assert.Fail("kernel tests need root (namespaces, veth, XDP): run `sudo dotnet test tests/AfXdp.KernelTests`.");
    }

    /// <summary>The names `ip netns list` prints (each line is "NAME" or "NAME (id: N)").</summary>
    public static HashSet<string> NetworkNamespaces() =>
        ExternalCommand.RunChecked("ip", "netns", "list")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ')[0])
            .ToHashSet();

    /// <summary>The identity of the calling thread's network namespace, e.g. "net:[4026531840]".</summary>
    public static string CurrentNetworkNamespace() =>
        File.ResolveLinkTarget("/proc/thread-self/ns/net", returnFinalTarget: false)!.Name;

    /// <summary>Every thread of this process: its name (comm, e.g. ".NET Timer") and its network namespace (threads that end while being read are left out).</summary>
    public static List<(string Name, string NetworkNamespace)> ThreadNetworkNamespaces()
    {
        var threads = new List<(string, string)>();
        foreach (string task in Directory.GetDirectories("/proc/self/task"))
        {
            try
            {
                threads.Add((File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n'),
                    File.ResolveLinkTarget(Path.Combine(task, "ns/net"), returnFinalTarget: false)!.Name));
            }
            catch (IOException)
            {
            }
        }
        return threads;
    }

    /// <summary>The built CLI (AfXdp.Cli.dll), whose path the project file records at build time.</summary>
    public static string CliPath()
    {
        string path = typeof(KernelTest).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "AfXdpCliPath").Value!;
        Assert.True(File.Exists(path), $"the CLI is not built at {path}: build src/AfXdp.Cli");
        return Path.GetFullPath(path);
    }

    /// <summary>Runs the built CLI as a user would, in its own process.</summary>
    public static CommandResult Afxdp(params string[] args) =>
        ExternalCommand.Run(DotnetHost, [CliPath(), .. args]);

    /// <summary>Runs the built CLI inside one end of a lab (`ip netns exec`).</summary>
    public static CommandResult AfxdpIn(VethLab lab, VethSide side, params string[] args) =>
        lab.Exec(side, DotnetHost, [CliPath(), .. args]);

    /// <summary>
    /// Runs the CLI inside one end of a lab with capabilities dropped from its bounding set
    /// (`capsh --drop=...`), after <paramref name="shellPrefix"/> (e.g. "ulimit -l 1024 && ").
    /// </summary>
    public static CommandResult AfxdpWithout(VethLab lab, VethSide side, string droppedCapabilities, string shellPrefix, string arguments) =>
        lab.Exec(side, "capsh", $"--drop={droppedCapabilities}", "--", "-c", $"{shellPrefix}exec {DotnetHost} {CliPath()} {arguments}");

    /// <summary>Starts the CLI inside one end of a lab without waiting for it.</summary>
    public static System.Diagnostics.Process StartAfxdpIn(VethLab lab, VethSide side, params string[] args) =>
        StartAfxdpIn(lab, side, new Dictionary<string, string>(), args);

    /// <summary>As <see cref="StartAfxdpIn(VethLab, VethSide, string[])"/>, with <paramref name="environment"/> added to the child's environment.</summary>
    public static System.Diagnostics.Process StartAfxdpIn(VethLab lab, VethSide side, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = new System.Diagnostics.ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in (string[])["netns", "exec", lab.NamespaceOf(side), DotnetHost, CliPath(), .. args])
            start.ArgumentList.Add(arg);
        foreach ((string name, string value) in environment)
            start.Environment[name] = value;
        return System.Diagnostics.Process.Start(start)!;
    }

    public static string DotnetHost => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";

    /// <summary>Polls <paramref name="condition"/> every 50 ms until it holds or <paramref name="timeout"/> passes.</summary>
    public static bool Eventually(Func<bool> condition, TimeSpan timeout)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout)
                return false;
            Thread.Sleep(50);
        }
        return true;
    }
}
