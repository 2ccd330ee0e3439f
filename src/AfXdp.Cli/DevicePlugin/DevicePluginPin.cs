using AfXdp.Bpf;
using AfXdp.DevicePlugin;
using AfXdp.Interop;

namespace AfXdp.Cli.DevicePlugin;

/// <summary>
/// The device plugin's other way, for a single host and for tests: the XSKMAP pinned as DIRECTORY/xsks_map
/// (the directory on a bpffs, root's and closed to others as <see cref="DevicePluginServer"/> requires of its socket's; under /sys/fs/bpf it is mounted and made when missing), optionally given to the
/// user who will open it, as the plugin gives it to its pool's <c>uid</c>. Dispose unpins it and removes the
/// directories it made; the map stays the caller's.
/// </summary>
internal sealed class DevicePluginPin : IDisposable
{
    TrustedDirectory? _directory;
    bool _pinned;

    /// <summary>Pins <paramref name="map"/> under <paramref name="directory"/>; <paramref name="ownerUid"/> gets the pin (mode 0600).</summary>
    public DevicePluginPin(XskMap map, string directory, int? ownerUid = null)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        string full = System.IO.Path.GetFullPath(directory);
        Path = System.IO.Path.Combine(full, DevicePluginProtocol.PinFileName);
        try
        {
            if (full.StartsWith(BpfFs.DefaultMount + "/", StringComparison.Ordinal))
                BpfFs.EnsureMounted();
            _directory = TrustedDirectory.Open(full, "the pinned XSKMAP");
            map.Pin(Path);
            _pinned = true;
            // Relative to the directory checked, and the pin itself if it were a link: no path is followed as root.
            if (ownerUid is int uid && Sys.FChownAt(_directory.Fd.Fd, DevicePluginProtocol.PinFileName, uid, -1, Sys.AT_SYMLINK_NOFOLLOW) != 0)
                Throw.Errno($"fchownat(\"{Path}\", {uid}, AT_SYMLINK_NOFOLLOW)", Sys.LastErrno);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Where the map is pinned: DIRECTORY/xsks_map.</summary>
    public string Path { get; }

    /// <summary>Unpins the map (it lives on while its program holds it) and removes the directories this made.</summary>
    public void Dispose()
    {
        if (_pinned)
        {
            _pinned = false;
            BpfFs.Unpin(Path);
        }
        _directory?.Dispose();
        _directory = null;
    }

    /// <inheritdoc/>
    public override string ToString() => $"DevicePluginPin({Path})";
}
