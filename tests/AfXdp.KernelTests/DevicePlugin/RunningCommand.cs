using System.Collections.Concurrent;
using System.Diagnostics;
using AfXdp.Testing;

namespace AfXdp.KernelTests.DevicePlugin;

/// <summary>
/// A command running in the background (the plugin, an unprivileged client): its output collected line by line, so
/// that a test waits for "serving ..." or "capturing ..." before it goes on; killed on Dispose if still running.
/// </summary>
internal sealed class RunningCommand : IDisposable
{
    /// <summary>The capabilities a pod under the device plugin has: CAP_NET_RAW, and CAP_IPC_LOCK for a UMEM above RLIMIT_MEMLOCK.</summary>
    public const string PodCapabilities = "-all,+net_raw,+ipc_lock";

    /// <summary>CapEff with exactly CAP_NET_RAW (13) and CAP_IPC_LOCK (14).</summary>
    public const string PodCapEff = "CapEff:\t0000000000006000";

    readonly Process _process;
    readonly ConcurrentQueue<string> _output = new();
    readonly ConcurrentQueue<string> _error = new();

    RunningCommand(string program, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in args)
            start.ArgumentList.Add(arg);
        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) _output.Enqueue(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _error.Enqueue(e.Data); };
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>
    /// The tests stop these commands as Ctrl-C does, with SIGINT. A test run started in the background of a
    /// non-interactive shell (`./test.sh &amp;`) inherits SIGINT ignored, and .NET keeps an inherited ignore, so
    /// the commands start with SIGINT back at its default (`env --default-signal`), as a terminal's would.
    /// </summary>
    const string DefaultSigint = "--default-signal=INT";

    /// <summary>`afxdp ARGS` as root inside one end of the lab.</summary>
    public static RunningCommand Afxdp(VethLab lab, VethSide side, params string[] args) =>
        new("ip", ["netns", "exec", lab.NamespaceOf(side), "env", DefaultSigint, KernelTest.DotnetHost, KernelTest.CliPath(), .. args]);

    /// <summary>
    /// `afxdp ARGS` inside side B as a pod under the device plugin runs: uid/gid 65534, no groups, and only
    /// CAP_NET_RAW and CAP_IPC_LOCK (bounding, inheritable and ambient sets); it first prints its CapEff line.
    /// </summary>
    public static RunningCommand Unprivileged(VethLab lab, string arguments) =>
        new("ip", ["netns", "exec", lab.NamespaceB, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
            $"--inh-caps={PodCapabilities}", $"--ambient-caps={PodCapabilities}", $"--bounding-set={PodCapabilities}", "--",
            "sh", "-c", $"grep CapEff /proc/self/status; id -u; exec env {DefaultSigint} HOME=/tmp {KernelTest.DotnetHost} {KernelTest.CliPath()} {arguments}"]);

    /// <summary>A shell line as root inside one end of the lab (e.g. with another umask).</summary>
    public static RunningCommand ShellIn(VethLab lab, VethSide side, string line) =>
        new("ip", ["netns", "exec", lab.NamespaceOf(side), "env", DefaultSigint, "sh", "-c", line]);

    /// <summary>`PROGRAM ARGS` as an unprivileged local user: uid/gid 65534, no groups, no capabilities.</summary>
    public static RunningCommand AsNobody(string program, params string[] args) =>
        new("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--ambient-caps=-all", "--bounding-set=-all", "--", program, .. args]);

    public string Output => string.Join('\n', _output);

    public string Error => string.Join('\n', _error);

    public int ExitCode => _process.ExitCode;

    /// <summary>Waits for a line of stdout containing <paramref name="text"/>; fails with everything printed when none comes.</summary>
    public string WaitForLine(string text, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (_output.FirstOrDefault(line => line.Contains(text, StringComparison.Ordinal)) is { } line)
                return line;
            if (_process.HasExited)
                break;
            Thread.Sleep(50);
        }
        Assert.Fail($"no line with \"{text}\" within {timeout.TotalSeconds:0} s (exited: {_process.HasExited}).\nstdout:\n{Output}\nstderr:\n{Error}");
        return "";
    }

    /// <summary>Sends a signal (TERM, INT) as Ctrl-C or a service manager would.</summary>
    public void Signal(string name) => ExternalCommand.RunChecked("kill", "-s", name, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Waits for the exit and the last of the output; fails naming the command when it does not end.</summary>
    public int WaitForExit(TimeSpan timeout)
    {
        Assert.True(_process.WaitForExit(timeout), $"still running after {timeout.TotalSeconds:0} s.\nstdout:\n{Output}\nstderr:\n{Error}");
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        _process.Dispose();
    }
}
