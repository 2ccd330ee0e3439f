using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace DnsResponder;

/// <summary>
/// The same responder over System.Net.Sockets, written as well as that API allows: one UDP socket per
/// thread on the same address and port (SO_REUSEPORT: the kernel spreads clients over them), bound to
/// the interface, and blocking ReceiveFrom/SendTo on spans with a preallocated SocketAddress, so that
/// a query allocates nothing and costs exactly two syscalls.
/// </summary>
public static class SocketServer
{
    const int SOL_SOCKET = 1, SO_REUSEPORT = 15, SO_BINDTODEVICE = 25;
    const int BufferSize = 2048;

    /// <summary>Serves until <paramref name="stop"/>; prints the summary line and returns the exit code.</summary>
    public static int Run(string interfaceName, IPEndPoint endpoint, DnsZone zone, int threads, CancellationToken stop)
    {
        var sockets = new List<Socket>();
        try
        {
            for (int i = 0; i < threads; i++)
                sockets.Add(Open(interfaceName, endpoint));
        }
        catch (SocketException e)
        {
            sockets.ForEach(s => s.Dispose());
            Console.Error.WriteLine($"bind({endpoint} on {interfaceName}) failed: {e.SocketErrorCode} ({e.Message}). " +
                (e.SocketErrorCode == SocketError.AddressNotAvailable ? $"Fix: give --ip an address {interfaceName} has (`ip -br addr show {interfaceName}`)."
                : e.SocketErrorCode == SocketError.AddressAlreadyInUse ? $"Fix: stop whatever serves {endpoint} (`ss -ulpn sport = :{endpoint.Port}`)."
                : e.SocketErrorCode == SocketError.AccessDenied ? "Fix: ports below 1024 and binding to a device need root or CAP_NET_BIND_SERVICE and CAP_NET_RAW." : "Fix: check the interface and address."));
            return 2;
        }
        Console.WriteLine($"serving {zone.Count} name(s) on {endpoint} ({interfaceName}) through System.Net.Sockets, {threads} socket(s) with SO_REUSEPORT.");
        var clock = Stopwatch.StartNew();
        var counters = new DnsCounters[threads];
        var workers = new Thread[threads];
        for (int i = 0; i < threads; i++)
        {
            var socket = sockets[i];
            var mine = counters[i] = new DnsCounters();
            workers[i] = new Thread(() => Serve(socket, zone, mine, stop)) { IsBackground = true, Name = $"dns socket {i}" };
            workers[i].Start();
        }
        stop.WaitHandle.WaitOne();
        // Closing a socket ends the blocking receive on it.
        sockets.ForEach(s => s.Dispose());
        foreach (Thread worker in workers)
            worker.Join();
        Console.WriteLine(DnsCounters.Sum(counters).Summary("kernel", clock));
        return 0;
    }

    static Socket Open(string interfaceName, IPEndPoint endpoint)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.SetRawSocketOption(SOL_SOCKET, SO_REUSEPORT, BitConverter.GetBytes(1));
            socket.SetRawSocketOption(SOL_SOCKET, SO_BINDTODEVICE, Encoding.ASCII.GetBytes(interfaceName + "\0"));
            socket.Bind(endpoint);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    static void Serve(Socket socket, DnsZone zone, DnsCounters counters, CancellationToken stop)
    {
        byte[] buffer = GC.AllocateArray<byte>(BufferSize, pinned: true);
        var client = new SocketAddress(AddressFamily.InterNetwork);
        var limiter = new ErrorRateLimiter();
        while (!stop.IsCancellationRequested)
        {
            int received;
            try
            {
                received = socket.ReceiveFrom(buffer, SocketFlags.None, client);
            }
            catch (Exception e) when (e is ObjectDisposedException || (e is SocketException && stop.IsCancellationRequested))
            {
                return;
            }
            // The buffer is a sockaddr_in: family, port, then the address (netinet/in.h).
            uint source = BinaryPrimitives.ReadUInt32BigEndian(client.Buffer.Span[4..]);
            int length = DnsAnswerer.Answer(buffer, received, zone, limiter, source, out DnsOutcome outcome);
            counters.Add(outcome);
            if (length > 0)
            {
                try
                {
                    socket.SendTo(buffer.AsSpan(0, length), SocketFlags.None, client);
                }
                catch (SocketException)
                {
                    // An unreachable client (ICMP error) costs it its reply, not the server.
                }
            }
        }
    }
}
