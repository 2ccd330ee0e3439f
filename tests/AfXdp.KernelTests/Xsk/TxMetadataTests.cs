using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AfXdp.Device;
using AfXdp.Interop;
using AfXdp.Testing;
using AfXdp.Net;
using AfXdp.Xsk;

namespace AfXdp.KernelTests.Xsk;

/// <summary>
/// TX metadata (struct xsk_tx_metadata in front of the packet) on veth: the driver serves no request
/// in zero-copy (it has none), so what happens is the kernel's copy-mode path, xsk_skb_metadata.
/// </summary>
public sealed class TxMetadataTests
{
    const int Port = 7030;
    const int UdpStart = 14 + 20;
    static readonly UmemOptions WithMetadata = new() { FrameCount = 4096, TxMetadataLength = XskTxMetadata.Size };

    [Fact]
    public void Veth_reports_XDP_features_but_no_AF_XDP_TX_metadata_features()
    {
        using VethLab lab = VethLab.Create();

        NetdevFeatures features = lab.Run(VethSide.B, () => NetdevFeatures.Get(lab.InterfaceB));

        Assert.True(features.Xdp.HasFlag(XdpFeatures.Basic | XdpFeatures.Redirect), features.ToString());
        Assert.False(features.Xdp.HasFlag(XdpFeatures.XskZeroCopy), features.ToString());
        Assert.Equal(XskFeatures.None, features.Xsk);
        Assert.Equal(0u, features.ZeroCopyMaxSegments);
    }

    [Fact]
    public void The_features_of_a_missing_interface_are_an_error_naming_it()
    {
        var e = Assert.Throws<AfXdpException>(() => NetdevFeatures.Get(999_999));
        Assert.Equal("ENODEV", e.ErrnoName);
        Assert.Contains("ifindex 999999", e.Call);
    }

