namespace AfXdp.Cli.Bench;

/// <summary>
/// How far `afxdp bench` got, for the kill test: when the environment variable AFXDP_PHASE_FILE names
/// a file, each phase of setup and the ids of the kernel objects made in it are appended there as one
/// line each ("umem", "socket", "program 12 map 7 link 3", "attached", "receiving"), each written
/// with its own write(2), so a SIGKILL right after loses none. Unset, it does nothing.
/// </summary>
internal static class PhaseReport
{
    const string Variable = "AFXDP_PHASE_FILE";

    static readonly FileStream? s_file = Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } path
        ? new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0)
        : null;

    /// <summary>True when AFXDP_PHASE_FILE is set: a caller guards lines that cost something to build.</summary>
    public static bool Enabled => s_file is not null;

    /// <summary>Appends one line when reporting is on.</summary>
    public static void Write(string line)
    {
        if (s_file is null)
            return;
        s_file.Write(System.Text.Encoding.ASCII.GetBytes(line + "\n"));
    }
}
