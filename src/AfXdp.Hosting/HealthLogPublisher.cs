using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace AfXdp.Hosting;

/// <summary>
/// Tells the health checks' result in the log each time its status changes (event <see cref="UdpServiceEvents.HealthChanged"/>):
/// a service without an HTTP endpoint shows its health where its operator looks, the journal. The host runs the checks
/// every <see cref="HealthCheckPublisherOptions.Period"/> (30 s by default, the first after 5 s).
/// </summary>
public sealed partial class HealthLogPublisher(ILogger<HealthLogPublisher> logger) : IHealthCheckPublisher
{
    HealthStatus? _last;

    /// <inheritdoc/>
    public Task PublishAsync(HealthReport report, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (_last == report.Status)
            return Task.CompletedTask;
        _last = report.Status;
        string entries = string.Join("; ", report.Entries.Select(e => $"{e.Key}: {e.Value.Status}, {e.Value.Description}"));
        Changed(logger, report.Status switch { HealthStatus.Healthy => LogLevel.Information, HealthStatus.Degraded => LogLevel.Warning, _ => LogLevel.Error },
            report.Status, entries);
        return Task.CompletedTask;
    }

    [LoggerMessage(EventId = UdpServiceEvents.HealthChanged, Message = "Health {Status}: {Entries}")]
    static partial void Changed(ILogger logger, LogLevel level, HealthStatus status, string entries);
}

/// <summary>Registers <see cref="HealthLogPublisher"/>.</summary>
public static class HealthLogPublisherExtensions
{
    /// <summary>Logs the health checks' status each time it changes (<see cref="HealthLogPublisher"/>).</summary>
    public static IHealthChecksBuilder PublishToLog(this IHealthChecksBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton<IHealthCheckPublisher, HealthLogPublisher>();
        return builder;
    }
}
