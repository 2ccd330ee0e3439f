using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;
using AfXdp.Interop;

namespace AfXdp.Testing;

/// <summary>What a finished external command (ip, ping, ethtool) exited with and printed.</summary>
public sealed record CommandResult(string CommandLine, int ExitCode, string Output, string Error)
{
    /// <summary>True when the command exited with code 0.</summary>
    public bool Succeeded => ExitCode == 0;
}

/// <summary>Runs the system tools the lab is built with; every run is bounded in time.</summary>
internal static class ExternalCommand
{
    internal static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    const int ETIMEDOUT = 110; // asm-generic/errno.h

    /// <summary>Runs <paramref name="program"/> and returns what it printed; throws only when it cannot be started or does not finish in time.</summary>
    internal static CommandResult Run(string program, IReadOnlyList<string> args, TimeSpan? timeout = null)
    {
        string commandLine = Format(program, args);
        var start = new ProcessStartInfo(program)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string arg in args)
            start.ArgumentList.Add(arg);

        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (Win32Exception e) when (e.NativeErrorCode == Errno.ENOENT)
        {
            throw new AfXdpException(commandLine, Errno.ENOENT, $"`{program}` is not installed or not on PATH.",
                "install it: the lab needs iproute2 (`ip`), and ethtool for the GRO option, e.g. `apt-get install iproute2 ethtool iputils-ping`.", e);
        }
        using (process)
        {
            process.StandardInput.Close();
            // Both pipes are drained concurrently, so a chatty tool cannot block on a full pipe.
            Task<string> output = process.StandardOutput.ReadToEndAsync();
            Task<string> error = process.StandardError.ReadToEndAsync();
            TimeSpan limit = timeout ?? DefaultTimeout;
            if (!process.WaitForExit(limit))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                throw new AfXdpException(commandLine, ETIMEDOUT, $"the command did not finish within {limit.TotalSeconds:0} s.",
                    "run it by hand to see where it hangs.");
            }
            process.WaitForExit(); // lets the pipe readers reach end of stream
            return new CommandResult(commandLine, process.ExitCode, output.Result, error.Result);
        }
    }

    /// <summary>Runs <paramref name="program"/> and throws an <see cref="AfXdpException"/> naming the command and its stderr when it fails.</summary>
    internal static string RunChecked(string program, params IReadOnlyList<string> args)
    {
        CommandResult result = Run(program, args);
        if (result.Succeeded)
            return result.Output;

        string error = result.Error.Trim();
        int errno = ErrnoIn(error);
        string fix = errno switch
        {
            Errno.EPERM or Errno.EACCES => "run as root: the lab needs CAP_SYS_ADMIN and CAP_NET_ADMIN.",
            Errno.EEXIST => "something of that name is left over: `afxdp lab down`, or `ip netns del NAME` for the names `ip netns list` shows.",
            _ => "run the command by hand to see the whole error.",
        };
        throw new AfXdpException(result.CommandLine, errno,
            $"`{program}` exited with status {result.ExitCode}: {(error.Length == 0 ? "(no message)" : error)}", fix);
    }

    /// <summary>
    /// The errno behind a tool's message such as "RTNETLINK answers: File exists", found by matching
    /// the text after the last colon of a line against strerror; 0 when no line carries one.
    /// </summary>
    internal static int ErrnoIn(string message)
    {
        foreach (string line in message.Split('\n'))
        {
            int colon = line.LastIndexOf(": ", StringComparison.Ordinal);
            if (colon < 0)
                continue;
            string text = line[(colon + 2)..].Trim().TrimEnd('.');
            for (int errno = 1; errno < 134; errno++) // 133 = EHWPOISON, the last in asm-generic/errno.h
                if (text == Marshal.GetPInvokeErrorMessage(errno))
                    return errno;
        }
        return 0;
    }

    static string Format(string program, IEnumerable<string> args) =>
        string.Join(' ', args.Prepend(program).Select(a => a.Length == 0 || a.Contains(' ') ? $"'{a}'" : a));
}
