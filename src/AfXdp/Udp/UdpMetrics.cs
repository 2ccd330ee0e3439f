using System.Diagnostics.Metrics;
using AfXdp.Metrics;

namespace AfXdp.Udp;

/// <summary>
/// The UDP service's instruments on the "AfXdp" meter, observable like the rest: datagrams received and
/// sent, drops by reason and the handler's exceptions, per queue; and frames the steering program passed to the kernel.
/// </summary>
internal static class UdpMetrics
{
    const string InterfaceTag = "network.interface.name";
    const string QueueTag = "afxdp.queue";

    static readonly Lock s_lock = new();
    static readonly List<UdpService> s_services = [];

    static UdpMetrics()
    {
        Meter meter = AfXdpMetrics.Meter;
        PerQueue(meter, "afxdp.udp.datagrams.received", "Datagrams the UDP service handed to its handler.", static c => c.Received);
        PerQueue(meter, "afxdp.udp.datagrams.sent", "Datagrams the UDP service sent (replies and new ones).", static c => c.Sent);
        PerQueue(meter, "afxdp.udp.checksum_errors", "Frames dropped for a wrong IPv4 header or UDP checksum.", static c => c.BadChecksums);
        PerQueue(meter, "afxdp.udp.malformed", "Frames dropped as malformed (lengths, fragments, options).", static c => c.Malformed);
        PerQueue(meter, "afxdp.udp.unanswerable", "Frames dropped because a correct host would not answer them (RFC 1122 sources, reflector ports).", static c => c.Unanswerable);
        PerQueue(meter, "afxdp.udp.handler_errors", "Exceptions the handler threw; each cost its batch's unanswered datagrams, not the service.", static c => c.HandlerErrors, "{exception}");
        meter.CreateObservableCounter("afxdp.udp.passed_to_kernel", ObservePassed, "{packet}",
            "Frames the UDP service's steering program left to the kernel (other traffic), over all CPUs.");
    }

    public static IDisposable Track(UdpService service)
    {
        lock (s_lock)
            s_services.Add(service);
        return new Tracked(service);
    }

    static void PerQueue(Meter meter, string name, string description, Func<UdpServiceCounters, long> read, string unit = "{datagram}") =>
        meter.CreateObservableCounter(name, () =>
        {
            var measurements = new List<Measurement<long>>();
            lock (s_lock)
            {
                foreach (UdpService service in s_services)
                    for (int i = 0; i < service.QueueCounters.Count; i++)
                        measurements.Add(new(read(service.QueueCounters[i]), new(InterfaceTag, service.Options.Interface), new(QueueTag, (long)service.Engine.Queues[i].QueueId)));
            }
            return measurements;
        }, unit, description);

    static List<Measurement<long>> ObservePassed()
    {
        lock (s_lock)
            return s_services.Select(s => new Measurement<long>((long)s.ReadPassedToKernel(), new KeyValuePair<string, object?>(InterfaceTag, s.Options.Interface))).ToList();
    }

    sealed class Tracked(UdpService service) : IDisposable
    {
        public void Dispose()
        {
            lock (s_lock)
                s_services.Remove(service);
        }
    }
}
