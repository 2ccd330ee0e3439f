using System.Security.Cryptography;
using AfXdp.Interop;
using Microsoft.Win32.SafeHandles;

namespace AfXdp.Cli.Apps;

/// <summary>
/// The file a capture writes, safe for root to write in a shared directory such as /tmp. Records go to a new
/// file beside the target (<c>.NAME.XXXXXXXX</c>), created with O_CREAT|O_EXCL|O_NOFOLLOW relative to the target's
/// directory, itself opened with O_NOFOLLOW. Its mode is 0600 whatever the umask, since a capture holds other
/// people's traffic. <see cref="Complete"/> renames it onto the target: as with <c>tcpdump -w</c> an existing file
/// is replaced, but only its name; rename(2) never writes through a symlink nor truncates the old inode, so a
/// link planted at the target is itself replaced and what it points to is untouched. A target that is neither a
/// regular file nor a symlink (a device, a FIFO, a socket) is refused. Disposed without <see cref="Complete"/>, the
/// new file is removed and the target is as it was.
/// </summary>
internal sealed class CaptureFile : IDisposable
{
    const uint OwnerReadWrite = 0b110_000_000; // 0600

    readonly SafeFd _directory;
    readonly string _name;
    readonly string _temporaryName;
    bool _completed;

    CaptureFile(string path, SafeFd directory, string name, string temporaryName, FileStream stream)
    {
        Path = path;
        _directory = directory;
        _name = name;
        _temporaryName = temporaryName;
        Stream = stream;
    }

    /// <summary>The target: where the capture is once <see cref="Complete"/> returns.</summary>
    public string Path { get; }

    /// <summary>Where the capture is until then.</summary>
    public string TemporaryPath => System.IO.Path.Combine(System.IO.Path.GetDirectoryName(Path)!, _temporaryName);

    /// <summary>The new file, unbuffered and open for writing; the target is not touched until <see cref="Complete"/>.</summary>
    public FileStream Stream { get; }

    /// <summary>Creates the new file beside <paramref name="path"/>; refuses a target that is a device, a FIFO or a directory, and a directory that is a symlink.</summary>
    public static CaptureFile Create(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        path = System.IO.Path.GetFullPath(path);
        string call = $"capture to {path}";
        string directoryPath = System.IO.Path.GetDirectoryName(path) ?? "/";
        string name = System.IO.Path.GetFileName(path);
        if (name.Length == 0)
            Throw.Argument(nameof(path), call, "the path names a directory, not a file.", $"name a file in it, like {System.IO.Path.Combine(path, "capture.pcap")}.");

        var directory = new SafeFd(Sys.OpenAt(Sys.AT_FDCWD, directoryPath, Sys.O_DIRECTORY | Sys.O_NOFOLLOW | Sys.O_CLOEXEC, 0));
        if (directory.IsInvalid)
        {
            int errno = Sys.LastErrno;
            // O_NOFOLLOW on a link fails ELOOP, or ENOTDIR when O_DIRECTORY is checked first (as Linux does).
            if (errno is Errno.ELOOP or Errno.ENOTDIR && new DirectoryInfo(directoryPath).LinkTarget is not null)
                Throw.Kernel(call, errno, $"the directory {directoryPath} is a symbolic link; a capture is never written through a link, which whoever may write beside it could point anywhere.",
                    $"name the directory it points to{(new DirectoryInfo(directoryPath).ResolveLinkTarget(returnFinalTarget: true) is { } real ? $" ({real.FullName})" : "")}.");
            Throw.Kernel(call, errno, $"the directory {directoryPath} cannot be opened.", "write to an existing directory you may write to.");
        }
        try
        {
            uint type = Sys.FileTypeAt(directory.Fd, name, out int statErrno);
            if (statErrno is not (0 or Errno.ENOENT))
                Throw.Kernel(call, statErrno, "the target cannot be looked at.", "write to a directory you may search and write.");
            if (type is not (0 or Sys.S_IFREG or Sys.S_IFLNK))
                Throw.Config(call, $"{path} is {TypeName(type)}, not a regular file: a capture is written to a new file that then takes the target's name, never into an existing one.",
                    "name a regular file, or write the capture to standard output and redirect that.");

            string temporaryName = $".{name}.{RandomNumberGenerator.GetHexString(8, lowercase: true)}";
            int fd = Sys.OpenAt(directory.Fd, temporaryName, Sys.O_WRONLY | Sys.O_CREAT | Sys.O_EXCL | Sys.O_NOFOLLOW | Sys.O_CLOEXEC, OwnerReadWrite);
            if (fd < 0)
            {
                int errno = Sys.LastErrno;
                Throw.Kernel(call, errno, $"the new file {System.IO.Path.Combine(directoryPath, temporaryName)} cannot be created: a capture is written beside its target and renamed onto it, so it needs to create files in {directoryPath}.",
                    "write to a directory you may write to and that has space (`df`); as root, check `mount` for a read-only file system.");
            }
            var handle = new SafeFileHandle(fd, ownsHandle: true);
            // The umask may have taken bits from 0600 at creation; fchmod on the descriptor sets exactly 0600.
            if (Sys.FChmod(fd, OwnerReadWrite) != 0)
            {
                int errno = Sys.LastErrno;
                handle.Dispose();
                Sys.UnlinkAt(directory.Fd, temporaryName, 0);
                Throw.Kernel(call, errno, "the new file's mode could not be set to 0600.", "write to a file system that keeps Unix modes.");
            }
            return new CaptureFile(path, directory, name, temporaryName, new FileStream(handle, FileAccess.Write, bufferSize: 0));
        }
        catch
        {
            directory.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes the file to disk and renames it onto the target, replacing what was there (a file or a symlink, never what
    /// a link points to). On failure the capture stays at <see cref="TemporaryPath"/>, which the error names.
    /// </summary>
    public void Complete()
    {
        ObjectDisposedException.ThrowIf(_directory.IsClosed, this);
        if (_completed)
            return;
        // On disk before it takes the name: a crash after the rename must not leave an empty file where the old one was.
        Stream.Flush(flushToDisk: true);
        Stream.Dispose();
        if (Sys.RenameAt(_directory.Fd, _temporaryName, _directory.Fd, _name) != 0)
        {
            int errno = Sys.LastErrno;
            _completed = true; // keep the capture: it is what the error points to
            Throw.Kernel($"capture to {Path}", errno, $"the finished capture could not take the name {_name}; it stays in {TemporaryPath}.",
                "move it where you want it (`mv`); in a sticky directory such as /tmp only the owner of the old file may replace it.");
        }
        _completed = true;
    }

    /// <summary>Closes the file; unless <see cref="Complete"/> ran, removes it and leaves the target as it was. Idempotent.</summary>
    public void Dispose()
    {
        if (_directory.IsClosed)
            return;
        Stream.Dispose();
        if (!_completed)
            Sys.UnlinkAt(_directory.Fd, _temporaryName, 0);
        _directory.Dispose();
    }

    static string TypeName(uint type) => type switch
    {
        Sys.S_IFDIR => "a directory",
        Sys.S_IFCHR => "a character device",
        Sys.S_IFBLK => "a block device",
        Sys.S_IFIFO => "a FIFO",
        Sys.S_IFSOCK => "a socket",
        _ => $"a special file (type 0x{type:x})",
    };
}
