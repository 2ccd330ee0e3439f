using System.Text.RegularExpressions;
using AfXdp.TestShared;

namespace AfXdp.Tests.Docs;

/// <summary>
/// The README and docs/ point only at files that exist: every relative Markdown link (and its #anchor, among the
/// target's headings), and every repository path in a code span (<c>`docs/raw/echo-20261129.txt`</c>), so that moving
/// a file or renaming a heading without fixing its readers fails here.
/// </summary>
public sealed partial class DocsLinkTests
{
    [GeneratedRegex(@"^#{1,6} (?<title>.+)$", RegexOptions.Multiline)]
    private static partial Regex Heading();

    [GeneratedRegex(@"\]\((?<target>[^)\s]+)\)")]
    private static partial Regex MarkdownLink();

    /// <summary>A path from the repository root in a code span: a top-level folder, then a file name with an extension.</summary>
    [GeneratedRegex(@"`(?<path>(?:docs|src|tests|benchmarks|samples|templates)/[A-Za-z0-9_./-]+\.[A-Za-z0-9]+)[`\s:]")]
    private static partial Regex RepositoryPath();

    public static TheoryData<string> Documents() =>
        [.. new[] { Repository.PathOf("README.md") }
            .Concat(Directory.GetFiles(Repository.PathOf("docs"), "*.md", SearchOption.AllDirectories)
                .Where(p => !p.Contains($"{Path.DirectorySeparatorChar}raw{Path.DirectorySeparatorChar}")))
            .Order().Select(p => Path.GetRelativePath(Repository.Root, p))];

    /// <summary>The anchors GitHub gives a document's headings: lower case, only letters, digits, '_' and '-' kept, spaces as '-'.</summary>
    static HashSet<string> Anchors(string markdown) =>
        [.. Heading().Matches(markdown).Select(m => new string([.. m.Groups["title"].Value.Trim().ToLowerInvariant()
            .Where(c => char.IsLetterOrDigit(c) || c is '-' or '_' or ' ').Select(c => c == ' ' ? '-' : c)]))];

    [Theory]
    [MemberData(nameof(Documents))]
    public void Every_relative_link_and_repository_path_in_the_document_exists(string document)
    {
        string text = File.ReadAllText(Repository.PathOf(document));
        string directory = Path.GetDirectoryName(Repository.PathOf(document))!;
        var broken = new List<string>();
        foreach (Match m in MarkdownLink().Matches(text))
        {
            string target = m.Groups["target"].Value;
            if (target.Contains("://", StringComparison.Ordinal))
                continue;
            string[] parts = target.Split('#');
            string full = parts[0].Length == 0 ? Repository.PathOf(document) : Path.GetFullPath(Path.Combine(directory, parts[0]));
            if (!File.Exists(full) && !Directory.Exists(full))
                broken.Add(target);
            else if (parts.Length > 1 && full.EndsWith(".md", StringComparison.Ordinal) && !Anchors(File.ReadAllText(full)).Contains(parts[1]))
                broken.Add(target);
        }
        foreach (Match m in RepositoryPath().Matches(text))
        {
            string path = m.Groups["path"].Value;
            if (path.Contains("DATE", StringComparison.Ordinal) || path.Contains("YYYY", StringComparison.Ordinal))
                continue;
            if (!File.Exists(Repository.PathOf(path.Split('/'))) && !Directory.Exists(Repository.PathOf(path.Split('/'))))
                broken.Add(path);
        }
        Assert.True(broken.Count == 0, $"{document} points at what does not exist: {string.Join(", ", broken)}");
    }
}
