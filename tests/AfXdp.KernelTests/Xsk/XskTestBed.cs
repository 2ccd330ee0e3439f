using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AfXdp.Bpf;
using AfXdp.Device;
using AfXdp.Testing;
using AfXdp.Net;
using AfXdp.Xsk;

namespace AfXdp.KernelTests.Xsk;

/// <summary>
/// A fresh lab with a UMEM and an AF_XDP socket on end B, all created inside B's namespace;
/// optionally the redirect program (the steering program with a filter). Frames 0..FILL-size go to the FILL ring; the rest are free for TX.
/// </summary>
internal sealed class XskTestBed : IDisposable
{
    /// <summary>The program is loaded multi-buffer aware (XdpHasFrags) when the socket is; <paramref name="umemConfig"/> defaults to 4096 frames of 4096 bytes.</summary>
    public XskTestBed(XdpAttachMode? attach, XskSocketOptions? config = null, VethLabOptions? labOptions = null, uint queue = 0, UmemOptions? umemConfig = null, PacketFilter? filter = null)
    {
        KernelTest.RequireRoot();
        Lab = VethLab.Create(labOptions);
        try
        {
            (Umem, Socket, Program) = Lab.Run(VethSide.B, () =>
            {
                var umem = new Umem(umemConfig ?? new UmemOptions { FrameCount = 4096, FillRingSize = 1024, CompletionRingSize = 1024 });
                RxTxSocket? socket = null;
                try
                {
                                        socket = new RxTxSocket(umem, Lab.InterfaceB, queue, Normalized(config));
                    bool frags = socket.Options.MultiBuffer;
                    XskRedirectProgram? program = attach is { } mode
                        ? XskRedirectProgram.Attach(Lab.InterfaceB, mode, filter: filter, multiBuffer: frags)
                        : null;
                    program?.Register(socket);
                    return (umem, socket, program);
                }
                catch
                {
                    socket?.Dispose();
                    umem.Dispose();
                    throw;
                }
            });
            Fill(Socket.Fill, first: 0, count: Socket.Fill.Size);
        }
        catch
        {
            Lab.Dispose();
            throw;
        }
    }

    /// <summary>The bed's socket always has both rings: a configuration that leaves one out only means the test does not use it.</summary>
    static XskSocketOptions? Normalized(XskSocketOptions? config) => config is null ? null
        : config with { RxRingSize = config.RxRingSize == 0 ? 2048 : config.RxRingSize, TxRingSize = config.TxRingSize == 0 ? 2048 : config.TxRingSize };

    public VethLab Lab { get; }
    public Umem Umem { get; }
    public RxTxSocket Socket { get; }
    public XskRedirectProgram? Program { get; }

    /// <summary>First frame number free for TX (above what the FILL ring got).</summary>
    public const uint FirstTxFrame = 2048;

    public void Fill(FillRing fill, uint first, uint count) => fill.Populate(first, count);

    /// <summary>Receives until <paramref name="count"/> frames arrived or the timeout passed; copies them out and recycles the frames.</summary>
    public static List<byte[]> Receive(IRxSocket socket, int count, TimeSpan timeout)
    {
        var frames = new List<byte[]>();
        var clock = Stopwatch.StartNew();
        while (frames.Count < count && clock.Elapsed < timeout)
        {
            RxBatch batch = socket.Rx.Receive(64, timeoutMs: 50);
            foreach (RxFrame frame in batch)
                frames.Add(frame.Data.ToArray());
            batch.Recycle();
        }
        return frames;
    }

    /// <summary>Sends datagrams from A's kernel stack to B, from <paramref name="sourcePorts"/> different ports (to spread over queues).</summary>
    public void SendFromA(int count, int port, int sourcePorts = 1) => SendFromA(Lab, count, port, sourcePorts);

