using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AfXdp.Bpf;

/// <summary>
/// A map with typed keys and values. Owns the <see cref="BpfMap"/> it wraps: made by <c>Create</c>,
/// or taken over by <c>Open</c> from <see cref="BpfMap.FromId"/> / <see cref="BpfMap.OpenPinned"/>,
/// which checks the type and sizes (and disposes the map when they do not fit).
/// </summary>
public abstract class TypedMap : IDisposable, IBpfMapReference
{
    private protected TypedMap(BpfMap map, MapType type, int keySize, int valueSize)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (map.Spec.Type != type || map.Spec.KeySize != keySize || map.Spec.ValueSize != valueSize)
        {
            map.Dispose();
            Throw.Config($"open {map} as {GetType().Name}",
                $"a {GetType().Name} is a {type} map with {keySize}-byte keys and {valueSize}-byte values.",
                "open it as a BpfMap, or with the type that matches (`bpftool map show id N` prints its type and sizes).");
        }
        Map = map;
    }

    /// <summary>The untyped map: id, spec, byte-level operations, iteration.</summary>
    public BpfMap Map { get; }

    /// <summary>The map's descriptor (throws once disposed).</summary>
    public int Fd => Map.Fd;

    /// <summary>The map's name as the kernel stores it.</summary>
    public string Name => Map.Name;

    /// <summary>The kernel's map id (what `bpftool map show` prints).</summary>
    public uint Id => Map.Id;

    /// <summary>Pins the map at <paramref name="path"/> in a bpffs.</summary>
    public void Pin(string path) => Map.Pin(path);

    /// <summary>Closes the map's descriptor. Idempotent.</summary>
    public void Dispose()
    {
        Map.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Type, name, id and sizes, for messages.</summary>
    public override string ToString() => Map.ToString();

    private protected static MapSpec SpecOf<TKey, TValue>(string name, MapType type, uint entries) =>
        new(name, type, (uint)Unsafe.SizeOf<TKey>(), (uint)Unsafe.SizeOf<TValue>(), entries);

    private protected void CheckIndex(uint index)
    {
        if (index >= Map.Spec.MaxEntries)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"{Name} has {Map.Spec.MaxEntries} entries");
    }
}

/// <summary>BPF_MAP_TYPE_ARRAY: a fixed number of values indexed from 0, all present (zero until set).</summary>
public sealed class ArrayMap<T> : TypedMap where T : unmanaged
{
    ArrayMap(BpfMap map) : base(map, MapType.Array, sizeof(uint), Unsafe.SizeOf<T>()) { }

    /// <summary>Creates an array of <paramref name="length"/> values of <typeparamref name="T"/>, all zero.</summary>
    public static ArrayMap<T> Create(string name, uint length) => new(BpfMap.Create(SpecOf<uint, T>(name, MapType.Array, length)));

    /// <summary>Takes over <paramref name="map"/> as an array of <typeparamref name="T"/>.</summary>
    public static ArrayMap<T> Open(BpfMap map) => new(map);

    /// <summary>The number of entries (indices 0 to Length - 1).</summary>
    public uint Length => Map.Spec.MaxEntries;

    /// <summary>Reads or writes the entry at <paramref name="index"/>; out of range throws ArgumentOutOfRangeException.</summary>
    public T this[uint index]
    {
        get
        {
            CheckIndex(index);
            Map.TryLookup(index, out T value);
            return value;
        }
        set
        {
            CheckIndex(index);
            Map.Update(index, value);
        }
    }
}

/// <summary>BPF_MAP_TYPE_HASH: up to MaxEntries key/value pairs.</summary>
public sealed class HashMap<TKey, TValue> : TypedMap where TKey : unmanaged where TValue : unmanaged
{
    HashMap(BpfMap map) : base(map, MapType.Hash, Unsafe.SizeOf<TKey>(), Unsafe.SizeOf<TValue>()) { }

    /// <summary>Creates an empty hash that holds up to <paramref name="maxEntries"/> pairs.</summary>
    public static HashMap<TKey, TValue> Create(string name, uint maxEntries) => new(BpfMap.Create(SpecOf<TKey, TValue>(name, MapType.Hash, maxEntries)));

