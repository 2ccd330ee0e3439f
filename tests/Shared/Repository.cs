using System.Reflection;

namespace AfXdp.TestShared;

/// <summary>
/// The repository's own files, for tests that read them (the README, the sources they scan, test.sh).
/// The root comes from the build (tests/Directory.Build.props), not from <c>[CallerFilePath]</c>:
/// a CI build maps source paths to <c>/_/</c>, which is not a directory.
/// </summary>
internal static class Repository
{
    /// <summary>The repository's root directory, as the build saw it.</summary>
    public static string Root { get; } = Assembly.GetExecutingAssembly().GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "RepositoryRoot").Value!;

    /// <summary>A path under the root, given by its parts.</summary>
    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);
}
