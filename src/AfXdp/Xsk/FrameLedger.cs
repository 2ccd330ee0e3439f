using System.Text;
using AfXdp.Interop;

namespace AfXdp.Xsk;

/// <summary>Who holds a UMEM frame, as a <see cref="FrameLedger"/> sees it.</summary>
public enum FrameOwner : byte
{
    /// <summary>The application: never handed out, freed, or taken out of the RX or COMPLETION ring.</summary>
    Application,
    /// <summary>In the FILL ring, not yet taken by the kernel.</summary>
    Fill,
    /// <summary>Taken by the kernel: from the FILL ring to receive into, or from the TX ring to send.</summary>
    Kernel,
    /// <summary>Received: in the RX ring, not yet peeked.</summary>
    Rx,
    /// <summary>In the TX ring, not yet taken by the kernel.</summary>
    Tx,
    /// <summary>Sent: in the COMPLETION ring, not yet peeked.</summary>
    Completion,
}

/// <summary>How many frames each owner holds; <see cref="Free"/> and <see cref="Held"/> are the application's.</summary>
/// <param name="Free">Never handed out, or given back with <see cref="FrameLedger.Free"/>.</param>
/// <param name="Held">Taken out of the RX or COMPLETION ring and not yet given to a ring or freed.</param>
/// <param name="Fill">In a FILL ring, not yet taken by the kernel.</param>
/// <param name="Kernel">Taken by the kernel from a FILL ring (to receive into) or a TX ring (to send).</param>
/// <param name="Rx">In an RX ring, not yet peeked.</param>
/// <param name="Tx">In a TX ring, not yet taken by the kernel.</param>
/// <param name="Completion">In a COMPLETION ring, not yet peeked.</param>
public readonly record struct FrameCensus(uint Free, uint Held, uint Fill, uint Kernel, uint Rx, uint Tx, uint Completion)
{
    /// <summary>All frames counted, whoever holds them: the UMEM's frame count when none is lost.</summary>
    public uint Total => Free + Held + Fill + Kernel + Rx + Tx + Completion;
}

/// <summary>A frame handed to the wrong place (double submit, reuse before completion) or a frame lost.</summary>
public sealed class FrameLedgerException(string call, ulong address, uint frame, FrameOwner owner, string cause, string fix)
    : AfXdpException(call, 0, cause, fix)
{
    /// <summary>The descriptor or ring address at fault.</summary>
    public ulong Address { get; } = address;

    /// <summary>Its frame number (address / frame size; uint.MaxValue when outside the UMEM).</summary>
    public uint Frame { get; } = frame;

    /// <summary>Who held the frame when the call was made.</summary>
    public FrameOwner Owner { get; } = owner;
}

/// <summary>
/// Debug mode for frame ownership: knows, for every frame of a <see cref="Umem"/>, who holds it, and throws
/// <see cref="FrameLedgerException"/> the moment a frame is submitted twice, reused before its completion, or
/// comes back from a ring it was never given to; <see cref="Dispose"/> reports the frames the application lost.
/// </summary>
/// <remarks>
/// <para>
/// The ledger is a separate object the application routes its ring verbs through (<see cref="SubmitFill"/>,
/// <see cref="PeekRx"/>, <see cref="ReleaseRx"/>, <see cref="SubmitTx"/>, <see cref="PeekCompletion"/>,
/// <see cref="ReleaseCompletion"/>): each checks and records the entries, then calls the ring's own verb. An
/// application that does not use it pays nothing, as the rings know nothing of it. Every frame starts with
/// the application; a frame taken from RX or COMPLETION stays the application's ("held") until it goes to a
/// ring again or to <see cref="Free"/>. Reserve, write and cancel slots on the rings as usual.
/// </para>
/// <para>
/// Frames are numbered by address / frame size; in unaligned mode by the 48-bit base address, so a buffer
/// belongs to the frame it starts in. Like the rings, a ledger is used from one thread. Its verbs allocate
/// nothing; <see cref="OwnerOf"/>, <see cref="Census"/> and <see cref="Leaks"/> read the rings' shared
/// indices and walk their unread entries, and are for inspection, not for the packet path.
/// </para>
/// </remarks>
public sealed class FrameLedger : IDisposable
{
    const int MaxListed = 16;

    enum State : byte { Free, Held, Fill, Tx }

    /// <summary>What the ledger knows of one ring: its free-running index as the ledger last moved it.</summary>
    internal sealed class RingState(object ring, uint index)
    {
        public readonly object Ring = ring;
        /// <summary>Producer rings: next index to submit. Consumer rings: next index to peek.</summary>
        public uint Next = index;
        /// <summary>Consumer rings: next index to release (the kernel's view of the consumer).</summary>
        public uint Released = index;
    }

