using AfXdp.Device;
using AfXdp.Testing;
using AfXdp.Xsk;

namespace AfXdp.KernelTests.Xsk;

/// <summary>
/// A socket holds its UMEM's frames (and the first socket the UMEM's descriptor and rings), so disposing the UMEM
/// first must not unmap them under it: the release waits for the last socket, and the UMEM takes no new socket.
/// </summary>
public sealed class UmemLifetimeTests
{
    [Fact]
    public void A_UMEM_disposed_before_its_socket_keeps_its_memory_until_the_socket_is_disposed()
    {
        using var bed = new XskTestBed(XdpAttachMode.Skb, new XskSocketOptions { TxRingSize = 0 });
        bed.Umem.Dispose();
        Assert.False(bed.Umem.Socket.IsClosed, "the UMEM's descriptor closed under its socket");

        const int count = 100;
        bed.SendFromA(count, port: 7011);
        List<byte[]> frames = XskTestBed.Receive(bed.Socket, count, TimeSpan.FromSeconds(5));
        Assert.Equal(count, frames.Count(f => XskTestBed.UdpPayload(f, out int port) is not null && port == 7011));

        bed.Socket.Dispose();
        Assert.True(bed.Umem.Socket.IsClosed, "the last socket's Dispose did not release the disposed UMEM");
    }

    [Fact]
    public void A_disposed_UMEM_refuses_a_new_socket_naming_itself_and_the_order()
    {
        using var bed = new XskTestBed(attach: null);
        bed.Umem.Dispose();
        var e = bed.Lab.Run(VethSide.B, () => Assert.Throws<ObjectDisposedException>(() => new RxSocket(bed.Umem, bed.Lab.InterfaceB, 0).Dispose()));
        Assert.Equal(nameof(Umem), e.ObjectName);
        Assert.Contains("Create a UMEM's sockets before disposing it", e.Message);
        Assert.False(bed.Umem.Socket.IsClosed, "the refused socket released the UMEM its bed's socket still uses");
    }

    [Fact]
    public void A_UMEM_whose_sockets_are_gone_is_released_by_its_own_Dispose()
    {
        using VethLab lab = VethLab.Create();
        lab.Run(VethSide.B, () =>
        {
            var umem = new Umem(new UmemOptions { FrameCount = 64 });
            new RxSocket(umem, lab.InterfaceB, 0).Dispose();
            Assert.False(umem.Socket.IsClosed);
            umem.Dispose();
            Assert.True(umem.Socket.IsClosed);
        });
    }
}