    [Fact]
    public void A_frame_with_checksum_and_timestamp_requests_still_arrives_and_gets_a_software_timestamp()
    {
        using var bed = new XskTestBed(attach: null, new XskSocketOptions { RxRingSize = 0 }, umemConfig: WithMetadata);
        using Socket receiver = bed.BindOnA(Port);
        ulong address = bed.Umem.TxPacketAddress(bed.Umem.FrameAddress(XskTestBed.FirstTxFrame));
        int length = WriteDatagram(bed, address, "with metadata"u8, prepareChecksumOffload: true);
        ref XskTxMetadata metadata = ref bed.Umem.TxMetadataAt(address);
        metadata = default;
        metadata.Requests = TxMetadataRequests.Timestamp;
        metadata.RequestChecksum(UdpStart, UdpDatagram.ChecksumFieldOffset);
        long before = Sys.ClockNanoseconds(Sys.CLOCK_TAI);

        Send(bed.Socket, address, length, XdpDescriptor.HasTxMetadata);

        long after = Sys.ClockNanoseconds(Sys.CLOCK_TAI);
        var buffer = new byte[64];
        Assert.Equal("with metadata", System.Text.Encoding.ASCII.GetString(buffer, 0, receiver.Receive(buffer)));
        // The completion overwrote the request: the kernel's software TX timestamp, CLOCK_TAI (xsk_destruct_skb).
        Assert.InRange((long)bed.Umem.TxMetadataAt(address).TxTimestamp, before, after);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_kernel_fills_in_a_requested_UDP_checksum_with_TX_SW_CSUM_and_leaves_it_partial_without(bool softwareChecksum)
    {
        using var bed = new XskTestBed(attach: null, new XskSocketOptions { RxRingSize = 0 },
            umemConfig: WithMetadata with { TxSoftwareChecksum = softwareChecksum });
        using Socket receiver = bed.BindOnA(Port);
        using Socket wire = bed.Lab.Run(VethSide.A, OpenPacketSocket);
        ulong address = bed.Umem.TxPacketAddress(bed.Umem.FrameAddress(XskTestBed.FirstTxFrame));
        int length = WriteDatagram(bed, address, "checksum me"u8, prepareChecksumOffload: true);
        ushort pseudoHeaderSum = BinaryPrimitives.ReadUInt16BigEndian(bed.Umem.GetFrame(address, length)[(UdpStart + 6)..]);
        ref XskTxMetadata metadata = ref bed.Umem.TxMetadataAt(address);
        metadata = default;
        metadata.RequestChecksum(UdpStart, UdpDatagram.ChecksumFieldOffset);

        Send(bed.Socket, address, length, XdpDescriptor.HasTxMetadata);

        byte[] seen = ReceiveUdpFrame(wire);
        Assert.True(Ipv4Packet.TryCreate(seen.AsSpan(14), out Ipv4Packet ip));
        Assert.True(UdpDatagram.TryCreate(ip.Payload, out UdpDatagram udp));
        if (softwareChecksum)
            Assert.True(udp.IsChecksumValid(ip.PseudoHeaderSum()), $"checksum 0x{udp.Checksum:x4}");
        else
            // CHECKSUM_PARTIAL: veth hands the peer the packet as it was, trusting it to be completed later.
            Assert.Equal(pseudoHeaderSum, udp.Checksum);
        // Either way the peer's stack takes it: a partial checksum counts as verified on veth.
        var buffer = new byte[64];
        Assert.Equal("checksum me", System.Text.Encoding.ASCII.GetString(buffer, 0, receiver.Receive(buffer)));
    }

    [Fact]
    public void A_checksum_request_past_the_packet_end_is_refused_with_EINVAL_and_explained()
    {
        using var bed = new XskTestBed(attach: null, new XskSocketOptions { RxRingSize = 0 }, umemConfig: WithMetadata);
        ulong address = bed.Umem.TxPacketAddress(bed.Umem.FrameAddress(XskTestBed.FirstTxFrame));
        int length = WriteDatagram(bed, address, "too far"u8, prepareChecksumOffload: true);
        ref XskTxMetadata metadata = ref bed.Umem.TxMetadataAt(address);
        metadata = default;
        metadata.RequestChecksum(UdpStart, length);

        var e = Assert.Throws<AfXdpException>(() => Send(bed.Socket, address, length, XdpDescriptor.HasTxMetadata));

        Assert.Equal("EINVAL", e.ErrnoName);
        Assert.Contains("TX metadata", e.Cause);
    }

    [Fact]
    public void Software_checksums_need_a_metadata_area()
    {
        var e = Assert.Throws<ArgumentException>(() => new UmemOptions { TxSoftwareChecksum = true }.Validate());
        Assert.Contains("Fix: set TxMetadataLength = 24", e.Message);
        using var bed = new XskTestBed(attach: null, new XskSocketOptions { RxRingSize = 0 });
        var noRoom = Assert.Throws<AfXdpException>(() => bed.Umem.TxMetadataAt(4096));
        Assert.Contains("TxMetadataLength", noRoom.Message);
    }

    /// <summary>Writes a UDP frame from B to A's <see cref="Port"/> at <paramref name="address"/>; with checksum offload the checksum field holds the pseudo-header sum.</summary>
    static int WriteDatagram(XskTestBed bed, ulong address, ReadOnlySpan<byte> payload, bool prepareChecksumOffload)
    {
        Span<byte> frame = bed.Umem.GetFrame(address, bed.Umem.TxSegmentCapacity);
        int length = bed.FramesToA(Port).Write(frame, payload);
        if (prepareChecksumOffload)
        {
            Assert.True(Ipv4Packet.TryCreate(frame[14..length], out Ipv4Packet ip));
            Assert.True(UdpDatagram.TryCreate(ip.Payload, out UdpDatagram udp));
            udp.PrepareChecksumOffload(ip.PseudoHeaderSum());
        }
        return length;
    }

    static void Send(RxTxSocket socket, ulong address, int length, uint options)
    {
        TxRing tx = socket.Tx;
        Assert.Equal(1u, tx.Reserve(1, out uint index));
        tx[index] = new XdpDescriptor { Address = address, Length = (uint)length, Options = options };
        tx.Submit(1);
        var clock = Stopwatch.StartNew();
        uint done = 0;
        while (done == 0 && clock.Elapsed < TimeSpan.FromSeconds(5))
        {
            if (tx.NeedsWakeup)
                socket.WakeupTx();
            done = socket.Completion.Peek(1, out _);
            socket.Completion.Release(done);
        }
        Assert.Equal(1u, done);
    }

    /// <summary>An AF_PACKET socket for every frame of the namespace (ETH_P_ALL): the bytes as they crossed the veth.</summary>
    static Socket OpenPacketSocket() =>
        new(AddressFamily.Packet, SocketType.Raw, (ProtocolType)IPAddress.HostToNetworkOrder((short)0x0003)) { ReceiveTimeout = 2000 };

    static byte[] ReceiveUdpFrame(Socket wire)
    {
        var buffer = new byte[2048];
        for (int i = 0; i < 100; i++)
        {
            int n = wire.Receive(buffer);
            if (XskTestBed.UdpPayload(buffer[..n], out int port) is not null && port == Port)
                return buffer[..n];
        }
        throw new InvalidOperationException($"no UDP frame to port {Port} seen on the wire");
    }
}