    readonly ulong _size;
    readonly uint _frameSize;
    readonly bool _unaligned;
    readonly State[] _state;
    readonly byte[] _ring;
    readonly uint[] _index;
    readonly List<RingState> _rings = [];
    bool _disposed;

    /// <summary>A ledger for the frames of a UMEM of this shape (pass <see cref="Umem.Options"/>).</summary>
    public FrameLedger(UmemOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _size = options.Size;
        _frameSize = options.FrameSize;
        _unaligned = options.UnalignedChunks;
        _state = new State[options.FrameCount];
        _ring = new byte[options.FrameCount];
        _index = new uint[options.FrameCount];
    }

    /// <summary>
    /// Follows the socket's rings from now on, so that <see cref="OwnerOf"/> and <see cref="Census"/> see frames
    /// waiting in its RX and COMPLETION rings before the first peek. The ledger also learns a ring at its first verb.
    /// </summary>
    public void Watch(XskSocket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        socket.Fill.Reserve(0, out uint index);
        Find(socket.Fill, index);
        socket.Completion.Peek(0, out index);
        Find(socket.Completion, index);
        if (socket.RxRing is { } rx)
        {
            rx.Peek(0, out index);
            Find(rx, index);
        }
        if (socket.TxRing is { } tx)
        {
            tx.Reserve(0, out index);
            Find(tx, index);
        }
    }

    /// <summary>Records entries <paramref name="index"/> .. +<paramref name="count"/> of the FILL ring as given to the kernel, then submits them.</summary>
    public void SubmitFill(FillRing fill, uint index, uint count)
    {
        ArgumentNullException.ThrowIfNull(fill);
        RingState ring = Producer(fill, fill.Size, index, count, "SubmitFill");
        for (uint i = 0; i < count; i++)
            Give(fill[index + i], State.Fill, ring, index + i, "SubmitFill");
        ring.Next = index + count;
        fill.Submit(count);
    }

    /// <summary>Records the descriptors <paramref name="index"/> .. +<paramref name="count"/> of the TX ring as given to the kernel, then submits them.</summary>
    public void SubmitTx(TxRing tx, uint index, uint count)
    {
        ArgumentNullException.ThrowIfNull(tx);
        RingState ring = Producer(tx, tx.Size, index, count, "SubmitTx");
        for (uint i = 0; i < count; i++)
            Give(tx[index + i].Address, State.Tx, ring, index + i, "SubmitTx");
        ring.Next = index + count;
        tx.Submit(count);
    }

    /// <summary><see cref="ConsumerRing{T}.Peek"/> on the RX ring; every frame it returns must have been given to a FILL ring, and is now held.</summary>
    public uint PeekRx(RxRing rx, uint max, out uint index)
    {
        ArgumentNullException.ThrowIfNull(rx);
        uint count = rx.Peek(max, out index);
        RingState ring = Consumer(rx, index);
        for (uint i = 0; i < count; i++)
            Take(rx[index + i].Address, State.Fill, "PeekRx", "the kernel delivered a frame the ledger never gave to a FILL ring",
                "route every FILL ring submit of this UMEM through the ledger (SubmitFill), and give each frame once.");
        ring.Next = index + count;
        return count;
    }

    /// <summary><see cref="ConsumerRing{T}.Release"/> on the RX ring.</summary>
    public void ReleaseRx(RxRing rx, uint count)
    {
        ArgumentNullException.ThrowIfNull(rx);
        Release(rx, count, "ReleaseRx");
        rx.Release(count);
    }

    /// <summary><see cref="ConsumerRing{T}.Peek"/> on the COMPLETION ring; every frame it returns must have been sent, and is now held.</summary>
    public uint PeekCompletion(CompletionRing completion, uint max, out uint index)
    {
        ArgumentNullException.ThrowIfNull(completion);
        uint count = completion.Peek(max, out index);
        RingState ring = Consumer(completion, index);
        for (uint i = 0; i < count; i++)
            Take(completion[index + i], State.Tx, "PeekCompletion", "the kernel completed a frame the ledger never saw submitted to a TX ring",
                "route every TX ring submit of this UMEM through the ledger (SubmitTx).");
        ring.Next = index + count;
        return count;
    }

    /// <summary><see cref="ConsumerRing{T}.Release"/> on the COMPLETION ring.</summary>
    public void ReleaseCompletion(CompletionRing completion, uint count)
    {
        ArgumentNullException.ThrowIfNull(completion);
        Release(completion, count, "ReleaseCompletion");
        completion.Release(count);
    }

    /// <summary>The application is done with a frame it held: it is free again (and no longer a leak).</summary>
    public void Free(ulong address)
    {
        uint frame = FrameOf(address, "Free");
        if (_state[frame] != State.Held)
            throw Misplaced("Free", address, frame, $"frame {frame} is not held by the application (it is {Describe(frame)}).",
                "free only frames taken out of the RX or COMPLETION ring, once.");
        _state[frame] = State.Free;
    }

