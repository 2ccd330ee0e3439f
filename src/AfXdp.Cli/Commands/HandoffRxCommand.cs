using System.CommandLine;
using System.Diagnostics;
using System.Net.Sockets;
using AfXdp.Net;
using AfXdp.Xsk;

namespace AfXdp.Cli.Commands;

/// <summary>
/// <c>afxdp handoff-rx</c>: the unprivileged side of <see cref="XskHandoff"/>. Connects to a unix
/// socket, receives a UMEM and bound AF_XDP sockets, and prints the frames that arrive; it creates,
/// binds and attaches nothing, so it runs without any capability.
/// </summary>
internal static class HandoffRxCommand
{
    public static Command Create()
    {
        var connect = new Option<string>("--connect") { Description = "unix socket path the privileged side hands the descriptors out on", Required = true };
        var count = CliOptions.Count("frames to receive", 10, 1, int.MaxValue);
        var timeout = new Option<double>("--timeout") { Description = "seconds to wait for them", DefaultValueFactory = _ => 10, CustomParser = r => CliOptions.Seconds(r, "--timeout", zeroAllowed: false) };
        var command = new Command("handoff-rx",
            "Unprivileged data path: receive a UMEM and AF_XDP sockets from a privileged process over a unix socket (SCM_RIGHTS), " +
            "map their rings and print the frames that arrive. Needs no capability.")
        {
            connect, count, timeout,
        };
        command.SetAction(r => Run(r.GetRequiredValue(connect), (int)r.GetValue(count), TimeSpan.FromSeconds(r.GetValue(timeout))));
        return command;
    }

    static int Run(string path, int count, TimeSpan timeout)
    {
        using var connection = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { ReceiveTimeout = (int)timeout.TotalMilliseconds };
        connection.Connect(new UnixDomainSocketEndPoint(path));
        using XskHandoffResult handoff = XskHandoff.Receive(connection);
        Umem umem = handoff.Umem;
        string capabilities = File.ReadLines("/proc/self/status").First(l => l.StartsWith("CapEff:", StringComparison.Ordinal))[7..].Trim();
        Console.Out.WriteLine($"received {handoff.Sockets.Count} socket(s) on a {umem.FrameCount}-frame UMEM; uid {Environment.UserName} ({GetUid()}), CapEff {capabilities}");

        // Frames are split evenly between the sockets' FILL rings.
        uint share = umem.FrameCount / (uint)handoff.Sockets.Count;
        for (int s = 0; s < handoff.Sockets.Count; s++)
        {
            FillRing fill = handoff.Sockets[s].Fill;
            fill.Populate((uint)s * share, Math.Min(share, fill.Size));
        }
        connection.Send("R"u8); // ready: the sender may start the traffic
        Console.Out.Flush();

        int received = 0;
        var clock = Stopwatch.StartNew();
        while (received < count && clock.Elapsed < timeout)
        {
            foreach (IRxSocket socket in handoff.Sockets.OfType<IRxSocket>())
            {
                RxBatch batch = socket.Rx.Receive(64, timeoutMs: 20);
                foreach (RxFrame frame in batch)
                    Console.Out.WriteLine($"q{((XskSocket)socket).QueueId} {frame.Length} bytes {Describe(frame.Data)}");
                batch.Recycle();
                received += (int)batch.Count;
            }
        }
        Console.Out.WriteLine($"received {received} of {count} frames without privileges");
        return received >= count ? 0 : 1;
    }

    static string Describe(Span<byte> frame)
    {
        if (EthernetFrame.TryCreate(frame, out EthernetFrame ethernet) && ethernet.EtherType == EtherType.Ipv4
            && Ipv4Packet.TryCreate(ethernet.Payload, out Ipv4Packet ip) && ip.Protocol == IpProtocol.Udp
            && UdpDatagram.TryCreate(ip.Payload, out UdpDatagram udp))
            return $"{ip.GetSourceIPAddress()}:{udp.SourcePort} -> {ip.GetDestinationIPAddress()}:{udp.DestinationPort} \"{System.Text.Encoding.ASCII.GetString(udp.Payload)}\"";
        return "(not UDP over IPv4)";
    }

    static string GetUid() => File.ReadLines("/proc/self/status").First(l => l.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[1];
}
