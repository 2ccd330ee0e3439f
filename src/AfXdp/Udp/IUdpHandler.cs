using System.Runtime.CompilerServices;
using AfXdp.Engine;

namespace AfXdp.Udp;

/// <summary>
/// The application's part of a <see cref="UdpService"/>: gets each batch of checked datagrams on a queue's
/// worker thread and answers them in place (<see cref="Datagram.Reply"/>) or sends new ones
/// (<see cref="UdpBatch.Sender"/>). A datagram not replied to is dropped when the call returns. It must
/// not block, and should not allocate per datagram.
/// </summary>
/// <remarks>
/// An exception from <see cref="Handle"/> or <see cref="Idle"/> costs its batch, not the service: replies
/// made before it (<see cref="Datagram.Reply"/>, <see cref="UdpSender.Send(UdpEndpoint, ReadOnlySpan{byte})"/>)
/// go out, the batch's other datagrams are dropped, the exception is counted
/// (<see cref="UdpServiceCounters.HandlerErrors"/>) and the first of each type is told to
/// <see cref="UdpServiceOptions.Log"/>; the queue goes on serving.
/// </remarks>
public interface IUdpHandler
{
    /// <summary>Handles one batch; the datagrams are valid only during the call.</summary>
    void Handle(UdpBatch batch);

    /// <summary>The queue found nothing to do (called at least every 100 ms while idle): the place to send on one's own, e.g. a game server's tick.</summary>
    void Idle(UdpSender sender) { }
}

/// <summary>A handler as a lambda: <c>service.Run(batch =&gt; { foreach (Datagram d in batch) ... }, token)</c>.</summary>
public delegate void UdpBatchHandler(UdpBatch batch);

/// <summary>Datagrams received on one queue, in place in their UMEM frames: <c>foreach (Datagram d in batch)</c>.</summary>
public readonly ref struct UdpBatch
{
    readonly Span<Packet> _packets;
    readonly ReadOnlySpan<int> _payloadLengths;

    internal UdpBatch(Span<Packet> packets, ReadOnlySpan<int> payloadLengths, UdpSender sender, int count)
    {
        _packets = packets;
        _payloadLengths = payloadLengths;
        Sender = sender;
        Count = count;
    }

    /// <summary>Datagrams in the batch.</summary>
    public int Count { get; }

    /// <summary>Sends new datagrams from this queue to any endpoint on the link.</summary>
    public UdpSender Sender { get; }

    /// <summary>Walks the datagrams; allocates nothing.</summary>
    public Enumerator GetEnumerator() => new(this);

    /// <summary>The enumerator of <see cref="UdpBatch"/>.</summary>
    public ref struct Enumerator
    {
        readonly UdpBatch _batch;
        int _index;

        internal Enumerator(UdpBatch batch)
        {
            _batch = batch;
            _index = -1;
        }

        /// <summary>Moves to the next datagram, skipping frames that failed the checks.</summary>
        public bool MoveNext()
        {
            while (++_index < _batch._packets.Length)
            {
                if (_batch._payloadLengths[_index] >= 0)
                    return true;
            }
            return false;
        }

        /// <summary>The current datagram.</summary>
        public readonly Datagram Current
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => new(ref _batch._packets[_index], _batch._payloadLengths[_index], _batch.Sender.MaxFrameLength);
        }
    }
}

/// <summary>
/// One received datagram, a view into its frame: the payload, who sent it, the served endpoint it was sent to.
/// Answer it in place: write the reply into <see cref="ReplyPayload"/> (it starts where <see cref="Payload"/>
/// does and is never shorter: up to the MTU, or as far as the request's frame when that was longer) and call
/// <see cref="Reply"/>.
/// </summary>
public ref struct Datagram
{
    readonly ref Packet _packet;
    readonly int _payloadLength;
    readonly int _replyFrameLength;
    readonly int _headersLength;

    /// <param name="packet">The received frame.</param>
    /// <param name="payloadLength">The UDP payload's length, as <see cref="UdpFrame.Check"/> found it.</param>
    /// <param name="linkFrameLength">The largest frame the link sends (MTU + 14).</param>
    internal Datagram(ref Packet packet, int payloadLength, int linkFrameLength)
    {
        _packet = ref packet;
        _payloadLength = payloadLength;
        // A request may come in a frame longer than MTU + 14: many NICs take 1518 to 1522 bytes at MTU 1500, a veth
        // MTU + 18 (is_skb_forwardable, net/core/dev.c). Its reply may be as long, so a handler that copies the
        // payload never overruns. The request is in this frame, so Capacity never cuts below its length.
        _replyFrameLength = Math.Min(Math.Max(linkFrameLength, packet.Length), packet.Capacity);
        _headersLength = UdpFrame.HeadersLengthOf(packet.Data);
    }

    /// <summary>The UDP payload as received (writable: a reply may be built over it).</summary>
    public readonly Span<byte> Payload => _packet.Data.Slice(_headersLength, _payloadLength);

    /// <summary>The sender's address and port.</summary>
    public readonly UdpEndpoint Remote => UdpFrame.Remote(_packet.Data);

    /// <summary>The served address and port it was sent to (a reply goes out from there).</summary>
    public readonly UdpEndpoint Local => UdpFrame.Local(_packet.Data);

    /// <summary>
    /// Where a reply's payload goes: from the start of <see cref="Payload"/> to the largest datagram the link
    /// carries (MTU less 28 bytes of IPv4 and UDP headers, or 48 of IPv6 and UDP), or to the end of the request's frame when that is
    /// longer: always at least as long as <see cref="Payload"/>, and longer than the MTU allows only when the request was.
    /// </summary>
    public readonly Span<byte> ReplyPayload => _packet.FrameData(_replyFrameLength)[_headersLength..];

    /// <summary>True once <see cref="Reply"/> was called.</summary>
    public readonly bool Replied => _packet.Verdict == PacketVerdict.Transmit;

    /// <summary>
    /// Sends the first <paramref name="payloadLength"/> bytes of <see cref="ReplyPayload"/> back to <see cref="Remote"/>
    /// from <see cref="Local"/>, in this very frame (headers and checksums written afresh).
    /// </summary>
    public void Reply(int payloadLength)
    {
        Span<byte> frame = _packet.FrameData(_replyFrameLength);
        if ((uint)payloadLength > (uint)(frame.Length - _headersLength))
            ThrowReplyLength(payloadLength, frame.Length - _headersLength);
        _packet.Length = UdpFrame.WriteReply(frame, payloadLength);
        _packet.Transmit();
    }

    static void ThrowReplyLength(int length, int max) =>
        throw new ArgumentOutOfRangeException(nameof(length), length, $"a reply's payload holds 0 to {max} bytes here (ReplyPayload.Length: the MTU, or the request's frame when that was longer).");
}
