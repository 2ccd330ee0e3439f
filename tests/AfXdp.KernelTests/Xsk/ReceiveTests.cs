using AfXdp.Bpf;
using AfXdp.Device;
using AfXdp.Testing;
using AfXdp.Xsk;

namespace AfXdp.KernelTests.Xsk;

public sealed class ReceiveTests
{
    [Theory]
    [InlineData(XdpAttachMode.Skb)]
    [InlineData(XdpAttachMode.Drv)]
    public void Datagrams_sent_by_the_peer_kernel_arrive_in_the_RX_ring(XdpAttachMode mode)
    {
        using var bed = new XskTestBed(mode, new XskSocketOptions { TxRingSize = 0, BindMode = XdpBindMode.Copy });
        Assert.Equal(mode, bed.Program!.Link.Mode);
        Assert.True(bed.Program.Link.IsBpfLink);
        NetDevice device = bed.Lab.Run(VethSide.B, () => NetDevice.Get(bed.Lab.InterfaceB));
        Assert.Equal(bed.Program.Program.Id, device.Xdp.ProgramIn(mode));
        Assert.Equal(XskRedirectProgram.ProgramName, BpfProgram.NameOf(bed.Program.Program.Id));
        Assert.False(bed.Socket.IsZeroCopy);

        const int count = 500;
        bed.SendFromA(count, port: 7001);
        List<byte[]> frames = XskTestBed.Receive(bed.Socket, count, TimeSpan.FromSeconds(5));

        var payloads = frames.Select(f => XskTestBed.UdpPayload(f, out int port) is { } p && port == 7001 ? p : null).ToList();
        Assert.Equal(count, payloads.Count);
        Assert.Equal(Enumerable.Range(0, count).Select(i => System.Text.Encoding.ASCII.GetString(XskTestBed.Payload(i))), payloads);
        XdpStatistics statistics = bed.Socket.Statistics;
        Assert.Equal(default, statistics);
    }

    [Fact]
    public void Without_a_registered_socket_the_program_passes_frames_to_the_kernel()
    {
        using var bed = new XskTestBed(XdpAttachMode.Drv, new XskSocketOptions { TxRingSize = 0 });
        bed.Program!.Unregister(bed.Socket);
        CommandResult ping = bed.Lab.Exec(VethSide.A, "ping", "-c", "2", "-W", "1", "-i", "0.2", bed.Lab.AddressB.ToString());
        Assert.True(ping.Succeeded, ping.Output + ping.Error);
        Assert.Empty(XskTestBed.Receive(bed.Socket, 1, TimeSpan.FromMilliseconds(300)));
    }
}
