using AfXdp.Testing;

namespace AfXdp.KernelTests;

/// <summary>The programs the tests run are installed here; a missing one is named with its Debian package.</summary>
public sealed class ExternalToolsTests
{
    [Fact]
    public void Every_program_the_tests_run_is_installed()
    {
        string[] missing = [.. ExternalTools.All.Where(t => !t.IsInstalled).Select(t => $"{t.Missing} ({t.UsedFor})")];
        Assert.True(missing.Length == 0, $"{string.Join("; ", missing)}. `./test.sh` installs them all.");
    }
}
