using System.Text.RegularExpressions;
using AfXdp.TestShared;

namespace AfXdp.Tests.Docs;

/// <summary>
/// Every C# block of the guide (docs/guide/*.md) and of docs/hosting.md is compiled: each appears line for line
/// in a <c>#region</c> of a test source file (mostly <see cref="GuideExamples"/>; the README's and the guide's
/// loops in the kernel tests, which also run them).
/// </summary>
public sealed partial class GuideExampleTests
{
    [GeneratedRegex(@"^```csharp\r?\n(?<body>.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();

    [GeneratedRegex(@"^[ \t]*#region [^\r\n]*\r?\n(?<body>.*?)\r?\n[ \t]*#endregion", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex Region();

    public static TheoryData<string> Documents() =>
        [.. Directory.GetFiles(Repository.PathOf("docs", "guide"), "*.md").Order().Select(p => Path.GetRelativePath(Repository.Root, p)),
            Path.Combine("docs", "hosting.md")];

    [Theory]
    [MemberData(nameof(Documents))]
    public void Every_CSharp_block_in_the_document_is_a_compiled_region(string document)
    {
        string[] compiled = CompiledRegions();
        var missing = new List<string>();
        foreach (Match block in CSharpBlock().Matches(File.ReadAllText(Repository.PathOf(document))))
        {
            string code = Normalize(block.Groups["body"].Value);
            if (!compiled.Contains(code))
                missing.Add(code.Split('\n')[0]);
        }
        Assert.True(missing.Count == 0, $"{document}: C# blocks not found as a #region in tests/**/*.cs (first lines): {string.Join(" | ", missing)}");
    }

    [Fact]
    public void The_guide_has_CSharp_blocks_and_every_GuideExamples_region_is_shown()
    {
        string[] blocks = [.. Documents().Select(d => (string)d.Data)
            .SelectMany(d => CSharpBlock().Matches(File.ReadAllText(Repository.PathOf(d)))).Select(m => Normalize(m.Groups["body"].Value))];
        Assert.True(blocks.Length >= 8, $"{blocks.Length} C# blocks in the guide");
        string source = File.ReadAllText(Repository.PathOf("tests", "AfXdp.Tests", "Docs", "GuideExamples.cs"));
        string[] unshown = [.. Region().Matches(source).Select(m => Dedent(m.Groups["body"].Value)).Where(r => !blocks.Contains(r)).Select(r => r.Split('\n')[0])];
        Assert.True(unshown.Length == 0, $"regions of GuideExamples.cs no document shows (first lines): {string.Join(" | ", unshown)}");
    }

    static string[] CompiledRegions() =>
        [.. Directory.GetFiles(Repository.PathOf("tests"), "*.cs", SearchOption.AllDirectories)
            .Where(p => !p.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !p.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .SelectMany(p => Region().Matches(File.ReadAllText(p))).Select(m => Dedent(m.Groups["body"].Value))];

    /// <summary>The region's lines without the indentation they share, trailing blanks trimmed.</summary>
    static string Dedent(string body)
    {
        string[] lines = [.. body.Split('\n').Select(l => l.TrimEnd())];
        int indent = lines.Where(l => l.Length > 0).Min(l => l.Length - l.TrimStart().Length);
        return Normalize(string.Join('\n', lines.Select(l => l.Length >= indent ? l[indent..] : l)));
    }

    static string Normalize(string code) => string.Join('\n', code.Split('\n').Select(l => l.TrimEnd())).Trim('\n');
}
