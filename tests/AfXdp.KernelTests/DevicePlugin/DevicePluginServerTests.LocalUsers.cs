using AfXdp.Bpf;
using AfXdp.DevicePlugin;
using AfXdp.Testing;
using AfXdp.Cli.DevicePlugin;

namespace AfXdp.KernelTests.DevicePlugin;

/// <summary>
/// The server runs as root and makes its socket near /tmp: a local user (uid 65534) must not be able to turn that
/// into root's chmod or chown of a file of their choosing, through a directory they own or can write, a link, or a
/// race against the socket's creation.
/// </summary>
public sealed partial class DevicePluginServerTests
{
    const int Nobody = 65534;

    static string Stat(string path) => ExternalCommand.RunChecked("stat", "-c", "%u %a", path).Trim();

    /// <summary>Makes <paramref name="path"/> with the given owner and mode, as a test's setting.</summary>
    static string MakeDirectory(string path, int owner, UnixFileMode mode)
    {
        Directory.CreateDirectory(path);
        ExternalCommand.RunChecked("chown", owner.ToString(System.Globalization.CultureInfo.InvariantCulture), path);
        File.SetUnixFileMode(path, mode);
        return path;
    }

    DevicePluginServer Serve(string socketPath, DevicePluginServerOptions? options = null) =>
        new(socketPath, new Dictionary<string, XskMap> { [Interface] = _map }, options);

    const UnixFileMode Mode0755 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    [Fact]
    public void Refuses_a_directory_a_user_owns_naming_it_its_owner_and_the_fix_and_makes_nothing_in_it()
    {
        string user = MakeDirectory(Path.Combine(_directory, "user"), Nobody, Mode0755);
        var e = Assert.Throws<AfXdpException>(() => Serve(Path.Combine(user, Interface, DevicePluginProtocol.SocketFileName)));
        Assert.Equal($"directory {user}: owner uid 65534, mode 0755: not root's. Every directory up to the device plugin's socket must be root's " +
            "and not writable by others (OpenSSH's StrictModes rule), or a local user could swap what root makes there for a link to a file of their choosing. " +
            $"Fix: `chown root:root {user} && chmod go-w {user}`, or remove it so that it is made afresh, or choose a path under root's directories.", e.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(user));
    }

    [Theory]
    [InlineData(0b111_111_111, "writable by group or others")]
    [InlineData(0b111_111_101, "writable by group or others")]
    [InlineData(0b1_111_111_111, "writable by others (a sticky directory is allowed only above the one that holds it)")]
    public void Refuses_a_root_directory_others_may_write_as_the_sockets_own(int mode, string problem)
    {
        string open = MakeDirectory(Path.Combine(_directory, "open"), 0, (UnixFileMode)mode);
        var e = Assert.Throws<AfXdpException>(() => Serve(Path.Combine(open, DevicePluginProtocol.SocketFileName)));
        Assert.StartsWith($"directory {open}: owner uid 0, mode {Convert.ToString(mode, 8).PadLeft(4, '0')}: {problem}.", e.Message);
        Assert.Single(e.Message.Split('\n'));
        Assert.Empty(Directory.EnumerateFileSystemEntries(open));
    }

    [Fact]
    public void A_root_sticky_directory_above_the_sockets_own_is_taken_as_tmp_is()
    {
        string sticky = MakeDirectory(Path.Combine(_directory, "sticky"), 0, (UnixFileMode)0b1_111_111_111);
        using DevicePluginServer server = Serve(Path.Combine(sticky, Interface, DevicePluginProtocol.SocketFileName));
        Assert.Equal("0 755", Stat(Path.Combine(sticky, Interface)));
        Assert.Equal("0 600", Stat(server.SocketPath));
    }

    [Fact]
    public void Refuses_a_planted_link_to_a_directory_and_makes_nothing_where_it_leads()
    {
        string elsewhere = MakeDirectory(Path.Combine(_directory, "elsewhere"), 0, Mode0755);
        string link = Path.Combine(_directory, "afxdp_dp");
        File.CreateSymbolicLink(link, elsewhere);
        var e = Assert.Throws<AfXdpException>(() => Serve(Path.Combine(link, Interface, DevicePluginProtocol.SocketFileName)));
        Assert.Equal($"directory {link}: a symbolic link on the way to the device plugin's socket: refused, not followed, since whoever made the link picks where it leads. " +
            $"Fix: give the real path (`realpath {link}`), after checking that root owns where it leads.", e.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(elsewhere));
    }