    /// <inheritdoc cref="SendFromA(int, int, int)"/>
    public static void SendFromA(VethLab lab, int count, int port, int sourcePorts = 1) => lab.Run(VethSide.A, () =>
    {
        var sockets = Enumerable.Range(0, sourcePorts).Select(_ => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)).ToList();
        try
        {
            var destination = new IPEndPoint(lab.AddressB, port);
            for (int i = 0; i < count; i++)
                sockets[i % sourcePorts].SendTo(Payload(i), destination);
        }
        finally
        {
            sockets.ForEach(s => s.Dispose());
        }
    });

    public static byte[] Payload(int i) => System.Text.Encoding.ASCII.GetBytes($"afxdp test datagram {i:D6}");

    /// <summary>The UDP payload of an Ethernet/IPv4/UDP frame, or null.</summary>
    public static string? UdpPayload(byte[] frame, out int destinationPort)
    {
        destinationPort = 0;
        if (!EthernetFrame.TryCreate(frame, out EthernetFrame ethernet) || ethernet.EtherType != EtherType.Ipv4
            || !Ipv4Packet.TryCreate(ethernet.Payload, out Ipv4Packet ip) || ip.Protocol != IpProtocol.Udp
            || !UdpDatagram.TryCreate(ip.Payload, out UdpDatagram udp))
            return null;
        destinationPort = udp.DestinationPort;
        return System.Text.Encoding.ASCII.GetString(udp.Payload);
    }

    /// <summary>A UDP socket bound on A's address, created in A's namespace.</summary>
    public Socket BindOnA(int port) => Lab.Run(VethSide.A, () =>
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 2000 };
        // SO_RCVBUFFORCE (root): room for a whole burst, so a slow reader loses nothing.
        socket.SetRawSocketOption(1, 33, BitConverter.GetBytes(8 << 20));
        socket.Bind(new IPEndPoint(Lab.AddressA, port));
        return socket;
    });

    /// <summary>Reads <paramref name="count"/> datagrams on a thread of its own, so the socket's buffer never overflows.</summary>
    public static Task<List<(byte[] Payload, EndPoint From)>> ReceiveDatagrams(Socket socket, int count) => Task.Factory.StartNew(() =>
    {
        var received = new List<(byte[], EndPoint)>();
        var buffer = new byte[2048];
        try
        {
            while (received.Count < count)
            {
                EndPoint from = new IPEndPoint(IPAddress.Any, 0);
                int n = socket.ReceiveFrom(buffer, ref from);
                received.Add((buffer[..n], from));
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
        {
        }
        return received;
    }, TaskCreationOptions.LongRunning);

    /// <summary>A frame builder from B to A's UDP <paramref name="port"/>.</summary>
    public UdpFrameBuilder FramesToA(int port) => new(MacAddress.Parse(Lab.MacB), MacAddress.Parse(Lab.MacA),
        new IPEndPoint(Lab.AddressB, 40000), new IPEndPoint(Lab.AddressA, port));

    /// <summary>Sends <paramref name="count"/> frames written by <paramref name="write"/> from free frames of the socket's UMEM, and waits for their completions.</summary>
    public void Transmit<TSocket>(TSocket socket, int count, Func<int, Span<byte>, int> write) where TSocket : XskSocket, ITxSocket
    {
        int sent = 0, completed = 0;
        var clock = Stopwatch.StartNew();
        while (completed < count && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            // At most 1024 frames out at once: they cycle through 1024 TX frames above the FILL ring's.
            if (sent < count && sent - completed < 1024)
            {
                ulong address = socket.Umem.FrameAddress(FirstTxFrame + (uint)(sent % 1024));
                int length = write(sent, socket.Umem.GetFrame(address, (int)socket.Umem.FrameSize));
                if (socket.Tx.Send(address, (uint)length))
                    sent++;
            }
            socket.Tx.Kick();
            completed += (int)socket.Completion.Drain();
        }
        Assert.Equal(count, completed);
    }

    public void Dispose()
    {
        Program?.Dispose();
        Socket?.Dispose();
        Umem?.Dispose();
        Lab.Dispose();
    }
}
