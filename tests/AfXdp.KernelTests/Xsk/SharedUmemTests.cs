using System.Net.Sockets;
using AfXdp.Device;
using AfXdp.Testing;
using AfXdp.Xsk;

namespace AfXdp.KernelTests.Xsk;

public sealed class SharedUmemTests
{
    [Fact]
    public void Sockets_on_two_queues_share_one_UMEM_with_their_own_fill_rings()
    {
        using var bed = new XskTestBed(XdpAttachMode.Drv, new XskSocketOptions { TxRingSize = 0 },
            new VethLabOptions { RxQueues = 2, TxQueues = 2 });
        using RxSocket second = bed.Lab.Run(VethSide.B, () =>
            new RxSocket(bed.Umem, bed.Lab.InterfaceB, 1, new XskSocketOptions { FillRingSize = 512, CompletionRingSize = 512 }));
        Assert.NotSame(bed.Socket.Fill, second.Fill);
        Assert.NotSame(bed.Socket.Completion, second.Completion);
        bed.Program!.Register(second);
        bed.Fill(second.Fill, first: 1024, count: 512); // frames the first socket's FILL ring does not hold

        const int count = 400;
        bed.SendFromA(count, port: 7003, sourcePorts: 32); // A's kernel hashes the flows over both TX queues
        var first = new List<byte[]>();
        var other = new List<byte[]>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (first.Count + other.Count < count && clock.Elapsed < TimeSpan.FromSeconds(5))
        {
            first.AddRange(XskTestBed.Receive(bed.Socket, count, TimeSpan.FromMilliseconds(50)));
            other.AddRange(XskTestBed.Receive(second, count, TimeSpan.FromMilliseconds(50)));
        }
        Assert.Equal(count, first.Count + other.Count);
        Assert.NotEmpty(first);
        Assert.NotEmpty(other);
    }

    [Fact]
    public async Task A_second_socket_on_the_same_queue_shares_the_UMEM_rings_and_transmits()
    {
        using var bed = new XskTestBed(XdpAttachMode.Drv, new XskSocketOptions { TxRingSize = 0 });
        using TxSocket sender = bed.Lab.Run(VethSide.B, () => new TxSocket(bed.Umem, bed.Lab.InterfaceB, 0, new XskSocketOptions()));
        Assert.Same(bed.Umem.Fill, sender.Fill);
        Assert.Same(bed.Umem.Completion, sender.Completion);

        using Socket peer = bed.BindOnA(7004);
        var builder = bed.FramesToA(7004);
        var receiving = XskTestBed.ReceiveDatagrams(peer, 100);
        bed.Transmit(sender, 100, (i, frame) => builder.Write(frame, XskTestBed.Payload(i)));
        Assert.Equal(Enumerable.Range(0, 100).Select(XskTestBed.Payload), (await receiving).Select(r => r.Payload));

        // ...while the first socket still receives on the shared FILL ring.
        bed.SendFromA(50, port: 7005);
        Assert.Equal(50, XskTestBed.Receive(bed.Socket, 50, TimeSpan.FromSeconds(5)).Count);
    }
}
