using System.Reflection;
using AfXdp.Interop;

namespace AfXdp.Testing;

/// <summary>One program of <c>ExternalTools.txt</c>: the program (or a file), its Debian package, and what it is for.</summary>
internal sealed record ExternalTool(string Program, string Package, string UsedFor)
{
    /// <summary>True when the program is on PATH (or, for a path, the file exists).</summary>
    public bool IsInstalled => ExternalTools.Find(Program) is not null;

    /// <summary>"tcpdump is missing: apt-get install tcpdump".</summary>
    public string Missing => $"{Program} is missing: apt-get install {Package}";
}

/// <summary>
/// The programs the lab and the tests run and the Debian package of each, read from the embedded
/// table ExternalTools.txt (which ./test.sh reads to install them), so that a missing one is named
/// with its package instead of failing as "file not found" somewhere.
/// </summary>
internal static class ExternalTools
{
    static readonly Lazy<IReadOnlyList<ExternalTool>> Table = new(Load);

    /// <summary>Every row of the table, in its order.</summary>
    public static IReadOnlyList<ExternalTool> All => Table.Value;

    /// <summary>The row for <paramref name="program"/>, or null when the table does not list it.</summary>
    public static ExternalTool? Of(string program) => All.FirstOrDefault(t => t.Program == program);

    /// <summary>Throws an <see cref="AfXdpException"/> naming the program and its package when <paramref name="program"/> is not installed.</summary>
    public static void Require(string program, string? commandLine = null)
    {
        if (Find(program) is not null)
            return;
        ExternalTool? tool = Of(program);
        throw new AfXdpException(commandLine ?? program, Errno.ENOENT,
            tool is null ? $"{program} is missing: it is not on PATH." : $"{tool.Missing} ({tool.UsedFor}).",
            tool is null ? "install the package that has it, or put it on PATH." : $"`apt-get install {tool.Package}`, or `./test.sh`, which installs every package the tests need.");
    }

    /// <summary>The full path of <paramref name="program"/> on PATH (a path is taken as is), or null.</summary>
    internal static string? Find(string program)
    {
        if (program.Contains('/'))
            return File.Exists(program) ? program : null;
        foreach (string directory in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(directory, program);
            if (File.Exists(candidate))
                return candidate;
        }
        return null;
    }

    /// <summary>Rows are "program package what-for"; '#' starts a comment line.</summary>
    internal static IReadOnlyList<ExternalTool> Parse(string text) =>
        [.. text.Split('\n')
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(line => line.Split((char[]?)null, 3, StringSplitOptions.RemoveEmptyEntries))
            .Select(fields => new ExternalTool(fields[0], fields[1], fields.Length > 2 ? fields[2] : ""))];

    static IReadOnlyList<ExternalTool> Load()
    {
        using Stream stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("ExternalTools.txt")
            ?? throw new InvalidOperationException("the embedded table ExternalTools.txt is missing from the assembly");
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd());
    }
}
