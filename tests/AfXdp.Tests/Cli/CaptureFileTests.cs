using AfXdp.Cli.Apps;

namespace AfXdp.Tests.Apps;

/// <summary><see cref="CaptureFile"/>: a new 0600 file beside the target, renamed onto it only by <see cref="CaptureFile.Complete"/>.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class CaptureFileTests : IDisposable
{
    readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("afxdp-capturefile-");

    public void Dispose() => _directory.Delete(recursive: true);

    string PathOf(string name) => Path.Combine(_directory.FullName, name);

    string[] Names() => [.. _directory.EnumerateFileSystemInfos().Select(f => f.Name).Order()];

    [Fact]
    public void Until_Complete_the_target_keeps_its_content_and_the_capture_is_a_hidden_0600_file_beside_it()
    {
        string target = PathOf("x.pcap");
        File.WriteAllText(target, "old");
        using CaptureFile file = CaptureFile.Create(target);
        file.Stream.Write("new"u8);

        Assert.Equal("old", File.ReadAllText(target));
        Assert.Equal(_directory.FullName, Path.GetDirectoryName(file.TemporaryPath));
        Assert.StartsWith(".x.pcap.", Path.GetFileName(file.TemporaryPath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file.TemporaryPath));
        Assert.Equal("new", File.ReadAllText(file.TemporaryPath));
    }

    [Fact]
    public void Complete_replaces_the_target_by_rename_and_leaves_nothing_else()
    {
        string target = PathOf("x.pcap");
        File.WriteAllText(target, "old");
        File.SetUnixFileMode(target, (UnixFileMode)0b110_100_100); // 0644
        using (CaptureFile file = CaptureFile.Create(target))
        {
            file.Stream.Write("new"u8);
            file.Complete();
        }

        Assert.Equal("new", File.ReadAllText(target));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(target));
        Assert.Equal(["x.pcap"], Names());
    }

    [Fact]
    public void A_symlink_at_the_target_is_replaced_and_what_it_points_to_is_untouched()
    {
        string victim = PathOf("victim");
        File.WriteAllText(victim, "victim");
        string target = PathOf("x.pcap");
        File.CreateSymbolicLink(target, victim);
        using (CaptureFile file = CaptureFile.Create(target))
        {
            file.Stream.Write("new"u8);
            file.Complete();
        }

        Assert.Equal("victim", File.ReadAllText(victim));
        Assert.Null(new FileInfo(target).LinkTarget);
        Assert.Equal("new", File.ReadAllText(target));
        Assert.Equal(["victim", "x.pcap"], Names());
    }

    [Fact]
    public void Disposed_without_Complete_the_new_file_is_removed_and_no_target_appears()
    {
        using (CaptureFile file = CaptureFile.Create(PathOf("x.pcap")))
            file.Stream.Write("new"u8);

        Assert.Empty(Names());
    }

    [Fact]
    public void A_character_device_target_is_refused_in_one_sentence()
    {
        var e = Assert.Throws<AfXdpException>(() => CaptureFile.Create("/dev/null"));
        Assert.Equal("capture to /dev/null: /dev/null is a character device, not a regular file: a capture is written to a new file that then takes the target's name, never into an existing one. " +
            "Fix: name a regular file, or write the capture to standard output and redirect that.", e.Message);
    }

    [Fact]
    public void A_directory_that_is_a_symlink_is_refused_naming_where_it_points()
    {
        string real = PathOf("real");
        Directory.CreateDirectory(real);
        string link = PathOf("link");
        Directory.CreateSymbolicLink(link, real);

        var e = Assert.Throws<AfXdpException>(() => CaptureFile.Create(Path.Combine(link, "x.pcap")));
        Assert.Contains($"the directory {link} is a symbolic link", e.Message);
        Assert.EndsWith($"Fix: name the directory it points to ({real}).", e.Message);
        Assert.Empty(Directory.GetFileSystemEntries(real));
    }
}
