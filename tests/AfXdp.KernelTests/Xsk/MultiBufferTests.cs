using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AfXdp.Device;
using AfXdp.Testing;
using AfXdp.Net;
using AfXdp.Xsk;

namespace AfXdp.KernelTests.Xsk;

/// <summary>
/// Jumbo frames on a 9000-byte MTU veth pair with 4096-byte UMEM frames: received as a chain of
/// descriptors (XDP_PKT_CONTD) read as one packet, and sent as a chain.
/// </summary>
public sealed class MultiBufferTests
{
    const int PayloadLength = 8000;
    const int FrameLength = 14 + 20 + 8 + PayloadLength;
    static readonly VethLabOptions Jumbo = new() { Mtu = 9000 };

    [Theory]
    [InlineData(XdpAttachMode.Drv)]
    [InlineData(XdpAttachMode.Skb)]
    public void A_jumbo_datagram_from_the_peer_arrives_as_one_packet_byte_for_byte(XdpAttachMode mode)
    {
        using var bed = new XskTestBed(mode, new XskSocketOptions { MultiBuffer = true, TxRingSize = 0 }, Jumbo);
        if (mode == XdpAttachMode.Drv)
            RequireNativeMultiBuffer(bed);
        byte[] payload = Payload(1);

        SendFromA(bed, payload, 7020);
        (byte[] frame, int segments) = ReceiveOnePacket(bed.Socket, TimeSpan.FromSeconds(5));

        Assert.Equal(FrameLength, frame.Length);
        // 4096-byte frames hold 4096 - 256 (XDP_PACKET_HEADROOM) = 3840 bytes each in copy mode.
        Assert.Equal((FrameLength + 3839) / 3840, segments);
        Assert.True(EthernetFrame.TryCreate(frame, out EthernetFrame ethernet));
        Assert.True(Ipv4Packet.TryCreate(ethernet.Payload, out Ipv4Packet ip));
        Assert.True(UdpDatagram.TryCreate(ip.Payload, out UdpDatagram udp));
        Assert.Equal(7020, udp.DestinationPort);
        Assert.Equal(payload, udp.Payload.ToArray());
        Assert.Equal(0ul, bed.Socket.Statistics.RxDropped);
    }

    [Fact]
    public void Without_multi_buffer_a_jumbo_frame_is_dropped_and_counted()
    {
        using var bed = new XskTestBed(XdpAttachMode.Skb, new XskSocketOptions { TxRingSize = 0 }, Jumbo);

        SendFromA(bed, Payload(2), 7021);

        Assert.True(KernelTest.Eventually(() => bed.Socket.Statistics.RxDropped == 1, TimeSpan.FromSeconds(5)), bed.Socket.Statistics.ToString());
        Assert.Equal(0u, bed.Socket.Rx.Available);
    }

    [Fact]
    public void A_program_without_frags_is_refused_in_drv_mode_on_a_jumbo_veth_with_the_fix()
    {
        var e = Assert.ThrowsAny<AfXdpException>(() => new XskTestBed(XdpAttachMode.Drv, new XskSocketOptions { TxRingSize = 0 }, Jumbo).Dispose());

        Assert.Equal("ERANGE", e.ErrnoName);
        Assert.Contains("XdpHasFrags", e.Fix);
    }

    [Fact]
    public void A_jumbo_frame_we_send_as_a_chain_reaches_the_peers_UDP_socket()
    {
        using var bed = new XskTestBed(attach: null, new XskSocketOptions { MultiBuffer = true, RxRingSize = 0 }, Jumbo);
        using Socket receiver = bed.BindOnA(7022);
        byte[] payload = Payload(3);
        byte[] frame = new byte[FrameLength];
        Assert.Equal(FrameLength, bed.FramesToA(7022).Write(frame, payload));
        int segments = bed.Umem.TxSegmentsFor(frame.Length);
        Assert.Equal(2, segments);
        ulong[] frames = [.. Enumerable.Range(0, segments).Select(i => bed.Umem.FrameAddress(XskTestBed.FirstTxFrame + (uint)i))];

        TxRing tx = bed.Socket.Tx;
        Assert.Equal((uint)segments, tx.Reserve((uint)segments, out uint index));
        Assert.Equal((uint)segments, tx.WritePacket(index, bed.Umem, frame, frames));
        Assert.Equal(XdpDescriptor.PacketContinues, tx[index].Options);
        Assert.Equal(0u, tx[index + 1].Options);
        tx.Submit((uint)segments);
        AwaitCompletions(bed.Socket, segments);

        var buffer = new byte[16384];
        int received = receiver.Receive(buffer);
        Assert.Equal(payload, buffer[..received]);
        Assert.Equal(0ul, bed.Socket.Statistics.TxInvalidDescriptors);
    }

    /// <summary>Skips, naming the capability, when the veth driver cannot hand multi-buffer frames to a native-mode program.</summary>
    static void RequireNativeMultiBuffer(XskTestBed bed)
    {
        NetdevFeatures features = bed.Lab.Run(VethSide.B, () => NetdevFeatures.Get(bed.Lab.InterfaceB));
        if (!features.Xdp.HasFlag(XdpFeatures.RxSg))
            Assert.Skip($"the kernel's veth driver does not report NETDEV_XDP_ACT_RX_SG (xdp-features: {features.Xdp}): no multi-buffer frames in native (drv) mode.");
    }

    static byte[] Payload(int seed)
    {
        var payload = new byte[PayloadLength];
        new Random(seed).NextBytes(payload);
        return payload;
    }

    static void SendFromA(XskTestBed bed, byte[] payload, int port) => bed.Lab.Run(VethSide.A, () =>
    {
        using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        udp.SendTo(payload, new IPEndPoint(bed.Lab.AddressB, port));
    });

    /// <summary>Receives one packet, however many descriptors it spans, copies it out and recycles its frames.</summary>
    static (byte[] Frame, int Segments) ReceiveOnePacket(RxTxSocket socket, TimeSpan timeout)
    {
        RxRing rx = socket.Rx;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (!socket.PollRx(50))
                continue;
            uint peeked = rx.Peek(64, out uint start);
            uint index = start;
            if (!rx.TryReadPacket(socket.Umem, ref index, start + peeked, out RxPacket packet))
            {
                rx.Cancel(peeked);
                continue;
            }
            var frame = new byte[packet.Length];
            Assert.Equal(packet.Length, packet.CopyTo(frame));
            int segments = packet.SegmentCount;
            Assert.Equal((uint)segments, socket.Fill.Reserve((uint)segments, out uint fillIndex));
            for (int i = 0; i < segments; i++)
                socket.Fill[fillIndex + (uint)i] = packet.GetDescriptor(i).Address;
            socket.Fill.Submit((uint)segments);
            rx.Cancel(start + peeked - index);
            rx.Release(index - start);
            return (frame, segments);
        }
        throw new TimeoutException($"no packet within {timeout.TotalSeconds} s; {socket.Statistics}");
    }

    static void AwaitCompletions(RxTxSocket socket, int count)
    {
        int completed = 0;
        var clock = Stopwatch.StartNew();
        while (completed < count && clock.Elapsed < TimeSpan.FromSeconds(5))
        {
            if (socket.Tx.NeedsWakeup)
                socket.WakeupTx();
            uint done = socket.Completion.Peek(64, out _);
            socket.Completion.Release(done);
            completed += (int)done;
        }
        Assert.Equal(count, completed);
    }
}
