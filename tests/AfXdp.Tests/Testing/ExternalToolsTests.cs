using System.Text.RegularExpressions;
using AfXdp.Interop;
using AfXdp.TestShared;
using AfXdp.Testing;

namespace AfXdp.Tests.Testing;

/// <summary>The table of programs the lab and the tests run (ExternalTools.txt) and what a missing one says.</summary>
public partial class ExternalToolsTests
{
    [Fact]
    public void Every_row_names_a_program_a_package_and_what_it_is_for()
    {
        Assert.NotEmpty(ExternalTools.All);
        foreach (ExternalTool tool in ExternalTools.All)
        {
            Assert.Matches(@"^[a-z0-9][a-z0-9.+-]+$", tool.Package);
            Assert.NotEmpty(tool.UsedFor);
        }
        Assert.Equal(ExternalTools.All.Count, ExternalTools.All.Select(t => t.Program).Distinct().Count());
        Assert.Equal("iputils-ping", ExternalTools.Of("ping")!.Package);
    }

    [Fact]
    public void A_missing_program_is_named_with_its_package()
    {
        Assert.Equal("tcpdump is missing: apt-get install tcpdump", ExternalTools.Of("tcpdump")!.Missing);
        Assert.Equal("dig is missing: apt-get install bind9-dnsutils", ExternalTools.Of("dig")!.Missing);
    }

    [Fact]
    public void Running_a_program_that_is_not_installed_is_an_AfXdpException_not_a_Win32Exception()
    {
        var e = Assert.Throws<AfXdpException>(() => ExternalCommand.Run("afxdp-no-such-program", ["--version"]));
        Assert.Equal(Errno.ENOENT, e.Errno);
        Assert.Contains("afxdp-no-such-program is missing", e.Message);
        Assert.Contains("afxdp-no-such-program --version", e.Call);
    }

    [Fact]
    public void A_program_inside_ip_netns_exec_is_checked_too()
    {
        var e = Assert.Throws<AfXdpException>(() => ExternalCommand.Run("ip", ["netns", "exec", "afxdp-none", "afxdp-no-such-program"]));
        Assert.Contains("afxdp-no-such-program is missing", e.Message);
    }

    [Fact]
    public void Test_sh_installs_the_packages_of_this_table()
    {
        string script = File.ReadAllText(Repository.PathOf("test.sh"));
        Assert.Contains("ExternalTools.txt", script);
        Assert.DoesNotContain("tcpdump", script); // the packages come from the table, not from a second list
    }

    // How the tests and the lab start programs: lab.Exec(side, "ping", ...), ExternalCommand.Run("tcpdump", ...),
    // new ProcessStartInfo("setpriv", ...), Process.Start("true"), and "-- PROGRAM" after setpriv or capsh.
    [GeneratedRegex("""(?:\.Exec\([^,()]+,\s*|ExternalCommand\.Run(?:Checked)?\(\s*|ProcessStartInfo\(\s*|Process\.Start\(\s*|"--",\s*)"([a-z][\w.-]*)"[,)]""")]
    private static partial Regex StartedProgram();

    [Fact]
    public void Every_program_the_tests_and_the_lab_start_is_in_the_table()
    {
        string[] sources = [
            .. Directory.EnumerateFiles(Repository.PathOf("tests"), "*.cs", SearchOption.AllDirectories),
            .. Directory.EnumerateFiles(Repository.PathOf("src"), "*.cs", SearchOption.AllDirectories).Where(f => f.Contains("/Lab/") || f.Contains("AfXdp.Testing")),
        ];
        var started = sources.Where(f => !f.Contains("/obj/") && !f.EndsWith(nameof(ExternalToolsTests) + ".cs"))
            .SelectMany(f => StartedProgram().Matches(File.ReadAllText(f)).Select(m => (Program: m.Groups[1].Value, File: Path.GetFileName(f))))
            .ToList();
        Assert.Contains(started, s => s.Program == "ping");
        Assert.Contains(started, s => s.Program == "tcpdump");
        string[] unlisted = [.. started.Where(s => ExternalTools.Of(s.Program) is null && s.Program != "dotnet").Select(s => $"{s.Program} ({s.File})").Distinct()];
        Assert.True(unlisted.Length == 0, $"started by the tests but not in src/AfXdp.Testing/ExternalTools.txt: {string.Join(", ", unlisted)}");
    }
}