    /// <summary>Takes over <paramref name="map"/> as a hash of <typeparamref name="TKey"/> to <typeparamref name="TValue"/>.</summary>
    public static HashMap<TKey, TValue> Open(BpfMap map) => new(map);

    /// <summary>The value stored under <paramref name="key"/>; false when the key is absent.</summary>
    public bool TryGetValue(TKey key, out TValue value) => Map.TryLookup(key, out value);

    /// <summary>Stores <paramref name="value"/> under <paramref name="key"/>; <paramref name="how"/> says whether the key may or must exist.</summary>
    public void Set(TKey key, TValue value, MapUpdate how = MapUpdate.Any) => Map.Update(key, value, how);

    /// <summary>False when the key was absent.</summary>
    public bool Remove(TKey key) => Map.Delete(key);

    /// <summary>The keys, by BPF_MAP_GET_NEXT_KEY.</summary>
    public IEnumerable<TKey> Keys => Map.Keys().Select(bytes => MemoryMarshal.Read<TKey>(bytes));
}

/// <summary>
/// BPF_MAP_TYPE_PERCPU_ARRAY: each entry holds one value per possible CPU, so a program updates
/// its CPU's copy without atomics (counters); user space reads all copies and adds them up.
/// </summary>
public sealed class PerCpuArray<T> : TypedMap where T : unmanaged
{
    // The kernel lays the copies out 8-byte aligned (bpf_long_memcpy of round_up(value_size, 8)).
    static readonly int Stride = (Unsafe.SizeOf<T>() + 7) / 8 * 8;

    PerCpuArray(BpfMap map) : base(map, MapType.PerCpuArray, sizeof(uint), Unsafe.SizeOf<T>()) { }

    /// <summary>Creates a per-CPU array of <paramref name="length"/> entries, zero on every CPU.</summary>
    public static PerCpuArray<T> Create(string name, uint length) => new(BpfMap.Create(SpecOf<uint, T>(name, MapType.PerCpuArray, length)));

    /// <summary>Takes over <paramref name="map"/> as a per-CPU array of <typeparamref name="T"/>.</summary>
    public static PerCpuArray<T> Open(BpfMap map) => new(map);

    /// <summary>The number of entries (indices 0 to Length - 1).</summary>
    public uint Length => Map.Spec.MaxEntries;

    /// <summary>The entry's value on each possible CPU (index = position in /sys/devices/system/cpu/possible).</summary>
    public T[] Get(uint index)
    {
        CheckIndex(index);
        byte[] buffer = new byte[Map.ValueBufferSize];
        Map.TryLookup(BpfMap.Bytes(ref index), buffer);
        var values = new T[PossibleCpus.Count];
        for (int cpu = 0; cpu < values.Length; cpu++)
            values[cpu] = MemoryMarshal.Read<T>(buffer.AsSpan(cpu * Stride));
        return values;
    }

    /// <summary>Sets the entry on every CPU (one value per possible CPU).</summary>
    public void Set(uint index, ReadOnlySpan<T> perCpu)
    {
        CheckIndex(index);
        if (perCpu.Length != PossibleCpus.Count)
            throw new ArgumentException($"{Name} needs one value per possible CPU ({PossibleCpus.Count}), got {perCpu.Length}", nameof(perCpu));
        byte[] buffer = new byte[Map.ValueBufferSize];
        for (int cpu = 0; cpu < perCpu.Length; cpu++)
            MemoryMarshal.Write(buffer.AsSpan(cpu * Stride), in perCpu[cpu]);
        Map.Update(BpfMap.Bytes(ref index), buffer);
    }
}

/// <summary>Sums over per-CPU values.</summary>
public static class PerCpuArrayExtensions
{
    /// <summary>The entry's values added up over all CPUs (a counter's total).</summary>
    public static T Sum<T>(this PerCpuArray<T> map, uint index) where T : unmanaged, INumber<T>
    {
        ArgumentNullException.ThrowIfNull(map);
        T total = T.Zero;
        foreach (T value in map.Get(index))
            total += value;
        return total;
    }
}

