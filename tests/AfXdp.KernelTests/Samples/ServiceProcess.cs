using System.Diagnostics;
using System.Reflection;
using System.Text;
using AfXdp.Testing;

namespace AfXdp.KernelTests.Samples;

/// <summary>
/// A service on the Generic Host (samples/DnsResponder, or a project made from the afxdp-udp template) running in one end
/// of a lab, as a user starts it; disposing kills it.
/// </summary>
internal sealed class ServiceProcess : IDisposable
{
    readonly Process _process;
    readonly StringBuilder _output = new();
    readonly TaskCompletionSource _serving = new(TaskCreationOptions.RunContinuationsAsynchronously);

    ServiceProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Line(e.Data);
        _process.ErrorDataReceived += (_, e) => Line(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The built DNS sample (DnsResponder.dll), whose path the project file records at build time.</summary>
    public static string DnsResponderPath
    {
        get
        {
            string path = typeof(ServiceProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "DnsResponderPath").Value!;
            Assert.True(File.Exists(path), $"the DNS sample is not built at {path}: build samples/DnsResponder");
            return System.IO.Path.GetFullPath(path);
        }
    }

    /// <summary>Starts the DNS sample in <paramref name="side"/> with <paramref name="args"/> and waits for its "Serving" log line (or its exit).</summary>
    public static ServiceProcess Start(VethLab lab, VethSide side, params string[] args) =>
        Start(lab, side, new Dictionary<string, string>(), [KernelTest.DotnetHost, DnsResponderPath, .. args]);

    /// <summary>
    /// Runs <paramref name="command"/> (e.g. dotnet and a service's dll) in <paramref name="side"/> with <paramref name="environment"/>
    /// added to its own, and waits for its "Serving" log line (or its exit).
    /// </summary>
    public static ServiceProcess Start(VethLab lab, VethSide side, IReadOnlyDictionary<string, string> environment, IReadOnlyList<string> command)
    {
        var start = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in (string[])["netns", "exec", lab.NamespaceOf(side), .. command])
            start.ArgumentList.Add(arg);
        foreach ((string name, string value) in environment)
            start.Environment[name] = value;
        var responder = new ServiceProcess(Process.Start(start)!);
        Task exited = responder._process.WaitForExitAsync();
        Task.WaitAny([responder._serving.Task, exited], TimeSpan.FromSeconds(30));
        return responder;
    }

    /// <summary>Whether it logged that it serves (event 2300 of the hosting package over AF_XDP, 2400 of the sample with --kernel).</summary>
    public bool Serving => _serving.Task.IsCompleted;

    public bool HasExited => _process.HasExited;

    /// <summary>The process id of the command (`ip netns exec` execs it in place), for tools that attach to it.</summary>
    public int Id => _process.Id;

    /// <summary>Everything it printed so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
                return _output.ToString();
        }
    }

    /// <summary>
    /// Stops it with SIGTERM, as Ctrl-C would, sent to <paramref name="service"/> (a child of the command, when the command
    /// starts it) or else to the command; returns the command's exit code and everything it printed.
    /// </summary>
    public (int ExitCode, string Output) Stop(int? service = null)
    {
        if (!_process.HasExited)
            ExternalCommand.Run("kill", ["-TERM", (service ?? _process.Id).ToString()]);
        if (!_process.WaitForExit(TimeSpan.FromSeconds(20)))
        {
            _process.Kill(entireProcessTree: true);
            Assert.Fail($"the service did not stop within 20 s of SIGTERM:\n{Output}");
        }
        _process.WaitForExit();
        return (_process.ExitCode, Output);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
        _process.Dispose();
    }

    void Line(string? line)
    {
        if (line is null)
            return;
        lock (_output)
            _output.AppendLine(line);
        // The console logger's single-line form: "info: CATEGORY[EVENT] MESSAGE".
        if (line.Contains("[2300] Serving ", StringComparison.Ordinal) || line.Contains("[2400] Serving ", StringComparison.Ordinal))
            _serving.TrySetResult();
    }
}
