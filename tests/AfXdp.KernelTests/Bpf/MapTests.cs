using AfXdp.Bpf;
using AfXdp.Xsk;
using AfXdp.Interop;
using AfXdp.KernelTests.Xsk;

namespace AfXdp.KernelTests.Bpf;

/// <summary>Typed maps against the kernel: create, read, write, delete, iterate, open by id.</summary>
public sealed class MapTests
{
    public MapTests() => KernelTest.RequireRoot();

    [Fact]
    public void An_array_holds_values_by_index_and_cannot_delete()
    {
        using ArrayMap<ulong> array = ArrayMap<ulong>.Create("afxdp_array", 4);
        Assert.Equal(0UL, array[3]);
        array[2] = 0x1122_3344_5566_7788;
        Assert.Equal(0x1122_3344_5566_7788UL, array[2]);
        Assert.Equal([[0, 0, 0, 0], [1, 0, 0, 0], [2, 0, 0, 0], [3, 0, 0, 0]], array.Map.Keys());
        Assert.Throws<ArgumentOutOfRangeException>(() => array[4]);
        AfXdpException e = Assert.Throws<AfXdpException>(() => array.Map.Delete(2u));
        Assert.Equal(Errno.EINVAL, e.Errno);
        Assert.Contains("array entries cannot be deleted", e.Message);
    }

    [Fact]
    public void A_hash_map_sets_finds_iterates_and_removes()
    {
        using HashMap<uint, long> hash = HashMap<uint, long>.Create("afxdp_hash", 3);
        hash.Set(7, -1);
        hash.Set(9, 42);
        Assert.True(hash.TryGetValue(9, out long value));
        Assert.Equal(42, value);
        Assert.False(hash.TryGetValue(8, out _));
        Assert.Equal([7u, 9u], hash.Keys.Order());

        Assert.Equal(Errno.EEXIST, Assert.Throws<AfXdpException>(() => hash.Set(7, 0, MapUpdate.NoExist)).Errno);
        Assert.Equal(Errno.ENOENT, Assert.Throws<AfXdpException>(() => hash.Set(1, 0, MapUpdate.Exist)).Errno);
        hash.Set(1, 1);
        AfXdpException full = Assert.Throws<AfXdpException>(() => hash.Set(2, 2));
        Assert.Equal(Errno.E2BIG, full.Errno);
        Assert.Contains("the map is full (3 entries)", full.Message);

        Assert.True(hash.Remove(7));
        Assert.False(hash.Remove(7));
        Assert.Equal([1u, 9u], hash.Keys.Order());
    }

    [Fact]
    public void A_per_CPU_array_has_one_value_per_possible_CPU()
    {
        int cpus = PossibleCpus.Parse(File.ReadAllText("/sys/devices/system/cpu/possible"));
        Assert.Equal(cpus, PossibleCpus.Count);
        using PerCpuArray<ulong> counters = PerCpuArray<ulong>.Create("afxdp_percpu", 2);
        Assert.Equal(cpus * 8, counters.Map.ValueBufferSize);
        ulong[] values = Enumerable.Range(1, cpus).Select(i => (ulong)i * 10).ToArray();
        counters.Set(1, values);
        Assert.Equal(values, counters.Get(1));
        Assert.Equal(values.Aggregate((a, b) => a + b), counters.Sum(1u));
        Assert.Equal(0UL, counters.Sum(0u));
        Assert.Throws<ArgumentException>(() => counters.Set(0, new ulong[cpus + 1]));

        // Values narrower than 8 bytes are still laid out 8 bytes apart.
        using PerCpuArray<uint> narrow = PerCpuArray<uint>.Create("afxdp_percpu32", 1);
        uint[] small = Enumerable.Range(1, cpus).Select(i => (uint)i).ToArray();
        narrow.Set(0, small);
        Assert.Equal(small, narrow.Get(0));
    }

    [Fact]
    public void A_devmap_holds_interface_indexes()
    {
        using DevMap devices = DevMap.Create("afxdp_devs", 2);
        Assert.False(devices.TryGet(0, out _));
        devices.Set(1, 1); // lo
        Assert.True(devices.TryGet(1, out int ifindex));
        Assert.Equal(1, ifindex);
        devices.Remove(1);
        Assert.False(devices.TryGet(1, out _));
    }

    [Fact]
    public void An_XSKMAP_takes_bound_sockets_and_keeps_them_to_itself()
    {
        using var bed = new XskTestBed(attach: null);
        using XskMap xsks = XskMap.Create("afxdp_xsks", 2);
        xsks.Register(bed.Socket);
        Assert.Equal(2, xsks.Map.Keys().Count());
        AfXdpException read = Assert.Throws<AfXdpException>(() => xsks.Map.TryLookup(0u, out uint _));
        Assert.Equal(Errno.EOPNOTSUPP, read.Errno);
        AfXdpException notSocket = Assert.Throws<AfXdpException>(() => xsks.Map.Update(1u, (uint)xsks.Fd));
        Assert.Equal(Errno.ENOTSOCK, notSocket.Errno);
        Assert.Contains("afxdp_xsks[1]", notSocket.Message);
        Assert.Contains("must be the fd of a bound AF_XDP socket", notSocket.Message);
        xsks.Unregister(0);
        xsks.Unregister(0);
        Assert.Throws<ArgumentOutOfRangeException>(() => xsks.Unregister(2));
    }

    [Fact]
    public void A_map_opened_by_id_has_the_kernel_shape_and_a_wrong_type_is_refused()
    {
        using ArrayMap<ulong> array = ArrayMap<ulong>.Create("afxdp_byid", 5);
        array[1] = 99;
        using (BpfMap same = BpfMap.FromId(array.Id))
        {
            Assert.Equal(array.Map.Spec, same.Spec);
            Assert.Equal(array.Id, same.Id);
            using ArrayMap<ulong> typed = ArrayMap<ulong>.Open(same);
            Assert.Equal(99UL, typed[1]);
        }

        BpfMap other = BpfMap.FromId(array.Id);
        AfXdpException e = Assert.Throws<AfXdpException>(() => XskMap.Open(other));
        Assert.Contains("a XskMap is a XskMap map with 4-byte keys and 4-byte values", e.Message);
        Assert.Throws<ObjectDisposedException>(() => other.Fd); // Open disposed what it refused

        AfXdpException gone = Assert.Throws<AfXdpException>(() => BpfMap.FromId(uint.MaxValue));
        Assert.Equal(Errno.ENOENT, gone.Errno);
        Assert.Contains("bpftool map show", gone.Message);
    }
}
