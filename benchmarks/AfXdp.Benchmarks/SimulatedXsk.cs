using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using AfXdp.Net;
using AfXdp.Xsk;

namespace AfXdp.Benchmarks;

/// <summary>
/// The four rings and the frame pool of one socket, in native memory laid out as the kernel maps
/// them, with the kernel's side of each ring played by hand. native/ring_steps.c builds the same.
/// </summary>
public sealed unsafe class SimulatedXsk : IDisposable
{
    /// <summary>libxdp's default ring size (XSK_RING_CONS__DEFAULT_NUM_DESCS).</summary>
    public const uint RingSize = 2048;
    public const int PoolFrames = 64;
    public const int FrameSize = 64;

    // XDP_MMAP_OFFSETS as Linux 6.x reports them: producer and consumer a cache-line pair apart.
    const int ProducerOffset = 0;
    const int ConsumerOffset = 128;
    const int FlagsOffset = 196;
    const int EntriesOffset = 320;
    const int CacheLine = 64;

    readonly List<nint> _allocations = [];

    public SimulatedXsk()
    {
        RxMemory = Map<XdpDescriptor>();
        TxMemory = Map<XdpDescriptor>();
        FillMemory = Map<ulong>();
        CompletionMemory = Map<ulong>();
        Fill = new FillRing(FillMemory);
        Rx = new RxRing(RxMemory, Fill);
        Tx = new TxRing(TxMemory);
        Completion = new CompletionRing(CompletionMemory);

        Pool = (byte*)Allocate(PoolFrames * FrameSize);
        ReadOnlySpan<byte> frame = Frame();
        for (int i = 0; i < PoolFrames; i++)
            frame.CopyTo(new Span<byte>(Pool + i * FrameSize, FrameSize));
        // Every RX and COMPLETION slot already holds a frame of the pool, as if the kernel wrote it.
        for (uint i = 0; i < RingSize; i++)
        {
            ulong address = FrameAddress(i);
            ((XdpDescriptor*)RxMemory.Entries)[i] = new XdpDescriptor { Address = address, Length = FrameSize };
            ((ulong*)CompletionMemory.Entries)[i] = address;
        }
    }

    public RxRing Rx { get; }
    public TxRing Tx { get; }
    public FillRing Fill { get; }
    public CompletionRing Completion { get; }
    public byte* Pool { get; }

    internal RingMemory RxMemory { get; }
    internal RingMemory TxMemory { get; }
    internal RingMemory FillMemory { get; }
    internal RingMemory CompletionMemory { get; }

    /// <summary>The 64-byte Ethernet/IPv4/UDP frame every pool slot starts with (also handed to the C side).</summary>
    public static byte[] Frame()
    {
        var frame = new byte[FrameSize];
        new UdpFrameBuilder(MacAddress.Parse("02:00:00:00:00:01"), MacAddress.Parse("02:00:00:00:00:02"),
            new IPEndPoint(IPAddress.Parse("10.0.0.1"), 9), new IPEndPoint(IPAddress.Parse("10.0.0.2"), 9))
            .WriteOfLength(frame, FrameSize);
        return frame;
    }

    /// <summary>The pool frame behind a free-running ring index.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong FrameAddress(uint index) => index % PoolFrames * FrameSize;

    /// <summary>The kernel publishes <paramref name="count"/> more entries (RX, COMPLETION).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void KernelProduce(in RingMemory ring, uint count) =>
        Volatile.Write(ref *ring.Producer, *ring.Producer + count);

    /// <summary>The kernel takes every submitted entry (FILL, TX) and returns how many.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint KernelConsumeAll(in RingMemory ring)
    {
        uint pending = Volatile.Read(ref *ring.Producer) - *ring.Consumer;
        Volatile.Write(ref *ring.Consumer, *ring.Consumer + pending);
        return pending;
    }

    public void Dispose()
    {
        foreach (nint allocation in _allocations)
            NativeMemory.AlignedFree((void*)allocation);
        _allocations.Clear();
    }

    RingMemory Map<T>() where T : unmanaged
    {
        byte* map = (byte*)Allocate(EntriesOffset + (nuint)(RingSize * sizeof(T)));
        return new RingMemory((uint*)(map + ProducerOffset), (uint*)(map + ConsumerOffset), (uint*)(map + FlagsOffset),
            map + EntriesOffset, RingSize);
    }

    void* Allocate(nuint bytes)
    {
        void* memory = NativeMemory.AlignedAlloc(bytes, CacheLine);
        NativeMemory.Clear(memory, bytes);
        _allocations.Add((nint)memory);
        return memory;
    }
}
