using System.Diagnostics;
using System.Net;
using AfXdp.Bpf;
using AfXdp.DevicePlugin;
using AfXdp.Udp;

namespace DnsResponder;

/// <summary>The responder over AF_XDP: the library's UDP service, answering each query in the frame it arrived in.</summary>
public static class XdpServer
{
    /// <summary>Serves until <paramref name="stop"/>; prints the summary line and returns the exit code.</summary>
    public static int Run(string interfaceName, IPEndPoint endpoint, DnsZone zone, TimeSpan spinTime, TimeSpan coalesce, XskMapSource? xskMap, CancellationToken stop)
    {
        // With the device plugin's XSKMAP nothing is loaded: its program decides what reaches the sockets.
        using XskMap? map = xskMap?.Open(interfaceName);
        using var service = new UdpService(new UdpServiceOptions { Interface = interfaceName, Endpoints = [endpoint], SpinTime = spinTime, Coalesce = coalesce, XskMap = map, Log = report => Console.Error.WriteLine(report.Message) });
        Console.WriteLine($"serving {zone.Count} name(s) on {endpoint} ({interfaceName}) over AF_XDP: {service.Engine.Queues.Count} queue(s), " +
            (service.Program is { } program
                ? $"{program.Program.Name} in {program.Link.Mode.ToString().ToLowerInvariant()} mode; everything else goes to the kernel."
                : $"registered in XSKMAP id {map!.Id} from {xskMap!.PathFor(interfaceName)}; the program on {interfaceName} decides what arrives."));
        var clock = Stopwatch.StartNew();
        var handlers = new List<DnsHandler>();
        service.Run(_ =>
        {
            var handler = new DnsHandler(zone);
            handlers.Add(handler);
            return handler;
        }, stop);
        Console.WriteLine(DnsCounters.Sum(handlers.Select(h => h.Counters)).Summary("xdp", clock));
        Console.WriteLine($"udp: {service.ReadCounters()} passed_to_kernel={service.ReadPassedToKernel()} per queue: " +
            string.Join(" ", service.Engine.Queues.Select((q, i) => $"q{q.QueueId}={service.QueueCounters[i].Received}")));
        return 0;
    }

    /// <summary>One queue's answerer: each query becomes its reply in place.</summary>
    sealed class DnsHandler(DnsZone zone) : IUdpHandler
    {
        readonly ErrorRateLimiter _limiter = new();

        public DnsCounters Counters { get; } = new();

        public void Handle(UdpBatch batch)
        {
            foreach (Datagram query in batch)
            {
                int length = DnsAnswerer.Answer(query.ReplyPayload, query.Payload.Length, zone, _limiter, query.Remote.Address, out DnsOutcome outcome);
                Counters.Add(outcome);
                if (length > 0)
                    query.Reply(length);
            }
        }
    }
}
