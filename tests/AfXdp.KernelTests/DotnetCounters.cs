using AfXdp.Testing;

namespace AfXdp.KernelTests;

/// <summary>
/// The dotnet-counters global tool (a NuGet package, not a Debian one): the one on PATH, else installed once into the
/// test's output folder with `dotnet tool install --tool-path`, at the version the tests were written against.
/// </summary>
internal static class DotnetCounters
{
    const string Version = "10.0.750501";
    static readonly Lazy<string> s_path = new(Find);

    public static string Path => s_path.Value;

    static string Find()
    {
        CommandResult which = ExternalCommand.Run("sh", ["-c", "command -v dotnet-counters"]);
        if (which.Succeeded && which.Output.Trim() is { Length: > 0 } onPath)
            return onPath;
        string directory = System.IO.Path.Combine(AppContext.BaseDirectory, "tools");
        string tool = System.IO.Path.Combine(directory, "dotnet-counters");
        if (!File.Exists(tool))
        {
            CommandResult install = ExternalCommand.Run(KernelTest.DotnetHost, ["tool", "install", "--tool-path", directory, "dotnet-counters", "--version", Version], TimeSpan.FromMinutes(5));
            Assert.True(install.Succeeded, $"{install.CommandLine}: {install.Output}{install.Error}");
        }
        return tool;
    }
}
