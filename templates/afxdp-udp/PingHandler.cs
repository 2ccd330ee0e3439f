using AfXdp.Udp;

namespace AfxdpUdp;

/// <summary>
/// Answers "ping TEXT" with "pong TEXT" in the frame it came in; anything else, a "pong" included, gets nothing, so that
/// two services of this kind, or one and an echo service, never keep a datagram going between them. Replace it with your
/// protocol: keep answering only what is a request.
/// </summary>
public sealed class PingHandler : IUdpHandler
{
    static ReadOnlySpan<byte> Ping => "ping"u8;
    static ReadOnlySpan<byte> Pong => "pong"u8;

    /// <summary>Called on the queue's worker thread with a batch of datagrams; allocate nothing here.</summary>
    public void Handle(UdpBatch batch)
    {
        foreach (Datagram request in batch)
        {
            if (!request.Payload.StartsWith(Ping))
                continue;
            // The reply is written over the request (ReplyPayload starts where Payload does): only "ping" becomes "pong".
            Pong.CopyTo(request.ReplyPayload);
            request.Reply(request.Payload.Length);
        }
    }
}