    /// <summary>Who holds the frame at <paramref name="address"/> now (reads the rings' shared indices).</summary>
    public FrameOwner OwnerOf(ulong address) => Owner(FrameOf(address, "OwnerOf"), Unread());

    /// <summary>How many frames each owner holds now; the total is always the UMEM's frame count.</summary>
    public FrameCensus Census()
    {
        HashSet<uint> unread = Unread();
        uint free = 0, held = 0, fill = 0, kernel = 0, rx = 0, tx = 0, completion = 0;
        for (uint frame = 0; frame < _state.Length; frame++)
        {
            switch (_state[frame])
            {
                case State.Free: free++; break;
                case State.Held: held++; break;
                default:
                    switch (Owner(frame, unread))
                    {
                        case FrameOwner.Fill: fill++; break;
                        case FrameOwner.Rx: rx++; break;
                        case FrameOwner.Tx: tx++; break;
                        case FrameOwner.Completion: completion++; break;
                        default: kernel++; break;
                    }
                    break;
            }
        }
        return new FrameCensus(free, held, fill, kernel, rx, tx, completion);
    }

    /// <summary>
    /// Frames the application would lose by stopping now: held ones (taken from RX or COMPLETION and neither
    /// given to a ring nor freed) and sent ones not yet back through COMPLETION. Frames with the FILL ring
    /// or the kernel's receive side are not leaks: they belong to the UMEM until it closes.
    /// </summary>
    public IReadOnlyList<(uint Frame, FrameOwner Owner, string What)> Leaks()
    {
        HashSet<uint> unread = Unread();
        var leaks = new List<(uint, FrameOwner, string)>();
        for (uint frame = 0; frame < _state.Length; frame++)
        {
            if (_state[frame] == State.Held)
                leaks.Add((frame, FrameOwner.Application, "held by the application, never given to a ring or freed"));
            else if (_state[frame] == State.Tx)
                leaks.Add((frame, Owner(frame, unread), "sent, its completion not yet taken from the COMPLETION ring"));
        }
        return leaks;
    }

