using System.CommandLine;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using AfXdp.Bpf;
using AfXdp.Device;
using AfXdp.Testing;
using AfXdp.Net;
using AfXdp.Xsk;

namespace AfXdp.Cli.Commands;

/// <summary>
/// <c>afxdp demo</c>: the whole path on a throwaway lab. Two namespaces joined by a veth pair; the
/// redirect program and an AF_XDP socket on end B; the kernel of end A sends UDP datagrams from an
/// ordinary socket; they arrive in the socket's RX ring. Everything is removed again, also on Ctrl-C.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var count = CliOptions.Count("datagrams to send", 10, 1, 100_000);
        var attach = CliOptions.Attach("XDP attach mode on end B: skb | drv | auto");
        var port = CliOptions.Number<ushort>("--port", null, "UDP destination port", 9, 1, ushort.MaxValue, "a port");
        var filter = CliOptions.Filter();
        var command = new Command("demo",
            "Create a throwaway veth lab, receive UDP datagrams sent by the peer's kernel over AF_XDP, print them and the kernel's counters, remove everything.")
        { count, attach, port, filter };
        command.SetAction(r => Run((int)r.GetValue(count), Enum.Parse<XdpAttachMode>(r.GetRequiredValue(attach), ignoreCase: true), r.GetValue(port), r.GetValue(filter)));
        return command;
    }

    sealed record Received(int Length, string Source, string Destination, string Payload);

    static int Run(int count, XdpAttachMode mode, ushort port, PacketFilter? filter)
    {
        using var cancel = new CancellationTokenSource();
        using var signals = new StopSignals(cancel.Cancel);

        using VethLab lab = VethLab.Create();
        Console.WriteLine($"lab: {lab.NamespaceA}/{lab.InterfaceA} {lab.AddressA} ({lab.MacA})  <->  {lab.NamespaceB}/{lab.InterfaceB} {lab.AddressB} ({lab.MacB})");

        using var ready = new ManualResetEventSlim();
        var received = new List<Received>();
        XdpStatistics statistics = default;
        SteeringCounters? steering = null;
        Task receiver = lab.RunAsync(VethSide.B, () =>
        {
            using var umem = new Umem(new UmemOptions { FrameCount = 4096 });
            using var socket = new RxSocket(umem, lab.InterfaceB, 0);
            using XskRedirectProgram program = XskRedirectProgram.Attach(lab.InterfaceB, mode, filter: filter);
            program.Register(socket);
            Console.WriteLine($"B: {program.Program.Name}{(filter is null ? "" : $" for \"{filter}\"")} (prog id {program.Program.Id}) attached in {program.Link.Mode.ToString().ToLowerInvariant()} mode " +
                $"by {(program.Link.IsBpfLink ? "bpf_link" : "netlink")}; AF_XDP socket bound to {lab.InterfaceB} queue 0 ({(socket.IsZeroCopy ? "zero-copy" : "copy")} mode)");
            socket.Fill.Populate(0, socket.Fill.Size);
            ready.Set();

            var deadline = Stopwatch.StartNew();
            while (received.Count < count && deadline.Elapsed < TimeSpan.FromSeconds(10) && !cancel.IsCancellationRequested)
            {
                RxBatch batch = socket.Rx.Receive(64, timeoutMs: 100);
                foreach (RxFrame frame in batch)
                    received.Add(Describe(frame.Data));
                batch.Recycle();
            }
            statistics = socket.Statistics;
            if (filter is not null)
                steering = program.ReadCounters();
        });

        ready.Wait(cancel.Token);
        lab.Run(VethSide.A, () =>
        {
            using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            var destination = new IPEndPoint(lab.AddressB, port);
            for (int i = 0; i < count && !cancel.IsCancellationRequested; i++)
                udp.SendTo(Encoding.ASCII.GetBytes($"afxdp demo datagram {i + 1}"), destination);
        });
        Console.WriteLine($"A: the kernel sent {count} UDP datagrams to {lab.AddressB}:{port} from an ordinary socket");
        receiver.GetAwaiter().GetResult();

        foreach (Received r in received)
            Console.WriteLine($"  {r.Length,5} bytes  {r.Source} -> {r.Destination}  \"{r.Payload}\"");
        Console.WriteLine($"received {received.Count} of {count} over AF_XDP");
        Console.WriteLine($"kernel counters (XDP_STATISTICS): rx_dropped={statistics.RxDropped} rx_invalid_descs={statistics.RxInvalidDescriptors} " +
            $"tx_invalid_descs={statistics.TxInvalidDescriptors} rx_ring_full={statistics.RxRingFull} " +
            $"rx_fill_ring_empty_descs={statistics.RxFillRingEmptyDescriptors} tx_ring_empty_descs={statistics.TxRingEmptyDescriptors}");
        if (steering is { } verdicts)
            Console.WriteLine($"steering counters: {verdicts}");
        Console.WriteLine($"removed {lab.NamespaceA} and {lab.NamespaceB}");
        return cancel.IsCancellationRequested ? 130 : received.Count == count ? 0 : 1;
    }

    static Received Describe(Span<byte> bytes)
    {
        if (!EthernetFrame.TryCreate(bytes, out EthernetFrame ethernet))
            return new Received(bytes.Length, "?", "?", "(not Ethernet)");
        if (ethernet.EtherType != EtherType.Ipv4 || !Ipv4Packet.TryCreate(ethernet.Payload, out Ipv4Packet ip))
            return new Received(bytes.Length, ethernet.Source.ToString(), ethernet.Destination.ToString(), $"(EtherType 0x{(ushort)ethernet.EtherType:x4})");
        if (ip.Protocol != IpProtocol.Udp || !UdpDatagram.TryCreate(ip.Payload, out UdpDatagram udp))
            return new Received(bytes.Length, ip.GetSourceIPAddress().ToString(), ip.GetDestinationIPAddress().ToString(), $"(IP protocol {(byte)ip.Protocol})");
        return new Received(bytes.Length, $"{ip.GetSourceIPAddress()}:{udp.SourcePort}", $"{ip.GetDestinationIPAddress()}:{udp.DestinationPort}",
            Encoding.ASCII.GetString(udp.Payload));
    }
}
