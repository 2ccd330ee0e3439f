using System.Text;
using AfXdp.Interop;
using AfXdp.Xsk;

namespace AfXdp.Bpf;

/// <summary>enum bpf_map_type, the ones the library creates.</summary>
public enum MapType : uint
{
    Hash = 1,
    Array = 2,
    PerCpuArray = 6,
    DevMap = 14,
    XskMap = 17,
}

/// <summary>What a map should be: plain data, checked without a kernel.</summary>
public sealed record MapSpec(string Name, MapType Type, uint KeySize, uint ValueSize, uint MaxEntries, uint Flags = 0)
{
    /// <summary>An XSKMAP with one slot per queue: key = queue id, value = AF_XDP socket fd.</summary>
    public static MapSpec XskMap(string name, uint queues) => new(name, MapType.XskMap, 4, 4, queues);
}

/// <summary>A map the kernel holds; owns its fd (closed on Dispose or by the finalizer).</summary>
public sealed unsafe class BpfMap : IDisposable, IBpfMapReference
{
    readonly SafeFd _fd;

    BpfMap(SafeFd fd, MapSpec spec)
    {
        _fd = fd;
        Spec = spec;
    }

    public MapSpec Spec { get; }

    public int Fd => _fd.Fd;

    public string Name => Spec.Name;

    /// <summary>BPF_MAP_CREATE.</summary>
    public static BpfMap Create(MapSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.MaxEntries == 0)
            Throw.Config($"MapSpec({spec.Name}).MaxEntries = 0", "a map needs at least one entry.", "set MaxEntries.");
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
                    $"for {spec.Type} check the sizes the kernel requires (XSKMAP and DEVMAP: 4-byte keys and values).");
            if (errno == Errno.EPERM)
            {
                // Maps of sockets and devices are networking objects: map_create asks bpf_net_capable() too.
                if (spec.Type is MapType.XskMap or MapType.DevMap)
                    Throw.Capability(call, errno, spec.Type == MapType.XskMap ? "an XSKMAP" : "a DEVMAP", Privileges.CAP_BPF, Privileges.CAP_NET_ADMIN);
                Throw.Capability(call, errno, "a BPF map", Privileges.CAP_BPF);
            }
            Throw.Errno(call, errno);
        }
        return new BpfMap(new SafeFd(fd), spec);
    }

    /// <summary>BPF_MAP_UPDATE_ELEM with a 4-byte key and value (XSKMAP, DEVMAP, u32 arrays).</summary>
    public void Update(uint key, uint value)
    {
        var attr = new bpf_attr_map_elem { map_fd = (uint)Fd, key = (ulong)&key, value = (ulong)&value };
        if (Sys.Bpf(Sys.BPF_MAP_UPDATE_ELEM, ref attr, out int errno) < 0)
            Throw.Errno($"bpf(BPF_MAP_UPDATE_ELEM, {Name}[{key}] = {value})", errno);
    }

    /// <summary>BPF_MAP_DELETE_ELEM; false when the key was absent (ENOENT).</summary>
    public bool Delete(uint key)
    {
        var attr = new bpf_attr_map_elem { map_fd = (uint)Fd, key = (ulong)&key };
        if (Sys.Bpf(Sys.BPF_MAP_DELETE_ELEM, ref attr, out int errno) < 0)
        {
            if (errno == Errno.ENOENT)
                return false;
            Throw.Errno($"bpf(BPF_MAP_DELETE_ELEM, {Name}[{key}])", errno);
        }
        return true;
    }

    /// <summary>BPF_MAP_LOOKUP_ELEM into a caller's buffer of ValueSize bytes; false when absent.</summary>
    public bool TryLookup(ReadOnlySpan<byte> key, Span<byte> value)
    {
        if (value.Length < Spec.ValueSize || key.Length < Spec.KeySize)
            throw new ArgumentException($"map {Name} has {Spec.KeySize}-byte keys and {Spec.ValueSize}-byte values");
        fixed (byte* k = key)
        fixed (byte* v = value)
        {
            var attr = new bpf_attr_map_elem { map_fd = (uint)Fd, key = (ulong)k, value = (ulong)v };
            if (Sys.Bpf(Sys.BPF_MAP_LOOKUP_ELEM, ref attr, out int errno) < 0)
            {
                if (errno == Errno.ENOENT)
                    return false;
                Throw.Errno($"bpf(BPF_MAP_LOOKUP_ELEM, {Name})", errno);
            }
        }
        return true;
    }

    public void Dispose() => _fd.Dispose();
}

internal static unsafe class BpfNames
{
    /// <summary>Object names: at most 15 bytes of [A-Za-z0-9_.] (bpf_obj_name_cpy), NUL-terminated.</summary>
    public static void Write(string name, byte* destination)
    {
        if (name.Length > 15 || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '_' or '.')))
            Throw.Config($"BPF object name \"{name}\"", "the kernel accepts at most 15 characters of letters, digits, '_' and '.'.", "shorten or rename it.");
        Encoding.ASCII.GetBytes(name, new Span<byte>(destination, 16));
    }

    public static string Read(byte* name) => Encoding.ASCII.GetString(new ReadOnlySpan<byte>(name, 16)).TrimEnd('\0');
}
