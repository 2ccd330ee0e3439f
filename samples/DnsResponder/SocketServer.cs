using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using AfXdp.Hosting;
using AfXdp.Net;
using AfXdp.Udp;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DnsResponder;

/// <summary>
/// The same responder over System.Net.Sockets, written as well as that API allows: one UDP socket (IPv4 or IPv6, as
/// the endpoint is) per thread on the same address and port (SO_REUSEPORT: the kernel spreads clients over them), bound to
/// the interface, and blocking ReceiveFrom/SendTo on spans with a preallocated SocketAddress, so that
/// a query allocates nothing and costs exactly two syscalls.
/// </summary>
public sealed partial class SocketServer(IOptionsMonitor<UdpServiceSettings> settings, DnsZone zone, DnsRun run, IOptions<DnsSettings> dns,
    IHostApplicationLifetime lifetime, ILogger<SocketServer> logger) : IHostedService
{
    const int SOL_SOCKET = 1, SO_REUSEPORT = 15, SO_BINDTODEVICE = 25;
    const int BufferSize = 2048;

    readonly List<Socket> _sockets = [];
    readonly List<Thread> _workers = [];
    readonly CancellationTokenSource _stop = new();

    /// <summary>Binds the sockets and starts a thread on each; a refusal is logged as one line, exit code 2, and stops the host.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        UdpServiceOptions options;
        try
        {
            options = settings.Get(DnsSettings.UdpSection).ToOptions(DnsSettings.UdpSection).Options;
        }
        catch (OptionsValidationException e)
        {
            foreach (string failure in e.Failures)
                StartFailed(logger, failure);
            return Refused();
        }
        string name = options.Interface;
        int threads = dns.Value.Threads;
        foreach (IPEndPoint endpoint in options.Endpoints)
        {
            try
            {
                for (int i = 0; i < threads; i++)
                    _sockets.Add(Open(name, endpoint));
            }
            catch (SocketException e)
            {
                _sockets.ForEach(s => s.Dispose());
                StartFailed(logger, $"bind({endpoint} on {name}) failed: {e.SocketErrorCode} ({e.Message}). " +
                    (e.SocketErrorCode == SocketError.AddressNotAvailable ? $"Fix: give --ip an address {name} has (`ip -br addr show {name}`)."
                    : e.SocketErrorCode == SocketError.AddressAlreadyInUse ? $"Fix: stop whatever serves {endpoint} (`ss -ulpn sport = :{endpoint.Port}`)."
                    : e.SocketErrorCode == SocketError.AccessDenied ? "Fix: ports below 1024 and binding to a device need root or CAP_NET_BIND_SERVICE and CAP_NET_RAW." : "Fix: check the interface and address."));
                return Refused();
            }
        }
        Serving(logger, string.Join(", ", options.Endpoints), name, zone.Count, threads);
        for (int i = 0; i < _sockets.Count; i++)
        {
            Socket socket = _sockets[i];
            DnsCounters counters = run.NewCounters();
            var worker = new Thread(() => Serve(socket, zone, counters, _stop.Token)) { IsBackground = true, Name = $"dns socket {i}" };
            _workers.Add(worker);
            worker.Start();
        }
        return Task.CompletedTask;
    }

    /// <summary>Closes the sockets, which ends the blocking receives, and waits for the threads.</summary>
    public Task StopAsync(CancellationToken cancellationToken)
    {
        _stop.Cancel();
        _sockets.ForEach(s => s.Dispose());
        _workers.ForEach(w => w.Join());
        return Task.CompletedTask;
    }

    Task Refused()
    {
        Environment.ExitCode = 2;
        lifetime.StopApplication();
        return Task.CompletedTask;
    }

    [LoggerMessage(2400, LogLevel.Information, "Serving {Endpoints} on {Interface} through System.Net.Sockets: {Names} name(s), {Threads} socket(s) per endpoint with SO_REUSEPORT")]
    static partial void Serving(ILogger logger, string endpoints, string @interface, int names, int threads);

    [LoggerMessage(2402, LogLevel.Critical, "{Message}")]
    static partial void StartFailed(ILogger logger, string message);

    static Socket Open(string interfaceName, IPEndPoint endpoint)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
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
        var client = new SocketAddress(socket.AddressFamily);
        bool ipv6 = socket.AddressFamily == AddressFamily.InterNetworkV6;
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
            // The buffer is a sockaddr_in (family, port, then the address) or a sockaddr_in6 (family, port, flow info, then the address): netinet/in.h.
            UInt128 source = ipv6 ? BinaryPrimitives.ReadUInt128BigEndian(client.Buffer.Span[8..]) : Ipv6Address.MapIpv4(BinaryPrimitives.ReadUInt32BigEndian(client.Buffer.Span[4..]));
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
