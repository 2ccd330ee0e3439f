using AfXdp.Bpf;
using AfXdp.Interop;

namespace AfXdp.DevicePlugin;

/// <summary>
/// The device plugin's other way, for a single host and for tests: the XSKMAP pinned as DIRECTORY/xsks_map
/// (the directory on a bpffs; under /sys/fs/bpf it is mounted and made when missing), optionally given to the
/// user who will open it, as the plugin gives it to its pool's <c>uid</c>. Dispose unpins it and removes the
/// directories it made; the map stays the caller's.
/// </summary>
public sealed class DevicePluginPin : IDisposable
{
    readonly CreatedDirectories _directories = new();
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
            _directories.Create(full);
            map.Pin(Path);
            _pinned = true;
            if (ownerUid is int uid && Sys.Chown(Path, uid, -1) != 0)
                Throw.Errno($"chown(\"{Path}\", {uid})", Sys.LastErrno);
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
        _directories.RemoveEmpty();
    }

    /// <inheritdoc/>
    public override string ToString() => $"DevicePluginPin({Path})";
}
