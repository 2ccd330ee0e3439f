using AfXdp.Hosting;
using AfXdp.TestShared;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace AfXdp.Tests.Hosting;

/// <summary>HealthLogPublisher: a log line (event 2330) when the status changes, none while it stays, at a level that follows the status.</summary>
public sealed class HealthLogPublisherTests
{
    static HealthReport Report(HealthStatus status, string description) =>
        new(new Dictionary<string, HealthReportEntry> { ["afxdp-udp"] = new(status, description, TimeSpan.Zero, null, null) }, TimeSpan.Zero);

    [Fact]
    public async Task Each_change_of_status_is_logged_once_at_its_level_and_a_repeated_status_is_not()
    {
        using var recorder = new LogRecorder();
        var publisher = new HealthLogPublisher(new Logger<HealthLogPublisher>(new LoggerFactory([recorder])));
        await publisher.PublishAsync(Report(HealthStatus.Healthy, "serving"), TestContext.Current.CancellationToken);
        await publisher.PublishAsync(Report(HealthStatus.Healthy, "serving"), TestContext.Current.CancellationToken);
        await publisher.PublishAsync(Report(HealthStatus.Degraded, "rx_ring_full +3"), TestContext.Current.CancellationToken);
        await publisher.PublishAsync(Report(HealthStatus.Unhealthy, "the interface is gone"), TestContext.Current.CancellationToken);

        Assert.Equal(
            [
                (UdpServiceEvents.HealthChanged, LogLevel.Information, "Health Healthy: afxdp-udp: Healthy, serving"),
                (UdpServiceEvents.HealthChanged, LogLevel.Warning, "Health Degraded: afxdp-udp: Degraded, rx_ring_full +3"),
                (UdpServiceEvents.HealthChanged, LogLevel.Error, "Health Unhealthy: afxdp-udp: Unhealthy, the interface is gone"),
            ],
            recorder.Entries);
    }
}
