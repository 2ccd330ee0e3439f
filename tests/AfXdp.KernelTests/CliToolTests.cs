using System.Text.RegularExpressions;
using AfXdp.TestShared;
using AfXdp.Testing;

namespace AfXdp.KernelTests;

/// <summary>The CLI as users get it: installed as a .NET tool, and its option letters, one meaning each.</summary>
public sealed partial class CliToolTests
{
    static readonly string[][] Subcommands =
        [["bench"], ["capture"], ["demo"], ["detach"], ["doctor"], ["echo"], ["engine"], ["handoff-rx"], ["plugin"], ["lab", "up"], ["lab", "down"], ["lab", "status"], ["napi"]];

    [GeneratedRegex(@"^\s+-(?<letter>[a-zA-Z]), (?<long>--[a-z-]+)", RegexOptions.Multiline)]
    private static partial Regex ShortOption();

    [GeneratedRegex(@"^\| `-(?<letter>[a-zA-Z])` \| `(?<long>--[a-z-]+)` \|", RegexOptions.Multiline)]
    private static partial Regex CliDocRow();

    [Fact]
    public void A_short_option_means_the_same_in_every_subcommand_and_docs_cli_lists_it()
    {
        var meanings = new Dictionary<string, HashSet<string>>();
        foreach (string[] subcommand in Subcommands)
        {
            CommandResult help = KernelTest.Afxdp([.. subcommand, "--help"]);
            Assert.True(help.Succeeded, help.Error);
            foreach (Match m in ShortOption().Matches(help.Output))
            {
                if (m.Groups["long"].Value == "--help")
                    continue;
                string letter = m.Groups["letter"].Value;
                meanings.TryAdd(letter, []);
                meanings[letter].Add($"{m.Groups["long"].Value} ({string.Join(' ', subcommand)})");
            }
        }
        Assert.Contains("q", meanings.Keys);
        string[] ambiguous = [.. meanings.Where(m => m.Value.Select(v => v.Split(' ')[0]).Distinct().Count() > 1).Select(m => $"-{m.Key}: {string.Join(", ", m.Value)}")];
        Assert.True(ambiguous.Length == 0, string.Join("; ", ambiguous));

        Dictionary<string, string> listedLetters = CliDocRow().Matches(File.ReadAllText(Repository.PathOf("docs", "cli.md")))
            .ToDictionary(m => m.Groups["letter"].Value, m => m.Groups["long"].Value);
        foreach ((string letter, HashSet<string> uses) in meanings)
        {
            string option = uses.First().Split(' ')[0];
            Assert.True(listedLetters.TryGetValue(letter, out string? listed) && listed == option, $"docs/cli.md's table of option letters lacks -{letter} {option}");
        }
        Assert.Equal(meanings.Keys.Order(), listedLetters.Keys.Order());
    }

    /// <summary>`dotnet pack` and `dotnet tool install` from that package alone, as the README says; the command is afxdp and calls itself so.</summary>
    [Fact]
    public void The_packed_tool_installs_as_afxdp_and_calls_itself_afxdp()
    {
        DirectoryInfo work = Directory.CreateTempSubdirectory("afxdp-tool-");
        try
        {
            string packages = Path.Combine(work.FullName, "packages"), tools = Path.Combine(work.FullName, "tools");
            string project = Repository.PathOf("src", "AfXdp.Cli", "AfXdp.Cli.csproj");
            CommandResult pack = ExternalCommand.Run(KernelTest.DotnetHost, ["pack", project, "-c", "Release", "-o", packages], TimeSpan.FromMinutes(5));
            Assert.True(pack.Succeeded, pack.Output + pack.Error);
            string package = Assert.Single(Directory.GetFiles(packages, "AfXdp.Cli.*.nupkg"), f => !f.EndsWith(".snupkg", StringComparison.Ordinal));
            string version = Path.GetFileNameWithoutExtension(package)["AfXdp.Cli.".Length..];
            // Only the package just made: a NuGet.config with no other source.
            string config = Path.Combine(work.FullName, "nuget.config");
            File.WriteAllText(config, $"""
                <configuration>
                  <packageSources><clear /><add key="local" value="{packages}" /></packageSources>
                </configuration>
                """);

            CommandResult install = ExternalCommand.Run(KernelTest.DotnetHost,
                ["tool", "install", "--tool-path", tools, "--configfile", config, "AfXdp.Cli", "--version", version], TimeSpan.FromMinutes(5));
            Assert.True(install.Succeeded, install.Output + install.Error);
            Assert.Contains("afxdp", install.Output);

            CommandResult help = ExternalCommand.Run(Path.Combine(tools, "afxdp"), ["--help"]);
            Assert.True(help.Succeeded, help.Error);
            Assert.Contains("Usage:\n  afxdp [command] [options]", help.Output);
            CommandResult bad = ExternalCommand.Run(Path.Combine(tools, "afxdp"), ["bench", "-i", "afxdp-none0", "-d", "abc"]);
            Assert.Equal(2, bad.ExitCode);
            Assert.Equal("afxdp bench: --duration: 'abc' is not a number of seconds above 0 and up to 86400", bad.Error.Trim());
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }
}
