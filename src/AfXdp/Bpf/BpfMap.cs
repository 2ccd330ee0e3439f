using System.Runtime.InteropServices;
using System.Text;
using AfXdp.Device;
using AfXdp.Interop;

namespace AfXdp.Bpf;

/// <summary>enum bpf_map_type, the ones the library knows by name.</summary>
public enum MapType : uint
{
    /// <summary>BPF_MAP_TYPE_HASH: a hash table of fixed-size keys and values.</summary>
    Hash = 1,
    /// <summary>BPF_MAP_TYPE_ARRAY: values indexed by a 32-bit key from 0, preallocated.</summary>
    Array = 2,
    /// <summary>BPF_MAP_TYPE_PROG_ARRAY: program fds for tail calls.</summary>
    ProgArray = 3,
    /// <summary>BPF_MAP_TYPE_PERCPU_HASH: a hash table with one value per possible CPU.</summary>
    PerCpuHash = 5,
    /// <summary>BPF_MAP_TYPE_PERCPU_ARRAY: an array with one value per possible CPU (counters without atomics).</summary>
    PerCpuArray = 6,
    /// <summary>BPF_MAP_TYPE_LRU_HASH: a hash table that evicts the least recently used entry when full.</summary>
    LruHash = 9,
    /// <summary>BPF_MAP_TYPE_DEVMAP: interface indices for bpf_redirect_map to another device.</summary>
    DevMap = 14,
    /// <summary>BPF_MAP_TYPE_XSKMAP: AF_XDP sockets by queue, for bpf_redirect_map.</summary>
    XskMap = 17,
    /// <summary>BPF_MAP_TYPE_DEVMAP_HASH: interface indices under arbitrary keys.</summary>
    DevMapHash = 25,
}

/// <summary>How an update treats an existing key (BPF_ANY, BPF_NOEXIST, BPF_EXIST).</summary>
public enum MapUpdate : ulong
{
    /// <summary>Create or replace.</summary>
    Any = 0,
    /// <summary>Create only; EEXIST when the key is there.</summary>
    NoExist = 1,
    /// <summary>Replace only; ENOENT when the key is absent.</summary>
    Exist = 2,
}

/// <summary>What a map should be: plain data, checked without a kernel.</summary>
public sealed record MapSpec(string Name, MapType Type, uint KeySize, uint ValueSize, uint MaxEntries, uint Flags = 0)
{
    /// <summary>An XSKMAP with one slot per queue: key = queue id, value = AF_XDP socket fd.</summary>
    public static MapSpec XskMap(string name, uint queues) => new(name, MapType.XskMap, 4, 4, queues);

    /// <summary>True for the map types that hold one value per possible CPU.</summary>
    public bool IsPerCpu => Type is MapType.PerCpuArray or MapType.PerCpuHash;
}

/// <summary>
/// A map the kernel holds; owns its fd (closed on Dispose or by the finalizer). Keys and values are
/// bytes here; <see cref="ArrayMap{T}"/>, <see cref="HashMap{TKey,TValue}"/>, <see cref="PerCpuArray{T}"/>,
/// <see cref="XskMap"/> and <see cref="DevMap"/> give them types.
/// </summary>
public sealed unsafe class BpfMap : IDisposable, IBpfMapReference
{
    readonly SafeFd _fd;

    BpfMap(SafeFd fd, MapSpec spec, uint id)
    {
        _fd = fd;
        Spec = spec;
        Id = id;
    }

    /// <summary>What the map was created with (or, for an opened map, what the kernel reports).</summary>
    public MapSpec Spec { get; }

    /// <summary>The descriptor; ObjectDisposedException once disposed (the number may already name another file).</summary>
    public int Fd => _fd.IsClosed ? throw new ObjectDisposedException(ToString()) : _fd.Fd;

    /// <summary>The map's name as the kernel stores it (at most 15 characters).</summary>
    public string Name => Spec.Name;

    /// <summary>The kernel's map id (what `bpftool map show` prints).</summary>
    public uint Id { get; }

    /// <summary>Bytes a lookup or update takes: the value size, or for a per-CPU map one 8-byte aligned value per possible CPU.</summary>
    public int ValueBufferSize => Spec.IsPerCpu ? ((int)Spec.ValueSize + 7) / 8 * 8 * PossibleCpus.Count : (int)Spec.ValueSize;

