using AfXdp.Interop;

namespace AfXdp.Cli.DevicePlugin;

/// <summary>
/// A directory that only root can change, held open, as a root daemon must have before it makes files in it: every
/// component from / down is opened with O_NOFOLLOW relative to the one above (a link anywhere is refused, never
/// followed) and must be owned by root (or this process's user) and not writable by group or others, as OpenSSH's
/// StrictModes checks (secure_path). One exception, for /tmp: a root-owned sticky directory may be above it (not the
/// directory itself), since the sticky bit keeps others from renaming or removing root's entries in it (unlink(2),
/// EPERM). Missing directories are made 0755, whatever the umask, and removed again on Dispose when empty.
/// </summary>
internal sealed class TrustedDirectory : IDisposable
{
    const uint DirectoryMode = 0b111_101_101; // 0755: root writes, everyone may reach the socket or pin in it
    const uint WritableByOthers = 0b000_010_010;

    // Every directory of the walk, / first: a directory made here is removed relative to the one above it.
    readonly List<SafeFd> _walk = [];
    readonly List<int> _made = [];

    TrustedDirectory(string path) => Path = path;

    /// <summary>The directory's absolute path.</summary>
    public string Path { get; }

    /// <summary>The open directory: name files relative to it (the *at calls).</summary>
    public SafeFd Fd => _walk[^1];

    /// <summary>
    /// Opens <paramref name="path"/>, making what is missing; refuses in one line naming the directory, its owner and
    /// mode, and the fix, when a component is a link, not a directory, or open to others. <paramref name="holds"/> says
    /// what it is for ("the device plugin's socket").
    /// </summary>
    public static TrustedDirectory Open(string path, string holds)
    {
        string full = System.IO.Path.GetFullPath(path);
        var directory = new TrustedDirectory(full);
        try
        {
            directory.Walk(holds);
            return directory;
        }
        catch
        {
            directory.Dispose();
            throw;
        }
    }

    /// <summary>Removes the directories <see cref="Open"/> made, deepest first, leaving any that something else filled.</summary>
    public void Dispose()
    {
        for (int i = _made.Count - 1; i >= 0; i--)
        {
            int at = _made[i];
            // unlinkat(AT_REMOVEDIR) in the directory above: no path is resolved again, a link is not followed, a full one stays (ENOTEMPTY).
            _walk[at].Dispose();
            Sys.UnlinkAt(_walk[at - 1].Fd, Name(at), Sys.AT_REMOVEDIR);
        }
        _made.Clear();
        _walk.ForEach(fd => fd.Dispose());
        _walk.Clear();
    }

    /// <inheritdoc/>
    public override string ToString() => $"TrustedDirectory({Path})";

    string[] Names => Path.Split('/', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>The name of the walk's <paramref name="index"/>th directory in the one above (index 0 is /).</summary>
    string Name(int index) => Names[index - 1];

    /// <summary>The path of the walk's first <paramref name="count"/> directories.</summary>
    string Prefix(int count) => "/" + string.Join('/', Names[..(count - 1)]);

    void Walk(string holds)
    {
        string[] names = Names;
        _walk.Add(OpenChecked(Sys.AT_FDCWD, "/", "/", holds, last: names.Length == 0));
        for (int i = 0; i < names.Length; i++)
        {
            string here = Prefix(i + 2);
            int parent = _walk[^1].Fd;
            bool made = false;
            if (Sys.MkdirAt(parent, names[i], DirectoryMode) == 0)
                made = true;
            else if (Sys.LastErrno != Errno.EEXIST)
                Throw.Errno($"mkdirat(\"{here}\", 0755)", Sys.LastErrno);
            SafeFd opened = OpenChecked(parent, names[i], here, holds, last: i == names.Length - 1, made);
            _walk.Add(opened);
            if (made)
                _made.Add(_walk.Count - 1);
        }
    }

    /// <summary>Opens <paramref name="name"/> under <paramref name="parent"/> without following a link, and checks owner and mode.</summary>
    static SafeFd OpenChecked(int parent, string name, string path, string holds, bool last, bool made = false)
    {
        int fd = Sys.OpenAt(parent, name, Sys.O_RDONLY | Sys.O_DIRECTORY | Sys.O_NOFOLLOW | Sys.O_CLOEXEC);
        if (fd < 0)
        {
            int errno = Sys.LastErrno;
            // O_DIRECTORY refuses a link (ENOTDIR, O_NOFOLLOW's ELOOP on some paths) before it would be followed.
            if (errno is Errno.ENOTDIR or Errno.ELOOP)
            {
                bool link = Sys.TryStatAt(parent, name, out Sys.statx status) && (status.stx_mode & Sys.S_IFMT) == Sys.S_IFLNK;
                Throw.Config($"directory {path}", link
                        ? $"a symbolic link on the way to {holds}: refused, not followed, since whoever made the link picks where it leads."
                        : $"not a directory, on the way to {holds}.",
                    link ? $"give the real path (`realpath {path}`), after checking that root owns where it leads." : "remove it or choose another path.");
            }
            Throw.Errno($"openat(\"{path}\", O_DIRECTORY | O_NOFOLLOW)", errno);
        }
        var opened = new SafeFd(fd);
        try
        {
            // mkdirat's mode is cut by the umask: set it exactly on the directory just opened, not on a path.
            if (made && Sys.FChmod(fd, DirectoryMode) != 0)
                Throw.Errno($"fchmod(\"{path}\", 0755)", Sys.LastErrno);
            if (!Sys.TryStatAt(fd, "", out Sys.statx status))
                Throw.Errno($"statx(\"{path}\")", Sys.LastErrno);
            Check(path, status.stx_uid, status.stx_mode, holds, last);
            return opened;
        }
        catch
        {
            opened.Dispose();
            throw;
        }
    }

    /// <summary>The rule, apart for unit tests: owner root (or this user), not writable by others but as a root-owned sticky directory above the last.</summary>
    internal static void Check(string path, uint owner, uint mode, string holds, bool last)
    {
        bool ownerTrusted = owner == 0 || owner == (uint)Sys.GetEUid();
        bool stickyAbove = !last && owner == 0 && (mode & Sys.S_ISVTX) != 0;
        if (ownerTrusted && ((mode & WritableByOthers) == 0 || stickyAbove))
            return;
        string problem = !ownerTrusted ? "not root's"
            : (mode & Sys.S_ISVTX) != 0 ? "writable by others (a sticky directory is allowed only above the one that holds it)"
            : "writable by group or others";
        Throw.Config($"directory {path}",
            $"owner uid {owner}, mode {Convert.ToString((int)(mode & 0xfff), 8).PadLeft(4, '0')}: {problem}. Every directory up to {holds} must be root's and not writable by others " +
            "(OpenSSH's StrictModes rule), or a local user could swap what root makes there for a link to a file of their choosing.",
            $"`chown root:root {path} && chmod go-w {path}`, or remove it so that it is made afresh, or choose a path under root's directories.");
    }
}
