using System.Diagnostics;
using System.Diagnostics.Metrics;
using AfXdp.Xsk;

namespace AfXdp.Metrics;

/// <summary>
/// The library's <see cref="System.Diagnostics.Metrics"/> instruments, on the Meter "AfXdp": what
/// <c>dotnet-counters monitor --counters AfXdp</c> and OpenTelemetry's <c>AddMeter("AfXdp")</c> read.
/// All instruments are observable: nothing is recorded on the data path, which only increments the
/// plain fields of <see cref="XskCounters"/>; a collector reads them (and asks the kernel for its six
/// counters, and reads the ring indices) only when it collects. Every measurement carries the tags
/// <c>network.interface.name</c> and <c>afxdp.queue</c>.
/// </summary>
/// <remarks>
/// The ring verbs count into each socket's <see cref="XskSocket.Counters"/>; <see cref="Engine.XdpEngine"/>
/// tracks its sockets itself, an application calls <see cref="Track"/> for its own.
/// </remarks>
public static class AfXdpMetrics
{
    /// <summary>The name of the Meter the instruments belong to: listen to it with OpenTelemetry, dotnet-counters or a MeterListener.</summary>
    public const string MeterName = "AfXdp";

    const string InterfaceTag = "network.interface.name";
    const string QueueTag = "afxdp.queue";
    const string RingTag = "afxdp.ring";

    static readonly Meter s_meter = new(MeterName, typeof(AfXdpMetrics).Assembly.GetName().Version?.ToString());

    /// <summary>The "AfXdp" meter, for the instruments of the layers above (the UDP service).</summary>
    internal static Meter Meter => s_meter;
    static readonly Lock s_lock = new();
    static readonly List<TrackedSocket> s_tracked = [];

    static AfXdpMetrics()
    {
        Counter("afxdp.rx.packets", "{packet}", "Frames taken from the RX ring.", static t => t.Counters.RxPackets);
        Counter("afxdp.rx.bytes", "By", "Bytes of the frames taken from the RX ring.", static t => t.Counters.RxBytes);
        Counter("afxdp.tx.packets", "{packet}", "Frames the kernel finished sending (COMPLETION ring).", static t => t.Counters.TxPackets);
        Counter("afxdp.tx.bytes", "By", "Bytes put on the TX ring.", static t => t.Counters.TxBytes);
        Counter("afxdp.tx.dropped", "{packet}", "Frames meant for TX that found no free slot.", static t => t.Counters.TxDropped);
        Counter("afxdp.wakeups", "{syscall}", "Syscalls made to wake the kernel or to wait for it.", static t => t.Counters.Wakeups);
        // XDP_STATISTICS, under the kernel's field names.
        Counter("afxdp.xsk.rx_dropped", "{packet}", "Kernel: frames dropped for lack of a FILL entry or too long for a frame.", static t => (long)t.Statistics().RxDropped);
        Counter("afxdp.xsk.rx_invalid_descs", "{descriptor}", "Kernel: invalid descriptors on the FILL ring.", static t => (long)t.Statistics().RxInvalidDescriptors);
        Counter("afxdp.xsk.tx_invalid_descs", "{descriptor}", "Kernel: invalid descriptors on the TX ring.", static t => (long)t.Statistics().TxInvalidDescriptors);
        Counter("afxdp.xsk.rx_ring_full", "{packet}", "Kernel: frames dropped because the RX ring was full.", static t => (long)t.Statistics().RxRingFull);
        Counter("afxdp.xsk.rx_fill_ring_empty_descs", "{event}", "Kernel: times the FILL ring was found empty.", static t => (long)t.Statistics().RxFillRingEmptyDescriptors);
        Counter("afxdp.xsk.tx_ring_empty_descs", "{event}", "Kernel: times the TX ring was found empty when woken.", static t => (long)t.Statistics().TxRingEmptyDescriptors);
        s_meter.CreateObservableGauge("afxdp.ring.occupancy", ObserveRings, "{entry}",
            "Entries in each ring not yet taken by its consumer (afxdp.ring = rx, tx, fill, completion).");
    }

    /// <summary>
    /// Publishes a socket's counters and kernel statistics until the returned handle is disposed.
    /// Dispose the handle before the socket: a collection reads the socket's rings and options.
    /// </summary>
    public static IDisposable Track(XskSocket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        var tracked = new TrackedSocket(socket, socket.Counters);
        lock (s_lock)
            s_tracked.Add(tracked);
        return tracked;
    }

    static void Counter(string name, string unit, string description, Func<TrackedSocket, long> read) =>
        s_meter.CreateObservableCounter(name, () => Observe(read), unit, description);

    static List<Measurement<long>> Observe(Func<TrackedSocket, long> read)
    {
        lock (s_lock)
            return s_tracked.Select(t => new Measurement<long>(read(t), t.Tags)).ToList();
    }

    static List<Measurement<long>> ObserveRings()
    {
        var measurements = new List<Measurement<long>>();
        lock (s_lock)
        {
            foreach (TrackedSocket t in s_tracked)
            {
                XskSocket s = t.Socket;
                if (s.RxRing is { } rx)
                    measurements.Add(new(rx.Available, t.RingTags[0]));
                if (s.TxRing is { } tx)
                    measurements.Add(new(tx.Pending, t.RingTags[1]));
                measurements.Add(new(s.Fill.Pending, t.RingTags[2]));
                measurements.Add(new(s.Completion.Available, t.RingTags[3]));
            }
        }
        return measurements;
    }

    sealed class TrackedSocket(XskSocket socket, XskCounters counters) : IDisposable
    {
        // Six instruments read the same getsockopt: one read serves a whole collection.
        static readonly long StatisticsMaxAge = Stopwatch.Frequency / 20;
        XdpStatistics _statistics;
        long _statisticsRead;

        public XskSocket Socket { get; } = socket;

        public XskCounters Counters { get; } = counters;

        public KeyValuePair<string, object?>[] Tags { get; } = [new(InterfaceTag, socket.InterfaceName), new(QueueTag, (long)socket.QueueId)];

        public KeyValuePair<string, object?>[][] RingTags { get; } = new[] { "rx", "tx", "fill", "completion" }
            .Select(ring => new KeyValuePair<string, object?>[] { new(InterfaceTag, socket.InterfaceName), new(QueueTag, (long)socket.QueueId), new(RingTag, ring) })
            .ToArray();

        public XdpStatistics Statistics()
        {
            long now = Stopwatch.GetTimestamp();
            if (_statisticsRead == 0 || now - _statisticsRead > StatisticsMaxAge)
                (_statistics, _statisticsRead) = (Socket.Statistics, now);
            return _statistics;
        }

        public void Dispose()
        {
            lock (s_lock)
                s_tracked.Remove(this);
        }
    }
}
