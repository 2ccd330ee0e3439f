using System.Runtime.CompilerServices;
using AfXdp.Device;
using AfXdp.Interop;

namespace AfXdp.Xsk;

/// <summary>The setsockopt/getsockopt/mmap steps shared by <see cref="Umem"/> and <see cref="XskSocket"/>.</summary>
internal static unsafe class XskFd
{
    // A ring is raw pointers into its mapping: the mapping must live as long as anyone can reach the ring,
    // even one who kept socket.Rx and let the socket go (the finalizer would unmap it under the reader).
    static readonly ConditionalWeakTable<object, SafeMapping> s_ringMappings = new();

    static T Tie<T>(T ring, SafeMapping map) where T : class
    {
        s_ringMappings.Add(ring, map);
        return ring;
    }

    public static SafeFd Open()
    {
        int fd = Sys.Socket(IfXdp.AF_XDP, Sys.SOCK_RAW | Sys.SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            int errno = Sys.LastErrno;
            if (errno is Errno.EPERM or Errno.EACCES)
                Throw.Capability("socket(AF_XDP, SOCK_RAW)", errno, CapabilityNeed.AfXdpSocket, CapabilityNeed.XdpProgram);
            Throw.Errno("socket(AF_XDP, SOCK_RAW)", errno);
        }
        return new SafeFd(fd);
    }

    /// <summary>The calling thread's network namespace (sockets belong to the one they were created in).</summary>
    public static string CurrentNetworkNamespace() =>
        File.ResolveLinkTarget("/proc/thread-self/ns/net", returnFinalTarget: false)?.Name ?? "";

    public static void SetRingSize(SafeFd socket, int option, uint size, string name)
    {
        if (Sys.SetSockOpt(socket.Fd, IfXdp.SOL_XDP, option, &size, sizeof(uint)) != 0)
        {
            int errno = Sys.LastErrno;
            if (errno == Errno.EINVAL)
                Throw.Kernel($"setsockopt({name}, {size})", errno,
                    "the ring size was refused, or this ring was already set on the socket.",
                    "use a power of two no larger than 2^24, once per socket.");
            Throw.Errno($"setsockopt({name}, {size})", errno);
        }
    }

    public static xdp_mmap_offsets GetMmapOffsets(SafeFd socket)
    {
        xdp_mmap_offsets offsets;
        uint len = (uint)sizeof(xdp_mmap_offsets);
        if (Sys.GetSockOpt(socket.Fd, IfXdp.SOL_XDP, IfXdp.XDP_MMAP_OFFSETS, &offsets, &len) != 0)
            Throw.Errno("getsockopt(XDP_MMAP_OFFSETS)", Sys.LastErrno);
        if (len != sizeof(xdp_mmap_offsets))
            Throw.Config("getsockopt(XDP_MMAP_OFFSETS)",
                $"the kernel returned {len} bytes of ring offsets, an ABI older than 5.4 (no flags word).",
                "use a kernel of version 5.4 or later.");
        return offsets;
    }

    static SafeMapping MapRing(SafeFd socket, in xdp_ring_offset offsets, uint size, uint entrySize, long pageOffset, string name)
    {
        nuint length = (nuint)(offsets.desc + (ulong)size * entrySize);
        SafeMapping? map = SafeMapping.TryMap(length, Sys.PROT_READ | Sys.PROT_WRITE, Sys.MAP_SHARED | Sys.MAP_POPULATE, socket.Fd, pageOffset, out int errno);
        if (map is null)
            Throw.Kernel($"mmap({name} ring, {length} bytes)", errno, "the ring could not be mapped (was its size set before mmap?).",
                "report this as a bug of AfXdp with the kernel version.");
        return map;
    }

    public static (SafeMapping, FillRing) MapFillRing(XskDoorbell doorbell, in xdp_mmap_offsets offsets, uint size, Umem umem)
    {
        SafeMapping map = MapRing(doorbell.Socket, offsets.fr, size, sizeof(ulong), IfXdp.XDP_UMEM_PGOFF_FILL_RING, "FILL");
        return (map, Tie(new FillRing(RingMemory.At(map.Pointer, offsets.fr, size), umem, doorbell), map));
    }

    public static (SafeMapping, CompletionRing) MapCompletionRing(SafeFd socket, in xdp_mmap_offsets offsets, uint size, FillRing fill, XskCounters counters)
    {
        SafeMapping map = MapRing(socket, offsets.cr, size, sizeof(ulong), IfXdp.XDP_UMEM_PGOFF_COMPLETION_RING, "COMPLETION");
        return (map, Tie(new CompletionRing(RingMemory.At(map.Pointer, offsets.cr, size), fill, counters), map));
    }

    public static (SafeMapping, RxRing) MapRxRing(XskDoorbell doorbell, in xdp_mmap_offsets offsets, uint size, Umem umem, FillRing fill, XskCounters counters, bool multiBuffer)
    {
        SafeMapping map = MapRing(doorbell.Socket, offsets.rx, size, (uint)sizeof(XdpDescriptor), IfXdp.XDP_PGOFF_RX_RING, "RX");
        return (map, Tie(new RxRing(RingMemory.At(map.Pointer, offsets.rx, size), doorbell, umem, fill, counters, multiBuffer), map));
    }

    public static (SafeMapping, TxRing) MapTxRing(XskDoorbell doorbell, in xdp_mmap_offsets offsets, uint size, Umem umem, XskCounters counters, bool alwaysKick)
    {
        SafeMapping map = MapRing(doorbell.Socket, offsets.tx, size, (uint)sizeof(XdpDescriptor), IfXdp.XDP_PGOFF_TX_RING, "TX");
        return (map, Tie(new TxRing(RingMemory.At(map.Pointer, offsets.tx, size), doorbell, umem, counters, alwaysKick), map));
    }
}
