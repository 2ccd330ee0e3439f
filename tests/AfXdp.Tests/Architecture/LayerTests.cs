using System.Text.RegularExpressions;
using AfXdp.TestShared;

namespace AfXdp.Tests.Architecture;

/// <summary>
/// The library's layers, written once as data: each folder of src/AfXdp and the folders it may use.
/// Arrows point down only, so no two folders use each other. Every `using AfXdp.X` and every
/// qualified `AfXdp.X.` reference in src/ is checked against it.
/// </summary>
public sealed partial class LayerTests
{
    /// <summary>Folder (namespace under AfXdp) → the folders it may use. "" is the root (AfXdpException, Throw).</summary>
    static readonly Dictionary<string, string[]> s_allowed = new()
    {
        [""] = ["Interop"],
        ["Interop"] = [],
        ["Net"] = [],
        ["Device"] = ["Interop"],
        ["Bpf"] = ["Interop", "Device"],
        ["Xsk"] = ["Interop", "Device", "Bpf"],
        ["DevicePlugin"] = ["Interop", "Device", "Bpf"],
        ["Metrics"] = ["Interop", "Device", "Xsk"],
        ["Diagnostics"] = ["Interop", "Device", "Bpf", "Xsk"],
        ["Engine"] = ["Interop", "Device", "Bpf", "Xsk", "Net", "Metrics"],
        ["Udp"] = ["Interop", "Device", "Bpf", "Xsk", "Net", "Engine", "Metrics"],
    };

    [GeneratedRegex(@"^\s*using\s+(?:static\s+)?AfXdp\.(?<folder>[A-Za-z]+)", RegexOptions.Multiline)]
    private static partial Regex UsingDirective();

    [GeneratedRegex(@"(?<![\w.])AfXdp\.(?<folder>Interop|Device|DevicePlugin|Bpf|Xsk|Net|Metrics|Diagnostics|Engine|Udp)\.")]
    private static partial Regex QualifiedReference();

    static string LibraryRoot => Repository.PathOf("src", "AfXdp");

    [Fact]
    public void EveryFolderOfTheLibraryHasARule()
    {
        string[] folders = [.. Directory.GetDirectories(LibraryRoot).Select(Path.GetFileName).Where(f => f is not ("bin" or "obj"))!];
        Assert.NotEmpty(folders);
        Assert.All(folders, folder => Assert.True(s_allowed.ContainsKey(folder), $"src/AfXdp/{folder} has no layer rule in LayerTests"));
    }

    [Fact]
    public void TheRulesHaveNoCycle()
    {
        foreach (string start in s_allowed.Keys)
        {
            var seen = new HashSet<string>();
            var stack = new Stack<string>(s_allowed[start]);
            while (stack.TryPop(out string? folder))
            {
                Assert.True(folder != start, $"the layer rules let {start} reach itself");
                if (seen.Add(folder))
                    foreach (string below in s_allowed[folder])
                        stack.Push(below);
            }
        }
    }

    [Fact]
    public void NoFileUsesAFolderAboveIt()
    {
        var violations = new List<string>();
        int checkedFiles = 0;
        foreach (string path in Directory.EnumerateFiles(LibraryRoot, "*.cs", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(LibraryRoot, path);
            if (relative.StartsWith("bin" + Path.DirectorySeparatorChar) || relative.StartsWith("obj" + Path.DirectorySeparatorChar))
                continue;
            checkedFiles++;
            string folder = relative.Contains(Path.DirectorySeparatorChar) ? relative[..relative.IndexOf(Path.DirectorySeparatorChar)] : "";
            violations.AddRange(Violations(folder, File.ReadAllText(path)).Select(used => $"src/AfXdp/{relative.Replace('\\', '/')} uses AfXdp.{used}"));
        }
        Assert.True(checkedFiles > 50, $"only {checkedFiles} files found under {LibraryRoot}");
        Assert.True(violations.Count == 0, "layer violations:\n" + string.Join('\n', violations));
    }

    /// <summary>The applications and the device-plugin server live with their user, the afxdp tool: the library package holds the library.</summary>
    [Fact]
    public void TheApplicationsAndThePluginServerAreInTheToolNotTheLibrary()
    {
        string[] applications = ["EchoResponder", "PcapCapture", "CaptureFile", "DevicePluginServer", "DevicePluginPin", "TrustedDirectory", "DescriptorCloser"];
        Assert.Empty(typeof(AfXdp.Xsk.XskSocket).Assembly.GetTypes().Where(t => applications.Contains(t.Name)).Select(t => t.FullName));
        Type[] tool = typeof(AfXdp.Cli.Apps.EchoResponder).Assembly.GetTypes();
        Assert.All(applications, name => Assert.Contains(tool, t => t.Name == name));
    }

    [Theory]
    [InlineData("Bpf", "using AfXdp.Xsk;", "Xsk")]
    [InlineData("Net", "using AfXdp.Interop;", "Interop")]
    [InlineData("", "using AfXdp.Device;", "Device")]
    [InlineData("Xsk", "var x = new AfXdp.Metrics.Thing();", "Metrics")]
    [InlineData("Xsk", "using AfXdp.Bpf;\nusing AfXdp.Device;", null)]
    [InlineData("Xsk", "/// see <see cref=\"AfXdp.Metrics.AfXdpMetrics\"/>\n// AfXdp.Engine.XdpEngine in a comment", null)]
    public void TheCheckSeesUsingsAndQualifiedNames(string folder, string source, string? expected)
    {
        string[] found = [.. Violations(folder, source)];
        Assert.Equal(expected is null ? [] : [expected], found);
    }

    static IEnumerable<string> Violations(string folder, string source)
    {
        // Comments may name any type (cref, prose): only code counts.
        string code = string.Join('\n', source.Split('\n').Select(line => line.TrimStart().StartsWith("//") ? "" : line));
        IEnumerable<string> used = UsingDirective().Matches(code).Concat(QualifiedReference().Matches(code)).Select(m => m.Groups["folder"].Value);
        return used.Distinct().Where(u => u != folder && !s_allowed[folder].Contains(u));
    }
}