    /// <summary>Throws <see cref="FrameLedgerException"/> listing the <see cref="Leaks"/>, if any (once; Dispose is idempotent).</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        IReadOnlyList<(uint Frame, FrameOwner Owner, string What)> leaks = Leaks();
        if (leaks.Count == 0)
            return;
        var list = new StringBuilder();
        foreach ((uint frame, FrameOwner owner, string what) in leaks.Take(MaxListed))
            list.Append($"\n  frame {frame} (0x{(ulong)frame * _frameSize:x}): {what} [{owner}]");
        if (leaks.Count > MaxListed)
            list.Append($"\n  ... and {leaks.Count - MaxListed} more");
        (uint first, FrameOwner firstOwner, _) = leaks[0];
        throw new FrameLedgerException($"FrameLedger.Dispose() with {leaks.Count} of {_state.Length} frames unaccounted for",
            (ulong)first * _frameSize, first, firstOwner,
            $"the application lost track of these frames:{list}",
            "give held frames back (FILL or TX ring) or Free them, and reap the COMPLETION ring until every sent frame is back, before disposing.");
    }

    RingState Producer(object ring, uint size, uint index, uint count, string call)
    {
        if (count > size)
            throw new FrameLedgerException($"FrameLedger.{call}(index {index}, {count})", 0, uint.MaxValue, FrameOwner.Application,
                $"the ring has {size} entries, fewer than {count}.", "submit what Reserve reserved.");
        RingState state = Find(ring, index);
        if (state.Next != index)
            throw new FrameLedgerException($"FrameLedger.{call}(index {index}, {count})", 0, uint.MaxValue, FrameOwner.Application,
                $"the ring's next unsubmitted slot is {state.Next}, not {index}: slots were submitted without the ledger, or this index was not returned by Reserve.",
                "submit every slot of this ring through the ledger, with the index Reserve returned.");
        return state;
    }

    RingState Consumer(object ring, uint index)
    {
        RingState state = Find(ring, index);
        state.Next = index;
        return state;
    }

    void Release(object ring, uint count, string call)
    {
        RingState? state = Known(ring);
        if (state is null || state.Next - state.Released < count)
            throw new FrameLedgerException($"FrameLedger.{call}({count})", 0, uint.MaxValue, FrameOwner.Application,
                $"only {(state is null ? 0 : state.Next - state.Released)} entries were peeked through the ledger and not yet released.",
                "release what the ledger's Peek returned, no more.");
        state.Released += count;
    }

    RingState? Known(object ring)
    {
        foreach (RingState state in _rings)
            if (ReferenceEquals(state.Ring, ring))
                return state;
        return null;
    }

    /// <summary>Starts following a ring whose next entry (to submit or to peek) is <paramref name="index"/>.</summary>
    internal RingState Find(object ring, uint index)
    {
        if (Known(ring) is { } known)
            return known;
        if (_rings.Count == byte.MaxValue)
            Throw.Config("FrameLedger", $"the ledger follows at most {byte.MaxValue} rings.", "use one ledger per UMEM and its sockets.");
        var added = new RingState(ring, index);
        _rings.Add(added);
        return added;
    }

    void Give(ulong address, State to, RingState ring, uint index, string call)
    {
        uint frame = FrameOf(address, call);
        State from = _state[frame];
        if (from is State.Fill or State.Tx)
        {
            bool sent = from == State.Tx;
            throw Misplaced(call, address, frame,
                sent
                    ? $"frame {frame} was submitted to a TX ring and its completion has not been taken yet ({Describe(frame)}): reusing it now lets the kernel send bytes the application is overwriting{(to == State.Tx ? ", or send it twice" : "")}."
                    : $"frame {frame} is already given to a FILL ring ({Describe(frame)}): {(to == State.Fill ? "a double submit, two packets could land in one frame" : "the kernel may receive a packet into it while it is being sent")}.",
                sent
                    ? "reuse a sent frame only after PeekCompletion returned its address."
                    : "reuse a FILL frame only after PeekRx returned it.");
        }
        _state[frame] = to;
        _ring[frame] = (byte)_rings.IndexOf(ring);
        _index[frame] = index;
    }

    void Take(ulong address, State expected, string call, string cause, string fix)
    {
        uint frame = FrameOf(address, call);
        if (_state[frame] != expected)
            throw Misplaced(call, address, frame, $"{cause}: frame {frame} is {Describe(frame)}.", fix);
        _state[frame] = State.Held;
    }

    uint FrameOf(ulong address, string call)
    {
        ulong offset = _unaligned ? address & IfXdp.XSK_UNALIGNED_BUF_ADDR_MASK : address;
        if (offset >= _size)
            throw new FrameLedgerException($"FrameLedger.{call}(0x{address:x})", address, uint.MaxValue, FrameOwner.Application,
                $"0x{address:x} is outside the UMEM ({_size} bytes{(_unaligned ? "" : "; aligned mode has no offset in the top 16 bits")}).",
                "use addresses from Umem.FrameAddress, or as the RX and COMPLETION rings returned them.");
        return (uint)(offset / _frameSize);
    }

    FrameLedgerException Misplaced(string call, ulong address, uint frame, string cause, string fix) =>
        new($"FrameLedger.{call}(frame {frame} at 0x{address:x})", address, frame, Owner(frame, Unread()), cause, fix);

    string Describe(uint frame) => Owner(frame, Unread()) switch
    {
        FrameOwner.Application => _state[frame] == State.Held ? "held by the application" : "free with the application",
        FrameOwner.Fill => "in a FILL ring",
        FrameOwner.Kernel => _state[frame] == State.Tx ? "with the kernel, being sent" : "with the kernel, waiting for a packet",
        FrameOwner.Rx => "in an RX ring, not yet peeked",
        FrameOwner.Tx => "in a TX ring",
        _ => "in a COMPLETION ring, not yet peeked",
    };

    FrameOwner Owner(uint frame, HashSet<uint> unread)
    {
        State state = _state[frame];
        if (state is State.Free or State.Held)
            return FrameOwner.Application;
        RingState ring = _rings[_ring[frame]];
        uint pending = ring.Ring is FillRing fill ? fill.Pending : ((TxRing)ring.Ring).Pending;
        uint consumer = ring.Next - pending;
        if ((int)(_index[frame] - consumer) >= 0)
            return state == State.Fill ? FrameOwner.Fill : FrameOwner.Tx;
        if (!unread.Contains(frame))
            return FrameOwner.Kernel;
        return state == State.Fill ? FrameOwner.Rx : FrameOwner.Completion;
    }

    /// <summary>Frames in the RX and COMPLETION rings' entries that the kernel produced and the ledger has not peeked.</summary>
    HashSet<uint> Unread()
    {
        var frames = new HashSet<uint>();
        foreach (RingState state in _rings)
        {
            switch (state.Ring)
            {
                case RxRing rx:
                    for (uint i = state.Next, end = state.Released + rx.Available; i != end; i++)
                        frames.Add(FrameOf(rx[i].Address, "Census"));
                    break;
                case CompletionRing completion:
                    for (uint i = state.Next, end = state.Released + completion.Available; i != end; i++)
                        frames.Add(FrameOf(completion[i], "Census"));
                    break;
            }
        }
        return frames;
    }
}
