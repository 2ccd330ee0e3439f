using System.Runtime.CompilerServices;

namespace AfXdp.Xsk;

/// <summary>
/// Frames received in one go, in place on the RX ring and in the UMEM: nothing is copied. Walk it
/// with <c>foreach</c>, then give it back once with one of <see cref="Recycle"/> (frames to the FILL
/// ring), <see cref="Transmit"/> (turn them around onto a TX ring) or <see cref="Release"/> (keep the
/// frames). Valid until then; receive the next batch only after.
/// </summary>
/// <example>
/// <code>
/// RxBatch batch = socket.Rx.Receive(64, timeoutMs: 100);
/// foreach (RxFrame frame in batch)
///     Inspect(frame.Data);
/// batch.Recycle();
/// </code>
/// </example>
public readonly struct RxBatch
{
    readonly RxRing? _ring;

    internal RxBatch(RxRing ring, uint start, uint count)
    {
        _ring = ring;
        Start = start;
        Count = count;
    }

    internal RxRing? Ring => _ring;

    /// <summary>The free-running RX ring index of the first descriptor.</summary>
    public uint Start { get; }

    /// <summary>Frames (descriptors) in the batch; 0 when nothing had arrived.</summary>
    public uint Count { get; }

    /// <summary>True when nothing had arrived.</summary>
    public bool IsEmpty => Count == 0;

    /// <summary>The <paramref name="i"/>-th descriptor of the batch.</summary>
    public ref readonly XdpDescriptor this[uint i]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            if (i >= Count)
                ThrowOutOfRange(i);
            return ref _ring!.Writable(Start + i);
        }
    }

    /// <summary>The bytes of the <paramref name="i"/>-th frame in the UMEM.</summary>
    public Span<byte> GetFrame(uint i) => _ring!.Umem.GetFrame(this[i]);

    /// <summary>
    /// Walks whole packets, for sockets bound with <see cref="XskSocketOptions.MultiBuffer"/>: a packet larger
    /// than a frame spans several descriptors (XDP_PKT_CONTD), and a batch always ends with a packet's last.
    /// </summary>
    public PacketEnumerator Packets => new(this);

    /// <summary>Walks the frames: <c>foreach (RxFrame frame in batch)</c>.</summary>
    public Enumerator GetEnumerator() => new(this);

    /// <summary>Hands every frame back to the FILL ring to receive into, and the RX slots to the kernel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Recycle() => _ring?.Recycle(Start, Count);

    /// <summary>
    /// Turns the frames around onto <paramref name="tx"/> (same UMEM), each with the length it has now
    /// (<see cref="RxFrame.SetLength"/>); frames set to length 0 go back to the FILL ring. Kicks the kernel
    /// if it needs it. Returns the frames sent: fewer than wanted when the TX ring stayed full for
    /// <see cref="RingRetry.Limit"/>, the rest then went back to the FILL ring (counted as TX drops).
    /// Sent frames come back on the COMPLETION ring: <see cref="CompletionRing.Recycle"/> them.
    /// </summary>
    public uint Transmit(TxRing tx)
    {
        ArgumentNullException.ThrowIfNull(tx);
        if (_ring is null)
            return 0;
        if (!ReferenceEquals(tx.Umem, _ring.Umem))
            Throw.Argument(nameof(tx), $"RxBatch.Transmit({tx.Owner})", "the TX ring's socket uses another UMEM, where these frames' addresses mean nothing.",
                "transmit on a socket that shares this UMEM, or copy the frames into the other UMEM.");
        return _ring.Transmit(Start, Count, tx);
    }

    /// <summary>Hands the RX slots back to the kernel; the frames stay with the caller, who later sends or recycles them by address.</summary>
    public void Release()
    {
        if (Count != 0)
            _ring!.Keep(Start, Count);
    }

    static void ThrowOutOfRange(uint i) => throw new ArgumentOutOfRangeException(nameof(i), i, "past the batch's last frame.");

    /// <summary>Walks an <see cref="RxBatch"/>, yielding <see cref="RxFrame"/> views; allocates nothing.</summary>
    public ref struct Enumerator
    {
        readonly RxRing? _ring;
        readonly uint _end;
        uint _index;

        internal Enumerator(RxBatch batch)
        {
            _ring = batch._ring;
            _index = batch.Start - 1;
            _end = batch.Start + batch.Count;
        }

        /// <summary>Moves to the next frame.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool MoveNext() => ++_index != _end;

        /// <summary>The frame at the current position.</summary>
        public readonly RxFrame Current
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => new(_ring!, _index);
        }
    }
}

/// <summary>Walks an <see cref="RxBatch"/> packet by packet (<see cref="RxBatch.Packets"/>); allocates nothing.</summary>
public ref struct PacketEnumerator
{
    readonly RxRing? _ring;
    readonly uint _end;
    uint _next;
    RxPacket _current;

    internal PacketEnumerator(RxBatch batch)
    {
        _ring = batch.Ring;
        _next = batch.Start;
        _end = batch.Start + batch.Count;
        _current = default;
    }

    /// <summary>For <c>foreach</c>.</summary>
    public readonly PacketEnumerator GetEnumerator() => this;

    /// <summary>Moves to the next whole packet.</summary>
    public bool MoveNext()
    {
        if (_ring is null)
            return false;
        uint next = _next;
        bool more = _ring.TryReadPacket(_ring.Umem, ref next, _end, out RxPacket packet);
        _next = next;
        _current = packet;
        return more;
    }

    /// <summary>The packet at the current position.</summary>
    public readonly RxPacket Current => _current;
}

/// <summary>One received frame: its bytes in the UMEM and its RX descriptor, valid until its batch is given back.</summary>
public readonly ref struct RxFrame
{
    readonly ref XdpDescriptor _descriptor;
    readonly Umem _umem;

    internal RxFrame(RxRing ring, uint index)
    {
        _descriptor = ref ring.Writable(index);
        _umem = ring.Umem;
    }

    /// <summary>The received bytes (the whole frame as it arrived, Ethernet header first).</summary>
    public Span<byte> Data => _umem.GetFrame(_descriptor);

    /// <summary>
    /// The frame's room from its first byte to the end of its UMEM chunk: a reply that is longer than
    /// the request is written here, then <see cref="SetLength"/>.
    /// </summary>
    public Span<byte> Buffer => _umem.GetFrame(_descriptor.Address, _umem.RoomFrom(_descriptor.Address));

    /// <summary>The frame's RX descriptor: UMEM address, length, options (XDP_PKT_CONTD).</summary>
    public XdpDescriptor Descriptor => _descriptor;

    /// <summary>The frame's UMEM address (what the FILL and TX rings take).</summary>
    public ulong Address => _descriptor.Address;

    /// <summary>Bytes received, or as last set.</summary>
    public int Length => (int)_descriptor.Length;

    /// <summary>
    /// The length the frame will have when the batch is transmitted (a reply may be shorter or longer
    /// than the request, up to <see cref="Buffer"/>'s length); 0 keeps it from being sent (it goes back to FILL).
    /// </summary>
    public void SetLength(int length)
    {
        if ((uint)length > (uint)_umem.RoomFrom(_descriptor.Address))
            throw new ArgumentOutOfRangeException(nameof(length), length, $"a frame holds 0 to {_umem.RoomFrom(_descriptor.Address)} bytes from its address.");
        _descriptor.Length = (uint)length;
    }
}