/// <summary>
/// BPF_MAP_TYPE_XSKMAP: slot q holds the AF_XDP socket that frames of queue q are redirected to
/// (bpf_redirect_map). Open the XSKMAP of a program loaded by another tool (xdp-loader, bpftool,
/// libbpf) with <see cref="OfProgram"/>, <see cref="BpfMap.OpenPinned"/> or <see cref="BpfMap.FromId"/>
/// and register our sockets in it.
/// </summary>
public sealed class XskMap : TypedMap
{
    XskMap(BpfMap map) : base(map, MapType.XskMap, sizeof(uint), sizeof(uint)) { }

    /// <summary>Creates an XSKMAP with one empty slot per queue.</summary>
    public static XskMap Create(string name, uint queues) => new(BpfMap.Create(MapSpec.XskMap(name, queues)));

    /// <summary>Takes over <paramref name="map"/> as an XSKMAP.</summary>
    public static XskMap Open(BpfMap map) => new(map);

    /// <summary>Opens the XSKMAP that <paramref name="program"/> uses (e.g. the one attached to an interface).</summary>
    public static XskMap OfProgram(BpfProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        IReadOnlyList<BpfMap> maps = program.OpenMaps();
        BpfMap? xsks = maps.FirstOrDefault(m => m.Spec.Type == MapType.XskMap);
        foreach (BpfMap other in maps.Where(m => m != xsks))
            other.Dispose();
        if (xsks is not null)
            return new XskMap(xsks);
        Throw.Config($"XskMap.OfProgram(program id {program.Id} \"{program.Name}\")", "the program uses no XSKMAP, so it cannot redirect to AF_XDP sockets.",
            "attach a program that calls bpf_redirect_map on an XSKMAP (e.g. XskRedirectProgram).");
        return null;
    }

    /// <summary>Slots, one per queue id.</summary>
    public uint Slots => Map.Spec.MaxEntries;

    /// <summary>XSKMAP[<paramref name="queue"/>] = <paramref name="socketFd"/>: the program's redirects for that queue reach the AF_XDP socket.</summary>
    public void Register(uint queue, int socketFd)
    {
        if (queue >= Slots)
            Throw.OutOfRange(nameof(queue), $"{Name}.Register(queue {queue}, fd {socketFd})", $"the XSKMAP has {Slots} slots (one per queue), so queue {queue} has none.", "bind to a queue below the slot count, or create the map with more slots.");
        Map.Update(queue, (uint)socketFd);
    }

    /// <summary>Empties the queue's slot (its frames pass to the kernel again); an empty slot stays empty.</summary>
    public void Unregister(uint queue)
    {
        CheckIndex(queue);
        Map.Delete(queue);
    }
}

/// <summary>BPF_MAP_TYPE_DEVMAP: slot i holds an interface index that bpf_redirect_map sends frames out of.</summary>
public sealed class DevMap : TypedMap
{
    DevMap(BpfMap map) : base(map, MapType.DevMap, sizeof(uint), sizeof(uint)) { }

    /// <summary>Creates an empty DEVMAP of <paramref name="slots"/> slots.</summary>
    public static DevMap Create(string name, uint slots) => new(BpfMap.Create(new MapSpec(name, MapType.DevMap, sizeof(uint), sizeof(uint), slots)));

    /// <summary>Takes over <paramref name="map"/> as a DEVMAP with 4-byte values (interface indexes).</summary>
    public static DevMap Open(BpfMap map) => new(map);

    /// <summary>The number of slots.</summary>
    public uint Slots => Map.Spec.MaxEntries;

    /// <summary>The interface index in slot <paramref name="slot"/>; false when empty.</summary>
    public bool TryGet(uint slot, out int interfaceIndex)
    {
        CheckIndex(slot);
        return Map.TryLookup(slot, out interfaceIndex);
    }

    /// <summary>Puts an interface index in a slot; frames redirected to the slot go out of that interface.</summary>
    public void Set(uint slot, int interfaceIndex)
    {
        CheckIndex(slot);
        Map.Update(slot, interfaceIndex);
    }

    /// <summary>Empties the slot; an empty slot stays empty.</summary>
    public void Remove(uint slot)
    {
        CheckIndex(slot);
        Map.Delete(slot);
    }
}