    /// <summary>BPF_MAP_CREATE.</summary>
    public static BpfMap Create(MapSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.MaxEntries == 0)
            Throw.Argument(nameof(spec), $"MapSpec({spec.Name}).MaxEntries = 0", "a map needs at least one entry.", "set MaxEntries.");
        var attr = new bpf_attr_map_create
        {
            map_type = (uint)spec.Type,
            key_size = spec.KeySize,
            value_size = spec.ValueSize,
            max_entries = spec.MaxEntries,
            map_flags = spec.Flags,
        };
        BpfNames.Write(spec.Name, attr.map_name);
        int fd = Sys.Bpf(Sys.BPF_MAP_CREATE, ref attr, out int errno);
        if (fd < 0)
        {
            string call = $"bpf(BPF_MAP_CREATE, {spec.Type} \"{spec.Name}\", key {spec.KeySize}, value {spec.ValueSize}, {spec.MaxEntries} entries)";
            if (errno == Errno.EINVAL)
                Throw.Kernel(call, errno, "the kernel rejected the map's shape (key/value size for this type, flags or name).",
                    $"for {spec.Type} check the sizes the kernel requires (arrays and XSKMAP/DEVMAP: 4-byte keys; XSKMAP and DEVMAP: 4-byte values).");
            if (errno == Errno.EPERM)
            {
                // Maps of sockets and devices are networking objects: map_create asks bpf_net_capable() too.
                if (spec.Type == MapType.XskMap)
                    Throw.Capability(call, errno, new("an XSKMAP", Privileges.CAP_BPF, Privileges.CAP_NET_ADMIN), new CapabilityNeed("each AF_XDP socket it holds", Privileges.CAP_NET_RAW));
                if (spec.Type == MapType.DevMap)
                    Throw.Capability(call, errno, new("a DEVMAP", Privileges.CAP_BPF, Privileges.CAP_NET_ADMIN));
                Throw.Capability(call, errno, new("a BPF map", Privileges.CAP_BPF));
            }
            Throw.Errno(call, errno);
        }
        return Adopt(new SafeFd(fd), "map");
    }

    /// <summary>Opens a map the kernel already holds (made by another process or tool) by id; needs CAP_SYS_ADMIN.</summary>
    public static BpfMap FromId(uint id)
    {
        var attr = new bpf_attr_get_id { id = id };
        int fd = Sys.Bpf(Sys.BPF_MAP_GET_FD_BY_ID, ref attr, out int errno);
        if (fd < 0)
        {
            if (errno == Errno.ENOENT)
                Throw.Kernel($"bpf(BPF_MAP_GET_FD_BY_ID, {id})", errno, $"there is no map with id {id} (any more).", "list the maps with `bpftool map show`.");
            Throw.Errno($"bpf(BPF_MAP_GET_FD_BY_ID, {id})", errno);
        }
        return Adopt(new SafeFd(fd), $"map id {id}");
    }

    /// <summary>Opens the map pinned at <paramref name="path"/> in a bpffs.</summary>
    public static BpfMap OpenPinned(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        SafeFd fd = BpfFs.Open(path, "map");
        return Adopt(fd, $"\"{path}\"");
    }

    /// <summary>Pins the map at <paramref name="path"/> (under /sys/fs/bpf, mounted when missing), so that other processes can open it.</summary>
    public void Pin(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        BpfFs.Pin(Fd, path, $"map \"{Name}\"");
    }

    /// <summary>Wraps an fd as a map (one opened or received from another process), reading its shape from the kernel; closes the fd when it is not a map.</summary>
    internal static BpfMap Adopt(SafeFd fd, string what)
    {
        try
        {
            BpfFs.CheckKind(fd.Fd, "bpf-map", what);
            bpf_map_info info = default;
            var attr = new bpf_attr_info { bpf_fd = (uint)fd.Fd, info_len = (uint)sizeof(bpf_map_info), info = (ulong)&info };
            if (Sys.Bpf(Sys.BPF_OBJ_GET_INFO_BY_FD, ref attr, out int errno) < 0)
                Throw.Errno($"bpf(BPF_OBJ_GET_INFO_BY_FD, {what})", errno);
            var spec = new MapSpec(BpfNames.Read(info.name), (MapType)info.type, info.key_size, info.value_size, info.max_entries, info.map_flags);
            return new BpfMap(fd, spec, info.id);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>BPF_MAP_LOOKUP_ELEM into <paramref name="value"/> (<see cref="ValueBufferSize"/> bytes); false when the key is absent.</summary>
    public bool TryLookup(ReadOnlySpan<byte> key, Span<byte> value)
    {
        CheckSizes(key.Length, value.Length);
        fixed (byte* k = key)
        fixed (byte* v = value)
        {
            var attr = new bpf_attr_map_elem { map_fd = (uint)Fd, key = (ulong)k, value = (ulong)v };
            if (Sys.Bpf(Sys.BPF_MAP_LOOKUP_ELEM, ref attr, out int errno) >= 0)
                return true;
            if (errno == Errno.ENOENT)
                return false;
            if (errno == Errno.EOPNOTSUPP)
                Throw.Kernel($"bpf(BPF_MAP_LOOKUP_ELEM, {Name})", errno, $"{Spec.Type} maps cannot be read from user space (XSKMAP holds sockets).", "keep track of what you stored yourself.");
            Throw.Errno($"bpf(BPF_MAP_LOOKUP_ELEM, {Name})", errno);
            return false;
        }
    }

    /// <summary>BPF_MAP_UPDATE_ELEM.</summary>
    public void Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, MapUpdate how = MapUpdate.Any)
    {
        CheckSizes(key.Length, value.Length);
        fixed (byte* k = key)
        fixed (byte* v = value)
        {
            var attr = new bpf_attr_map_elem { map_fd = (uint)Fd, key = (ulong)k, value = (ulong)v, flags = (ulong)how };
            if (Sys.Bpf(Sys.BPF_MAP_UPDATE_ELEM, ref attr, out int errno) >= 0)
                return;
            string call = $"bpf(BPF_MAP_UPDATE_ELEM, {Name}[{KeyText(key)}], {how})";
            switch (errno)
            {
                case Errno.E2BIG:
                    Throw.Kernel(call, errno, $"the key is outside the map or the map is full ({Spec.MaxEntries} entries).", "use a key below MaxEntries, delete entries, or create a larger map.");
                    break;
                case Errno.EEXIST when how == MapUpdate.NoExist:
                    Throw.Kernel(call, errno, "the key exists and MapUpdate.NoExist was asked for.", "use MapUpdate.Any to replace it.");
                    break;
                case Errno.ENOENT when how == MapUpdate.Exist:
                    Throw.Kernel(call, errno, "the key is absent and MapUpdate.Exist was asked for.", "use MapUpdate.Any to create it.");
                    break;
                case Errno.EINVAL when Spec.Type is MapType.Array or MapType.PerCpuArray && how == MapUpdate.NoExist:
                    Throw.Kernel(call, errno, "array entries always exist, so MapUpdate.NoExist cannot apply.", "use MapUpdate.Any.");
                    break;
                case Errno.EOPNOTSUPP or Errno.EBADF or Errno.EINVAL or Errno.ENOTSOCK when Spec.Type == MapType.XskMap:
                    Throw.Kernel(call, errno, "an XSKMAP value must be the fd of a bound AF_XDP socket.", "bind the XskSocket first, then store XskSocket.Fd.");
                    break;
            }
            Throw.Errno(call, errno);
        }
    }

    /// <summary>BPF_MAP_DELETE_ELEM; false when the key was absent.</summary>
    public bool Delete(ReadOnlySpan<byte> key)
    {
        CheckKey(key.Length);
        fixed (byte* k = key)
        {
            var attr = new bpf_attr_map_elem { map_fd = (uint)Fd, key = (ulong)k };
            if (Sys.Bpf(Sys.BPF_MAP_DELETE_ELEM, ref attr, out int errno) >= 0)
                return true;
            if (errno == Errno.ENOENT)
                return false;
            string call = $"bpf(BPF_MAP_DELETE_ELEM, {Name}[{KeyText(key)}])";
            if (errno == Errno.EINVAL && Spec.Type is MapType.Array or MapType.PerCpuArray)
                Throw.Kernel(call, errno, "array entries cannot be deleted.", "store zero instead.");
            Throw.Errno(call, errno);
            return false;
        }
    }

    /// <summary>
    /// BPF_MAP_GET_NEXT_KEY: the key after <paramref name="key"/> (the first key when it is empty),
    /// written to <paramref name="nextKey"/>; false after the last.
    /// </summary>
    public bool TryGetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey)
    {
        if ((key.Length != 0 && key.Length != Spec.KeySize) || nextKey.Length != Spec.KeySize)
            throw new ArgumentException($"map {Name} has {Spec.KeySize}-byte keys");
        fixed (byte* k = key)
        fixed (byte* n = nextKey)
        {
            var attr = new bpf_attr_map_elem { map_fd = (uint)Fd, key = key.Length == 0 ? 0 : (ulong)k, value = (ulong)n };
            if (Sys.Bpf(Sys.BPF_MAP_GET_NEXT_KEY, ref attr, out int errno) >= 0)
                return true;
            if (errno == Errno.ENOENT)
                return false;
            Throw.Errno($"bpf(BPF_MAP_GET_NEXT_KEY, {Name})", errno);
            return false;
        }
    }

    /// <summary>Every key, in the kernel's order (a snapshot: entries added or removed meanwhile may be missed).</summary>
    public IEnumerable<byte[]> Keys()
    {
        byte[] key = [];
        // A bounded walk: a hash map changing under us could otherwise restart from the first key forever.
        for (uint i = 0; i <= Spec.MaxEntries; i++)
        {
            byte[] next = new byte[Spec.KeySize];
            if (!TryGetNextKey(key, next))
                yield break;
            yield return next;
            key = next;
        }
    }

    /// <summary>Typed lookup: <typeparamref name="TKey"/> and <typeparamref name="TValue"/> must have the map's key and value sizes.</summary>
    public bool TryLookup<TKey, TValue>(TKey key, out TValue value) where TKey : unmanaged where TValue : unmanaged
    {
        value = default;
        return TryLookup(Bytes(ref key), Bytes(ref value));
    }

    /// <summary>Typed update.</summary>
    public void Update<TKey, TValue>(TKey key, TValue value, MapUpdate how = MapUpdate.Any) where TKey : unmanaged where TValue : unmanaged =>
        Update(Bytes(ref key), Bytes(ref value), how);

    /// <summary>Typed delete.</summary>
    public bool Delete<TKey>(TKey key) where TKey : unmanaged => Delete(Bytes(ref key));

    internal static Span<byte> Bytes<T>(ref T value) where T : unmanaged => MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref value, 1));

    /// <summary>A key for messages: 4-byte keys (indexes, queues) as numbers, others in hex.</summary>
    static string KeyText(ReadOnlySpan<byte> key) => key.Length == 4 ? MemoryMarshal.Read<uint>(key).ToString(System.Globalization.CultureInfo.InvariantCulture) : "0x" + Convert.ToHexString(key);

    void CheckKey(int keyLength)
    {
        if (keyLength != Spec.KeySize)
            throw new ArgumentException($"map {Name} ({Spec.Type}) takes {Spec.KeySize}-byte keys, not {keyLength}");
    }

    void CheckSizes(int keyLength, int valueLength)
    {
        CheckKey(keyLength);
        if (valueLength != ValueBufferSize)
            throw new ArgumentException(
                $"map {Name} ({Spec.Type}) takes {Spec.KeySize}-byte keys and {ValueBufferSize}-byte values{(Spec.IsPerCpu ? $" ({PossibleCpus.Count} possible CPUs)" : "")}, not {keyLength} and {valueLength}");
    }

    /// <summary>Closes the descriptor; the kernel frees the map when no program, pin or fd holds it. Idempotent.</summary>
    public void Dispose() => _fd.Dispose();

    /// <summary>Type, name, id and sizes, for messages.</summary>
    public override string ToString() => $"{Spec.Type} map \"{Name}\" (id {Id}, key {Spec.KeySize}, value {Spec.ValueSize}, {Spec.MaxEntries} entries)";
}

