using System.Runtime.CompilerServices;
using AfXdp.Device;
using AfXdp.Interop;

namespace AfXdp.Xsk;

/// <summary>
/// The packet memory shared with the kernel, registered on an AF_XDP socket, with its FILL and
/// COMPLETION rings. Frames are addressed by their byte offset into the UMEM.
/// The first <see cref="XskSocket"/> created on a UMEM binds through the UMEM's own descriptor;
/// later ones share it (XDP_SHARED_UMEM).
/// </summary>
/// <remarks>
/// The sockets hold the UMEM's frames and, the first one, its descriptor and rings: unmapping them under a live
/// socket would be a use-after-free. So <see cref="Dispose"/> may come in either order: disposed while sockets
/// still use it, the UMEM only refuses new sockets, and releases its memory, rings and descriptor when the last
/// of them is disposed.
/// </remarks>
public sealed unsafe class Umem : IDisposable
{
    readonly SafeMapping _area;
    readonly SafeMapping _fillMap;
    readonly SafeMapping _completionMap;
    readonly byte* _base;
    readonly SafeFd? _memory;
    readonly Lock _lifetime = new();
    int _socketsBound;
    int _socketsAlive;
    bool _disposeRequested;

    /// <summary>
    /// Maps the packet memory, opens an AF_XDP socket, registers the memory on it (XDP_UMEM_REG) and maps
    /// its FILL and COMPLETION rings; null <paramref name="options"/> means the <see cref="UmemOptions"/> defaults.
    /// </summary>
    /// <exception cref="ArgumentException">A bad configuration value (<see cref="UmemOptions.Validate"/>).</exception>
    /// <exception cref="AfXdpException">A size above RLIMIT_MEMLOCK without CAP_IPC_LOCK, required huge pages missing, or a failed syscall (e.g. no CAP_NET_RAW).</exception>
    public Umem(UmemOptions? options = null)
    {
        Options = options ?? new UmemOptions();
        Options.Validate();
        CheckMemlock(Options.Size);

        (_area, UsesHugePages) = Options.Shareable ? MapShareable(Options, out _memory) : MapArea(Options);
        try
        {
            _base = _area.Pointer;
            Socket = XskFd.Open();
            NetworkNamespace = XskFd.CurrentNetworkNamespace();
            Register();
            XskFd.SetRingSize(Socket, IfXdp.XDP_UMEM_FILL_RING, Options.FillRingSize, "XDP_UMEM_FILL_RING");
            XskFd.SetRingSize(Socket, IfXdp.XDP_UMEM_COMPLETION_RING, Options.CompletionRingSize, "XDP_UMEM_COMPLETION_RING");
            xdp_mmap_offsets offsets = XskFd.GetMmapOffsets(Socket);
            Doorbell = new XskDoorbell(Socket);
            (_fillMap, Fill) = XskFd.MapFillRing(Doorbell, offsets, Options.FillRingSize, this);
            (_completionMap, Completion) = XskFd.MapCompletionRing(Socket, offsets, Options.CompletionRingSize, Fill, SocketCounters);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The configuration the UMEM was created with.</summary>
    public UmemOptions Options { get; }

    /// <summary>
    /// FILL ring of the first socket's (interface, queue), mapped on the UMEM's own descriptor; the
    /// first socket owns it and is the only way to it (<see cref="XskSocket.Fill"/>).
    /// </summary>
    internal FillRing Fill { get; } = null!;

    /// <summary>COMPLETION ring of the first socket's (interface, queue), reached through <see cref="XskSocket.Completion"/>.</summary>
    internal CompletionRing Completion { get; } = null!;

    /// <summary>True when the memory is backed by 2 MiB huge pages.</summary>
    public bool UsesHugePages { get; }

    /// <summary>Bytes per frame (<see cref="UmemOptions.FrameSize"/>).</summary>
    public uint FrameSize => Options.FrameSize;

    /// <summary>Number of frames in the UMEM (<see cref="UmemOptions.FrameCount"/>).</summary>
    public uint FrameCount => Options.FrameCount;

    /// <summary>The network namespace the UMEM's socket belongs to, e.g. "net:[4026531840]".</summary>
    public string NetworkNamespace { get; } = "";

    /// <summary>The AF_XDP socket the UMEM is registered on (the first bound socket uses it).</summary>
    internal SafeFd Socket { get; } = null!;

    /// <summary>Wakes the kernel for the rings of <see cref="Socket"/>; the first bound socket uses it too.</summary>
    internal XskDoorbell Doorbell { get; } = null!;

    /// <summary>
    /// The counters of the socket that will use <see cref="Socket"/>: made with the UMEM, because its
    /// COMPLETION ring counts sent frames into them from the start.
    /// </summary>
    internal XskCounters SocketCounters { get; } = new();

    /// <summary>Start of the packet memory.</summary>
    public byte* Pointer => _base;

    /// <summary>Address (UMEM offset) of frame number <paramref name="frame"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong FrameAddress(uint frame) => (ulong)frame * Options.FrameSize;

    /// <summary>
    /// The bytes at a descriptor address. In unaligned mode the top 16 bits of an address carry an
    /// offset (XSK_UNALIGNED_BUF_OFFSET_SHIFT); they are folded in here.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<byte> GetFrame(ulong address, int length) =>
        new(_base + (address & IfXdp.XSK_UNALIGNED_BUF_ADDR_MASK) + (address >> IfXdp.XSK_UNALIGNED_BUF_OFFSET_SHIFT), length);

    /// <summary>Bytes from <paramref name="address"/> to the end of its frame: how long a packet written there may be.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int RoomFrom(ulong address) =>
        (int)(Options.FrameSize - ((address & IfXdp.XSK_UNALIGNED_BUF_ADDR_MASK) + (address >> IfXdp.XSK_UNALIGNED_BUF_OFFSET_SHIFT)) % Options.FrameSize);

    /// <summary>The bytes of a received or to-be-sent descriptor.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<byte> GetFrame(in XdpDescriptor descriptor) => GetFrame(descriptor.Address, (int)descriptor.Length);

    /// <summary>
    /// Bytes of packet one TX descriptor carries: the frame less the TX metadata area in front of
    /// the data (<see cref="UmemOptions.TxMetadataLength"/>).
    /// </summary>
    public int TxSegmentCapacity => (int)(Options.FrameSize - Options.TxMetadataLength);

    /// <summary>TX descriptors (frames) a packet of <paramref name="length"/> bytes takes: 1 unless it is larger than a frame.</summary>
    public int TxSegmentsFor(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        return (length + TxSegmentCapacity - 1) / TxSegmentCapacity;
    }

    /// <summary>
    /// Where packet data to send starts in the frame at <paramref name="frameAddress"/>: right after
    /// its TX metadata area (the frame start when there is none), where the kernel looks for the metadata.
    /// </summary>
    public ulong TxPacketAddress(ulong frameAddress) => frameAddress + Options.TxMetadataLength;

    /// <summary>
    /// The TX metadata in front of the packet data at <paramref name="packetAddress"/> (as from
    /// <see cref="TxPacketAddress"/>), to fill in before sending with <see cref="XdpDescriptor.HasTxMetadata"/>,
    /// or to read the completion from afterwards.
    /// </summary>
    public ref XskTxMetadata TxMetadataAt(ulong packetAddress)
    {
        if (Options.TxMetadataLength < XskTxMetadata.Size)
            Throw.Config($"Umem.TxMetadataAt(0x{packetAddress:x})", $"UmemOptions.TxMetadataLength is {Options.TxMetadataLength}: no room for struct xsk_tx_metadata in front of packets.",
                $"create the UMEM with TxMetadataLength = {XskTxMetadata.Size}.");
        ulong offset = (packetAddress & IfXdp.XSK_UNALIGNED_BUF_ADDR_MASK) + (packetAddress >> IfXdp.XSK_UNALIGNED_BUF_OFFSET_SHIFT);
        if (offset < Options.TxMetadataLength || offset > Options.Size)
            throw new ArgumentOutOfRangeException(nameof(packetAddress), packetAddress, "the metadata in front of this address would lie outside the UMEM.");
        return ref *(XskTxMetadata*)(_base + offset - Options.TxMetadataLength);
    }

    /// <summary>Claims the UMEM's own socket for the first bind; later sockets get false and share.</summary>
    internal bool TryClaimPrimarySocket() => Interlocked.Exchange(ref _socketsBound, 1) == 0;

    /// <summary>The call that failed when the first socket set up the UMEM's own descriptor; null when it did not fail.</summary>
    internal string? FirstSocketFailure { get; private set; }

    internal void FirstSocketFailed(string call) => FirstSocketFailure = call;

    /// <summary>Interface index the UMEM's own rings are bound to (0 before the first bind).</summary>
    internal int BoundInterface { get; private set; }

    /// <summary>Queue the UMEM's own rings are bound to.</summary>
    internal uint BoundQueue { get; private set; }

    internal void MarkBound(int interfaceIndex, uint queueId) => (BoundInterface, BoundQueue) = (interfaceIndex, queueId);

    /// <summary>
    /// A UMEM that another process can map: the packet memory is a memfd (memfd_create, MAP_SHARED)
    /// instead of anonymous memory, so that <see cref="XskHandoff"/> can pass it over a unix socket.
    /// </summary>
    public static Umem CreateShareable(UmemOptions? options = null) => new((options ?? new UmemOptions()) with { Shareable = true });

    /// <summary>The memfd behind the packet memory of a shareable UMEM; null otherwise.</summary>
    internal SafeFd? Memory => _memory;

    /// <summary>
    /// A UMEM another process registered and handed over (<see cref="XskHandoff"/>): maps the memfd
    /// and the FILL/COMPLETION rings of the registered socket; registers nothing, so it needs no
    /// privilege. The UMEM's socket counts as bound: this process only moves frames.
    /// </summary>
    internal Umem(UmemOptions options, SafeFd memory, SafeFd socket, int boundInterface, uint boundQueue)
    {
        Options = options;
        _memory = memory;
        Socket = socket;
        NetworkNamespace = XskFd.CurrentNetworkNamespace();
        _socketsBound = 1;
        (BoundInterface, BoundQueue) = (boundInterface, boundQueue);
        try
        {
            _area = SafeMapping.TryMap((nuint)options.Size, Sys.PROT_READ | Sys.PROT_WRITE, Sys.MAP_SHARED | Sys.MAP_POPULATE, memory.Fd, 0, out int errno)
                ?? throw new AfXdpException($"mmap(UMEM memfd, {options.Size} bytes)", errno, "the handed-over UMEM memory could not be mapped.",
                    "check the sender's UMEM size and this process's address-space limit (ulimit -v).");
            _base = _area.Pointer;
            xdp_mmap_offsets offsets = XskFd.GetMmapOffsets(socket);
            Doorbell = new XskDoorbell(socket);
            (_fillMap, Fill) = XskFd.MapFillRing(Doorbell, offsets, options.FillRingSize, this);
            (_completionMap, Completion) = XskFd.MapCompletionRing(socket, offsets, options.CompletionRingSize, Fill, SocketCounters);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>
    /// Counts a socket that maps or binds this UMEM, until its <see cref="ReleaseSocket"/>.
    /// Throws <see cref="ObjectDisposedException"/> once <see cref="Dispose"/> was called.
    /// </summary>
    internal void AddSocket()
    {
        lock (_lifetime)
        {
            ThrowIfDisposed();
            _socketsAlive++;
        }
    }

    /// <summary>Refuses a new socket once <see cref="Dispose"/> was called, saying which object and why.</summary>
    internal void ThrowIfDisposed()
    {
        if (Volatile.Read(ref _disposeRequested))
            throw new ObjectDisposedException(nameof(Umem),
                "this UMEM was disposed, so it takes no new socket. Create a UMEM's sockets before disposing it, or create a new Umem.");
    }

    /// <summary>A socket counted by <see cref="AddSocket"/> is disposed; the last one releases a UMEM already disposed.</summary>
    internal void ReleaseSocket()
    {
        lock (_lifetime)
        {
            if (--_socketsAlive > 0 || !_disposeRequested)
                return;
        }
        Release();
    }

    /// <summary>
    /// Unmaps the rings and the packet memory and closes the UMEM's socket (and memfd). While sockets created on it
    /// are not yet disposed, that waits for the last of them (their frames live here), and new sockets are refused.
    /// </summary>
    public void Dispose()
    {
        lock (_lifetime)
        {
            if (_disposeRequested)
                return;
            _disposeRequested = true;
            if (_socketsAlive > 0)
                return;
        }
        Release();
    }

    void Release()
    {
        _memory?.Dispose();
        _fillMap?.Dispose();
        _completionMap?.Dispose();
        Socket?.Dispose();
        _area?.Dispose();
    }

    void Register()
    {
        var reg = new xdp_umem_reg
        {
            addr = (ulong)_base,
            len = Options.Size,
            chunk_size = Options.FrameSize,
            headroom = Options.Headroom,
            flags = (Options.UnalignedChunks ? IfXdp.XDP_UMEM_UNALIGNED_CHUNK_FLAG : 0)
                    | (Options.TxMetadataLength != 0 ? IfXdp.XDP_UMEM_TX_METADATA_LEN : 0)
                    | (Options.TxSoftwareChecksum ? IfXdp.XDP_UMEM_TX_SW_CSUM : 0),
            tx_metadata_len = Options.TxMetadataLength,
        };
        if (Sys.SetSockOpt(Socket.Fd, IfXdp.SOL_XDP, IfXdp.XDP_UMEM_REG, &reg, (uint)sizeof(xdp_umem_reg)) != 0)
        {
            int errno = Sys.LastErrno;
            string call = $"setsockopt(XDP_UMEM_REG, {Options.FrameCount} frames x {Options.FrameSize} B)";
            if (errno == Errno.EINVAL)
                Throw.Kernel(call, errno, "the kernel rejected the UMEM layout (frame size, headroom or flags); kernels before 6.8 also reject TX metadata, before 6.11 TX software checksums.",
                    "use the defaults (4096-byte frames, no headroom) to check, then change one value at a time.");
            Throw.Errno(call, errno);
        }
    }

    static void CheckMemlock(ulong size)
    {
        ulong limit = Privileges.MemlockLimit;
        if (size <= limit || Privileges.Has(Privileges.CAP_IPC_LOCK))
            return;
        // Refused before the socket: name what the socket and its program would be refused for too, so that one run lists it all.
        CapabilityNeed[] rest = [CapabilityNeed.AfXdpSocket, CapabilityNeed.XdpProgram];
        int[] alsoLacking = CapabilityNeed.Lacking(rest);
        Throw.Privilege($"Umem({size} bytes)", 0,
            $"the kernel pins UMEM pages against RLIMIT_MEMLOCK ({limit} bytes) and the process lacks CAP_IPC_LOCK; registration would fail with ENOBUFS." +
            (alsoLacking.Length == 0 ? "" : $" Besides, {Throw.LacksCause(rest)}"),
            alsoLacking.Length == 0
                ? "use fewer or smaller frames, raise the limit (`ulimit -l`, LimitMEMLOCK= in systemd) or grant CAP_IPC_LOCK."
                : "use fewer or smaller frames or raise the limit (`ulimit -l`, LimitMEMLOCK= in systemd); or " +
                  CapabilityNeed.GrantFix([Privileges.CAP_IPC_LOCK, .. rest.SelectMany(n => n.Capabilities)]));
    }

    /// <summary>A memfd of the UMEM's size (in 2 MiB huge pages when asked), mapped shared.</summary>
    static (SafeMapping, bool) MapShareable(UmemOptions options, out SafeFd memory)
    {
        const ulong hugePage = 2 << 20;
        bool huge = options.HugePages != HugePages.Never;
        int fd = huge ? Sys.MemfdCreate("afxdp-umem", Sys.MFD_CLOEXEC | Sys.MFD_HUGETLB | Sys.MFD_HUGE_2MB) : -1;
        if (fd < 0 && options.HugePages == HugePages.Required)
            Throw.Kernel("memfd_create(afxdp-umem, MFD_HUGETLB)", Sys.LastErrno, "no hugetlbfs support for memfd.", "use HugePages.IfAvailable or Never.");
        if (fd < 0)
        {
            huge = false;
            fd = Sys.MemfdCreate("afxdp-umem", Sys.MFD_CLOEXEC);
            if (fd < 0)
                Throw.Errno("memfd_create(afxdp-umem)", Sys.LastErrno);
        }
        memory = new SafeFd(fd);
        ulong size = huge ? (options.Size + hugePage - 1) & ~(hugePage - 1) : options.Size;
        SafeMapping? area = null;
        int errno = 0;
        if (Sys.Ftruncate(fd, (long)size) == 0)
            area = SafeMapping.TryMap((nuint)size, Sys.PROT_READ | Sys.PROT_WRITE, Sys.MAP_SHARED | Sys.MAP_POPULATE, fd, 0, out errno);
        else
            errno = Sys.LastErrno;
        if (area is not null)
            return (area, huge);
        memory.Dispose();
        if (huge && options.HugePages == HugePages.IfAvailable)
            return MapShareable(options with { HugePages = HugePages.Never }, out memory);
        Throw.Kernel($"ftruncate/mmap(memfd, {size} bytes{(huge ? ", huge pages" : "")})", errno, "the shareable UMEM could not be allocated.",
            huge ? $"reserve huge pages (`echo {size / hugePage} > /proc/sys/vm/nr_hugepages`) or use HugePages.IfAvailable." : "use fewer or smaller frames.");
        return default;
    }

    static (SafeMapping, bool) MapArea(UmemOptions options)
    {
        const int flags = Sys.MAP_PRIVATE | Sys.MAP_ANONYMOUS | Sys.MAP_POPULATE;
        const int prot = Sys.PROT_READ | Sys.PROT_WRITE;
        int errno;
        if (options.HugePages != HugePages.Never)
        {
            const ulong hugePage = 2 << 20;
            nuint rounded = (nuint)((options.Size + hugePage - 1) & ~(hugePage - 1));
            SafeMapping? huge = SafeMapping.TryMap(rounded, prot, flags | Sys.MAP_HUGETLB | Sys.MAP_HUGE_2MB, -1, 0, out errno);
            if (huge is not null)
                return (huge, true);
            if (options.HugePages == HugePages.Required)
                Throw.Kernel($"mmap({rounded} bytes, MAP_HUGETLB)", errno,
                    "not enough free 2 MiB huge pages.",
                    $"reserve them: `echo {rounded / hugePage} > /proc/sys/vm/nr_hugepages`, or use HugePages.IfAvailable.");
        }
        SafeMapping? area = SafeMapping.TryMap((nuint)options.Size, prot, flags, -1, 0, out errno);
        if (area is null)
            Throw.Kernel($"mmap({options.Size} bytes)", errno, "the UMEM could not be allocated.", "use fewer or smaller frames.");
        return (area, false);
    }
}
