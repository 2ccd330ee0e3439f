using System.Net;
using AfXdp.Engine;
using AfXdp.Net;
using AfXdp.Udp;
using CsCheck;

namespace AfXdp.Tests.Udp;

/// <summary>The room a handler gets for its reply, against the frame the request came in.</summary>
public sealed unsafe class DatagramTests
{
    static readonly MacAddress Us = MacAddress.Parse("02:00:00:00:0b:01"), Them = MacAddress.Parse("02:00:00:00:0a:01");
    static readonly HostPolicy Client = new(Them, 0x0A63_0001, 24);
    // A UdpService frame: 2048-byte chunk, the packet 256 bytes in (XDP_PACKET_HEADROOM), so 1792 bytes of capacity.
    const int Chunk = 2048, Headroom = 256, Capacity = Chunk - Headroom;
    const int LinkFrame = 1514; // MTU 1500

    static byte[] Build(int payload)
    {
        var frame = new byte[UdpFrame.HeadersLength + payload];
        new UdpFrameBuilder(Them, Us, new IPEndPoint(IPAddress.Parse("10.99.0.1"), 40000), new IPEndPoint(IPAddress.Parse("10.99.0.2"), 7007))
            .Write(frame, Enumerable.Range(0, payload).Select(i => (byte)i).ToArray());
        return frame;
    }

    /// <summary>
    /// Puts <paramref name="request"/> in a frame as the engine hands it over, lets a handler echo its payload
    /// (copy it into ReplyPayload and Reply with its length), and returns what it saw and the frame it sent.
    /// </summary>
    static (int Payload, int ReplySpace, byte[] Sent) Echo(byte[] request, int linkFrameLength = LinkFrame)
    {
        var chunk = new byte[Chunk];
        request.CopyTo(chunk, Headroom);
        fixed (byte* start = chunk)
        {
            var packet = new Packet(start + Headroom, Headroom, (uint)request.Length, Capacity);
            var d = new Datagram(ref packet, request.Length - UdpFrame.HeadersLength, linkFrameLength);
            (int payload, int space) = (d.Payload.Length, d.ReplyPayload.Length);
            d.Payload.CopyTo(d.ReplyPayload);
            d.Reply(payload);
            Assert.Equal(PacketVerdict.Transmit, packet.Verdict);
            return (payload, space, packet.Data.ToArray());
        }
    }

    [Theory]
    [InlineData(1518)]
    [InlineData(1522)]
    public void A_request_longer_than_the_mtu_allows_gets_reply_room_to_the_end_of_its_frame_and_is_echoed_whole(int frameLength)
    {
        byte[] request = Build(frameLength - UdpFrame.HeadersLength);
        (int payload, int space, byte[] sent) = Echo(request);
        Assert.Equal(frameLength - UdpFrame.HeadersLength, payload);
        Assert.Equal(payload, space);
        Assert.Equal(frameLength, sent.Length);
        Assert.Equal(UdpFrameCheck.Ok, UdpFrame.Check(sent, [Client], [new UdpEndpoint(Client.Address, 40000)], out int echoed));
        Assert.Equal(request.AsSpan(UdpFrame.HeadersLength).ToArray(), sent.AsSpan(UdpFrame.HeadersLength, echoed).ToArray());
    }

    [Fact]
    public void A_short_request_gets_reply_room_up_to_the_mtu_and_no_further()
    {
        var chunk = new byte[Chunk];
        Build(10).CopyTo(chunk, Headroom);
        fixed (byte* start = chunk)
        {
            var packet = new Packet(start + Headroom, Headroom, (uint)UdpFrame.HeadersLength + 10, Capacity);
            var d = new Datagram(ref packet, 10, LinkFrame);
            Assert.Equal(1500 - 28, d.ReplyPayload.Length);
            bool refused = false;
            try
            {
                d.Reply(1500 - 28 + 1);
            }
            catch (ArgumentOutOfRangeException)
            {
                refused = true;
            }
            Assert.True(refused, "a reply longer than the MTU was taken for a short request");
            Assert.Equal(PacketVerdict.Drop, packet.Verdict);
        }
    }

    [Fact]
    public void Every_payload_that_fits_the_frame_has_reply_room_for_an_echo_and_the_room_passes_the_mtu_only_as_far_as_the_request()
    {
        Gen.Int[0, Capacity - UdpFrame.HeadersLength].Sample(length =>
        {
            (int payload, int space, byte[] sent) = Echo(Build(length));
            Assert.Equal(length, payload);
            Assert.Equal(Math.Max(LinkFrame, UdpFrame.HeadersLength + length) - UdpFrame.HeadersLength, space);
            Assert.Equal(UdpFrame.HeadersLength + length, sent.Length);
        }, iter: 2_000);
    }
}
