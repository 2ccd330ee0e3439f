using Microsoft.Extensions.Logging;

namespace AfXdp.Hosting;

/// <summary>
/// The event ids of what a hosted UDP service logs (category <c>AfXdp.Hosting.UdpServiceRunner</c>): filter or alert on
/// them. Each drop reason is logged once per service, with its fix; the counters (meter "AfXdp") have every one.
/// </summary>
public static class UdpServiceEvents
{
    /// <summary>Information: the sockets are bound and the workers serve (interface, endpoints, queues, program, attach mode, XSKMAP).</summary>
    public const int Started = 2300;

    /// <summary>Information: the workers stopped on shutdown; the service's counters.</summary>
    public const int Stopped = 2301;

    /// <summary>Critical: the settings or the kernel refused the service (one line: value, cause, fix); the host stops with exit code 2.</summary>
    public const int StartFailed = 2302;

    /// <summary>Critical: a worker ended (e.g. the interface was deleted); the host stops with exit code 1.</summary>
    public const int WorkerFaulted = 2303;

    /// <summary>Warning: the workers did not stop within <see cref="UdpServiceSettings.StopTimeout"/>.</summary>
    public const int StopTimedOut = 2304;

    /// <summary>Warning, at start: a kernel UDP socket on a served port no longer gets its datagrams, and which process holds it (<see cref="Udp.UdpServiceReportKind.ShadowedSocket"/>).</summary>
    public const int ShadowedSocket = 2305;

    /// <summary>Error: the handler's first exception of a type (<see cref="Udp.UdpServiceOptions.Log"/>); later ones are counted only.</summary>
    public const int HandlerException = 2310;

    /// <summary>Warning: datagrams dropped for their checksum, once per reason with the fix (afxdp.udp.checksum_errors; <see cref="Udp.UdpServiceReportKind.ChecksumDrops"/>).</summary>
    public const int ChecksumDrops = 2320;

    /// <summary>Warning: the kernel dropped frames for the socket (XDP_STATISTICS rx_dropped: no FILL entry, or a frame too long).</summary>
    public const int KernelRxDrops = 2321;

    /// <summary>Warning: the kernel dropped frames because the RX ring was full (rx_ring_full).</summary>
    public const int RxRingFull = 2322;

    /// <summary>Warning: the kernel found the FILL ring empty (rx_fill_ring_empty_descs).</summary>
    public const int FillRingEmpty = 2323;

    /// <summary>Warning: replies or sends found no free TX slot and were dropped (afxdp.tx.dropped).</summary>
    public const int TxRingFull = 2324;

    /// <summary>Information, Warning or Error: the health checks' status changed (<see cref="HealthLogPublisher"/>).</summary>
    public const int HealthChanged = 2330;
}

/// <summary>The messages, generated (no formatting unless the level is enabled).</summary>
internal static partial class UdpServiceLog
{
    [LoggerMessage(UdpServiceEvents.Started, LogLevel.Information,
        "Serving {Endpoints} on {Interface} over AF_XDP: {QueueCount} queue(s) ({Queues}), program {Program}, attach mode {AttachMode}, XSKMAP {XskMap}")]
    public static partial void Started(ILogger logger, string endpoints, string @interface, int queueCount, string queues, string program, string attachMode, string xskMap);

    [LoggerMessage(UdpServiceEvents.Stopped, LogLevel.Information, "Stopped serving on {Interface}: {Counters}, passed_to_kernel={PassedToKernel}")]
    public static partial void Stopped(ILogger logger, string @interface, string counters, ulong passedToKernel);

    /// <summary>A refusal the user can act on carries no exception (no stack trace): its message says it all.</summary>
    [LoggerMessage(UdpServiceEvents.StartFailed, LogLevel.Critical, "{Message}")]
    public static partial void StartFailed(ILogger logger, string message, Exception? exception);

    [LoggerMessage(UdpServiceEvents.WorkerFaulted, LogLevel.Critical, "{Service}: a worker stopped serving: {Message}; the host stops")]
    public static partial void WorkerFaulted(ILogger logger, string service, string message, Exception exception);

    [LoggerMessage(UdpServiceEvents.StopTimedOut, LogLevel.Warning, "{Service}: the workers did not stop within {Timeout}; the host goes on shutting down")]
    public static partial void StopTimedOut(ILogger logger, string service, TimeSpan timeout);

    /// <summary>What the service itself tells (<see cref="Udp.UdpServiceOptions.Log"/>), under the event id of its kind.</summary>
    public static void Report(ILogger logger, Udp.UdpServiceReport report)
    {
        switch (report.Kind)
        {
            case Udp.UdpServiceReportKind.HandlerException:
                HandlerException(logger, report.Message);
                break;
            case Udp.UdpServiceReportKind.ChecksumDrops:
                ChecksumDrops(logger, report.Message);
                break;
            default:
                ShadowedSocket(logger, report.Message);
                break;
        }
    }

    [LoggerMessage(UdpServiceEvents.HandlerException, LogLevel.Error, "{Report}")]
    static partial void HandlerException(ILogger logger, string report);

    [LoggerMessage(UdpServiceEvents.ChecksumDrops, LogLevel.Warning, "{Report}")]
    static partial void ChecksumDrops(ILogger logger, string report);

    [LoggerMessage(UdpServiceEvents.ShadowedSocket, LogLevel.Warning, "{Report}")]
    static partial void ShadowedSocket(ILogger logger, string report);

    [LoggerMessage(UdpServiceEvents.KernelRxDrops, LogLevel.Warning,
        "{Service}: the kernel dropped frames for the sockets (XDP_STATISTICS rx_dropped, afxdp.xsk.rx_dropped): no free frame on the FILL ring, or a frame longer than 2048 bytes. Keep the MTU at 1500 or less (`ip link set dev {Interface} mtu 1500`) and give each worker a CPU of its own (Cores). Told once")]
    public static partial void KernelRxDrops(ILogger logger, string service, string @interface);

    [LoggerMessage(UdpServiceEvents.RxRingFull, LogLevel.Warning,
        "{Service}: the kernel dropped frames because an RX ring was full (rx_ring_full, afxdp.xsk.rx_ring_full): the workers do not keep up. Give each worker a CPU of its own (Cores), add queues (`ethtool -L {Interface} combined N`), or make the handler faster. Told once")]
    public static partial void RxRingFull(ILogger logger, string service, string @interface);

    [LoggerMessage(UdpServiceEvents.FillRingEmpty, LogLevel.Warning,
        "{Service}: the kernel found a FILL ring empty (rx_fill_ring_empty_descs, afxdp.xsk.rx_fill_ring_empty_descs): frames arrive faster than the workers take them. Give each worker a CPU of its own (Cores) or add queues (`ethtool -L {Interface} combined N`). Told once")]
    public static partial void FillRingEmpty(ILogger logger, string service, string @interface);

    [LoggerMessage(UdpServiceEvents.TxRingFull, LogLevel.Warning,
        "{Service}: replies found the TX ring full and were dropped (afxdp.tx.dropped): the device sends slower than the service answers. Check the link (`ethtool -S {Interface}`) and the peer's receive rate. Told once")]
    public static partial void TxRingFull(ILogger logger, string service, string @interface);
}
