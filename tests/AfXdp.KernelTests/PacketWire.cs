using System.Diagnostics;
using AfXdp.Interop;
using AfXdp.Testing;
using AfXdp.Net;
using AfXdp.Device;

namespace AfXdp.KernelTests;

/// <summary>
/// An AF_PACKET socket on one end of a lab: sends raw frames out of that end and sees the frames its
/// stack receives there (frames an XDP program redirects to an AF_XDP socket never reach it).
/// </summary>
internal sealed unsafe class PacketWire : IDisposable
{
    const int AF_PACKET = 17;
    const ushort ETH_P_ALL = 0x0003;
    const byte PACKET_OUTGOING = 4;

    readonly SafeFd _socket;

    PacketWire(string interfaceName)
    {
        int ifindex = NetDevice.IndexOf(interfaceName);
        ushort protocol = (ushort)System.Net.IPAddress.HostToNetworkOrder((short)ETH_P_ALL);
        int fd = Sys.Socket(AF_PACKET, Sys.SOCK_RAW | Sys.SOCK_CLOEXEC, protocol);
        Assert.True(fd >= 0, $"socket(AF_PACKET): errno {Sys.LastErrno}");
        _socket = new SafeFd(fd);
        var address = new sockaddr_ll { sll_family = AF_PACKET, sll_protocol = protocol, sll_ifindex = ifindex };
        Assert.True(Sys.Bind(fd, &address, (uint)sizeof(sockaddr_ll)) == 0, $"bind(AF_PACKET, {interfaceName}): errno {Sys.LastErrno}");
    }

    /// <summary>Opens the wire on <paramref name="side"/>'s interface (the socket stays in that namespace).</summary>
    public static PacketWire Open(VethLab lab, VethSide side) => lab.Run(side, () => new PacketWire(lab.InterfaceOf(side)));

    /// <summary>Sends one frame as it is, out of the interface.</summary>
    public void Send(ReadOnlySpan<byte> frame)
    {
        fixed (byte* p = frame)
            Assert.Equal(frame.Length, (int)Sys.SendTo(_socket.Fd, p, (nuint)frame.Length, 0, null, 0));
    }

    /// <summary>Frames received (not sent) in the next <paramref name="window"/> whose Ethernet source is <paramref name="source"/>.</summary>
    public List<byte[]> ReceiveFrom(MacAddress source, TimeSpan window, int stopAfter = int.MaxValue)
    {
        var frames = new List<byte[]>();
        var buffer = new byte[4096];
        long deadline = Stopwatch.GetTimestamp() + (long)(window.TotalSeconds * Stopwatch.Frequency);
        while (frames.Count < stopAfter)
        {
            long left = (deadline - Stopwatch.GetTimestamp()) * 1000 / Stopwatch.Frequency;
            if (left <= 0)
                break;
            Sys.pollfd pfd = new() { fd = _socket.Fd, events = Sys.POLLIN };
            if (Sys.Poll(&pfd, 1, (int)left) <= 0)
                continue;
            sockaddr_ll from;
            uint fromLength = (uint)sizeof(sockaddr_ll);
            nint n;
            fixed (byte* p = buffer)
                n = Sys.RecvFrom(_socket.Fd, p, (nuint)buffer.Length, Sys.MSG_DONTWAIT, &from, &fromLength);
            if (n >= EthernetFrame.HeaderLength && from.sll_pkttype != PACKET_OUTGOING && new MacAddress(buffer.AsSpan(6)) == source)
                frames.Add(buffer[..(int)n]);
        }
        return frames;
    }

    public void Dispose() => _socket.Dispose();

    /// <summary>struct sockaddr_ll (linux/if_packet.h).</summary>
    struct sockaddr_ll
    {
        public ushort sll_family;
        public ushort sll_protocol;
        public int sll_ifindex;
        public ushort sll_hatype;
        public byte sll_pkttype;
        public byte sll_halen;
        public fixed byte sll_addr[8];
    }
}