/// <summary>The CPUs the kernel may ever bring up (/sys/devices/system/cpu/possible): per-CPU maps hold one value for each.</summary>
internal static class PossibleCpus
{
    static readonly Lazy<int> s_count = new(() => Parse(File.ReadAllText("/sys/devices/system/cpu/possible")));

    /// <summary>How many CPUs are possible (read once).</summary>
    public static int Count => s_count.Value;

    /// <summary>The number of CPUs in a kernel CPU list such as "0-3,6,8-9".</summary>
    public static int Parse(string list)
    {
        int count = 0;
        foreach (string part in list.Trim().Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] range = part.Split('-');
            if (range.Length is < 1 or > 2 || !int.TryParse(range[0], out int first) || !int.TryParse(range[^1], out int last) || last < first)
                throw new FormatException($"'{list.Trim()}' is not a kernel CPU list (like 0-3,6)");
            count += last - first + 1;
        }
        return count > 0 ? count : throw new FormatException("an empty CPU list");
    }
}

internal static unsafe class BpfNames
{
    /// <summary>Object names: at most 15 bytes of [A-Za-z0-9_.] (bpf_obj_name_cpy), NUL-terminated.</summary>
    public static void Write(string name, byte* destination)
    {
        if (name.Length > 15 || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '_' or '.')))
            Throw.Argument(nameof(name), $"BPF object name \"{name}\"", "the kernel accepts at most 15 characters of letters, digits, '_' and '.'.", "shorten or rename it.");
        Encoding.ASCII.GetBytes(name, new Span<byte>(destination, 16));
    }

    public static string Read(byte* name) => Sys.CString(name, 16);
}