    [Fact]
    public void The_plugin_under_umask_000_makes_its_directories_0755_and_its_socket_0600()
    {
        using VethLab lab = VethLab.Create();
        string socket = Path.Combine(_directory, "made", Interface, DevicePluginProtocol.SocketFileName);
        using var plugin = RunningCommand.ShellIn(lab, VethSide.B,
            $"umask 000 && exec {KernelTest.DotnetHost} {KernelTest.CliPath()} plugin -i {lab.InterfaceB} --uds {socket} -a skb");
        plugin.WaitForLine("serving the XSKMAP", TimeSpan.FromSeconds(30));
        Assert.Equal(["0 755", "0 755", "0 600"], [Stat(_directory), Stat(Path.GetDirectoryName(socket)!), Stat(socket)]);
        plugin.Signal("INT");
        Assert.Equal(0, plugin.WaitForExit(TimeSpan.FromSeconds(10)));
        Assert.False(Directory.Exists(_directory), "the directories it made are removed again");
    }

    /// <summary>
    /// The attack of the issue, tried by a real uid-65534 process as fast as perl goes: plant a link to a root-owned
    /// 0644 file at the socket's name (symlink then rename, symlink in place, unlink the socket), move the socket's
    /// directory away, while the server makes its socket (given to uid 65534) again and again. The directory a user
    /// can write is refused first; in the one the server takes, every try fails and the file stays as it was.
    /// </summary>
    [Fact]
    public void A_user_racing_100_socket_creations_never_changes_a_root_file()
    {
        const int Rounds = 150;
        Directory.CreateDirectory(_directory);
        string victim = Path.Combine(_directory, "victim");
        File.WriteAllText(victim, "root's\n");
        File.SetUnixFileMode(victim, (UnixFileMode)0b110_100_100);
        string own = MakeDirectory(Path.Combine(_directory, "user"), Nobody, Mode0755);
        string stop = Path.Combine(own, "stop");
        var options = new DevicePluginServerOptions { OwnerUid = Nobody };
        Assert.Throws<AfXdpException>(() => Serve(Path.Combine(own, Interface, DevicePluginProtocol.SocketFileName), options));

        string socketDirectory = Path.Combine(_directory, Interface);
        const string Attack = """
            $| = 1;
            my ($dir, $victim, $own, $stop) = @ARGV;
            my ($tries, $wins) = (0, 0);
            print "ready\n";
            until (-e $stop) {
                for (1 .. 100) {
                    $tries++;
                    unlink "$own/l";
                    symlink $victim, "$own/l";
                    $wins++ if rename "$own/l", "$dir/afxdp.sock";
                    $wins++ if symlink $victim, "$dir/afxdp.sock";
                    $wins++ if unlink "$dir/afxdp.sock";
                    $wins++ if rename $dir, "$own/moved";
                }
            }
            print "tries $tries wins $wins\n";
            """;
        using var attacker = RunningCommand.AsNobody("perl", "-e", Attack, socketDirectory, victim, own, stop);
        attacker.WaitForLine("ready", TimeSpan.FromSeconds(10));
        for (int i = 0; i < Rounds; i++)
        {
            using DevicePluginServer server = Serve(Path.Combine(socketDirectory, DevicePluginProtocol.SocketFileName), options);
            Assert.Equal("65534 600", Stat(server.SocketPath));
        }
        File.WriteAllText(stop, "");
        Assert.Equal(0, attacker.WaitForExit(TimeSpan.FromSeconds(10)));
        string[] counts = attacker.WaitForLine("tries", TimeSpan.FromSeconds(1)).Split(' ');
        Assert.True(long.Parse(counts[1], System.Globalization.CultureInfo.InvariantCulture) >= Rounds, attacker.Output);
        Assert.Equal("0", counts[3]);
        Assert.Equal("0 644", Stat(victim));
        Assert.Equal("root's\n", File.ReadAllText(victim));
    }
}
