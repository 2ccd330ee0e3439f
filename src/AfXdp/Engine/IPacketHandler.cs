namespace AfXdp.Engine;

/// <summary>
/// The application's part of an <see cref="XdpEngine"/>: gets each batch of received packets on the
/// queue's worker thread and sets a verdict on every packet (<see cref="Packet.Drop"/> unless told
/// otherwise). A handler instance serves one queue (<see cref="XdpEngine.Start(Func{XdpQueue, IPacketHandler})"/>
/// makes one per queue), so it needs no locks; it must not block, and should not allocate per packet.
/// </summary>
public interface IPacketHandler
{
    /// <summary>
    /// Decides what happens to <paramref name="packets"/>: read or rewrite <see cref="Packet.Data"/> in
    /// place, then call <see cref="Packet.Drop"/>, <see cref="Packet.Transmit"/>, <see cref="Packet.Forward"/>
    /// or <see cref="Packet.Hold"/>. The span is valid only during the call; a held packet is a value
    /// the handler keeps and later passes to <see cref="XdpQueue.Transmit"/>, <see cref="XdpQueue.Forward"/>
    /// or <see cref="XdpQueue.Release"/> (on this queue's thread: from this method or <see cref="Idle"/>).
    /// </summary>
    void Handle(XdpQueue queue, Span<Packet> packets);

    /// <summary>
    /// The queue found nothing to do and is about to wait (called at least every
    /// <see cref="XdpEngineOptions.IdleTimeout"/> while idle): the place to release or send held packets.
    /// </summary>
    void Idle(XdpQueue queue) { }
}

/// <summary>What the engine does with a packet after <see cref="IPacketHandler.Handle"/>.</summary>
public enum PacketVerdict : byte
{
    /// <summary>The frame goes back to the queue's FILL ring.</summary>
    Drop,
    /// <summary>The frame goes out on the TX ring of the queue it arrived on.</summary>
    Transmit,
    /// <summary>The frame goes out on the TX ring of another queue (<see cref="Packet.TargetQueue"/>).</summary>
    Forward,
    /// <summary>The handler keeps the frame; it must give it back through the queue later.</summary>
    Hold,
}

/// <summary>
/// One received frame in the UMEM, and the verdict the handler gives it. A plain value (16-byte
/// view of memory the engine owns): copying it is free, and the bytes stay valid until the frame is
/// dropped, sent or released.
/// </summary>
public unsafe struct Packet
{
    readonly byte* _data;
    readonly ulong _address;
    readonly uint _capacity;
    uint _length;
    PacketVerdict _verdict;
    ushort _target;

    internal Packet(byte* data, ulong address, uint length, uint capacity)
    {
        _data = data;
        _address = address;
        _length = length;
        _capacity = capacity;
    }

    /// <summary>The frame's address in its UMEM (what the RX descriptor said).</summary>
    public readonly ulong Address => _address;

    /// <summary>Bytes of the packet; may be changed (a trimmed or extended reply) up to <see cref="Capacity"/>.</summary>
    public int Length
    {
        readonly get => (int)_length;
        set
        {
            if ((uint)value > _capacity)
                ThrowLength(value);
            _length = (uint)value;
        }
    }

    /// <summary>Bytes from the start of the packet to the end of its frame.</summary>
    public readonly int Capacity => (int)_capacity;

    /// <summary>The packet's bytes, in place in the UMEM.</summary>
    public readonly Span<byte> Data => new(_data, (int)_length);

    /// <summary>The frame's first <paramref name="length"/> bytes (at most <see cref="Capacity"/>), whatever the packet's length: room to build a longer packet in place.</summary>
    internal readonly Span<byte> FrameData(int length) => new(_data, Math.Min(length, (int)_capacity));

    /// <summary>What happens to the frame after the handler returns (Drop unless it said otherwise).</summary>
    public readonly PacketVerdict Verdict => _verdict;

    /// <summary>The engine index (<see cref="XdpQueue.Index"/>) of the queue a forwarded packet goes to.</summary>
    public readonly int TargetQueue => _target;

    /// <summary>Recycle the frame (the default).</summary>
    public void Drop() => _verdict = PacketVerdict.Drop;

    /// <summary>Send the frame back out of the queue it arrived on (after rewriting it, usually).</summary>
    public void Transmit() => _verdict = PacketVerdict.Transmit;

    /// <summary>Send the frame out of another queue of the same engine.</summary>
    public void Forward(XdpQueue target)
    {
        ArgumentNullException.ThrowIfNull(target);
        _verdict = PacketVerdict.Forward;
        _target = (ushort)target.Index;
    }

    /// <summary>Keep the frame: the engine forgets it until the handler passes it back to the queue.</summary>
    public void Hold() => _verdict = PacketVerdict.Hold;

    static void ThrowLength(int value) =>
        throw new ArgumentOutOfRangeException(nameof(value), value, "a packet's length must lie between 0 and its capacity (the rest of its UMEM frame)");
}
