using System.Runtime.CompilerServices;
using AfXdp.Device;
using AfXdp.Engine;
using AfXdp.Udp;
using AfXdp.Xsk;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace AfXdp.Hosting;

/// <summary>
/// The health of the host's UDP services: Unhealthy when one failed (settings, kernel, a worker's end), or its interface,
/// a queue or its steering program is gone; Degraded while one is still starting, or when the kernel's drop counters
/// (XDP_STATISTICS rx_dropped, rx_ring_full, rx_fill_ring_empty_descs) climbed since the last check; else Healthy.
/// Run it in the interface's network namespace (the process's, as a service runs).
/// </summary>
public sealed class UdpServiceHealthCheck(IEnumerable<IHostedService> hostedServices) : IHealthCheck
{
    // The kernel's drop counters at the previous check, by service: a climb between two checks is what degrades.
    readonly ConditionalWeakTable<UdpService, StrongBox<XdpStatistics>> _previous = [];

    /// <inheritdoc/>
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        UdpServiceRunner[] runners = [.. hostedServices.OfType<UdpServiceRunner>()];
        if (runners.Length == 0)
            return Task.FromResult(HealthCheckResult.Unhealthy("no UDP service is registered (AddUdpService)."));
        var results = runners.Select(Check).ToList();
        HealthStatus worst = results.Min(r => r.Status);
        string description = string.Join(" ", results.Select(r => r.Description));
        var data = results.SelectMany(r => r.Data ?? new Dictionary<string, object>()).ToDictionary(p => p.Key, p => p.Value);
        return Task.FromResult(new HealthCheckResult(worst, description, results.Select(r => r.Exception).FirstOrDefault(e => e is not null), data));
    }

    HealthCheckResult Check(UdpServiceRunner runner)
    {
        UdpService? service = runner.Service;
        switch (runner.State)
        {
            case UdpServiceState.Failed:
                return HealthCheckResult.Unhealthy($"{runner.Section}: failed: {runner.Fault?.Message}", runner.Fault);
            case UdpServiceState.Stopped:
                return HealthCheckResult.Unhealthy($"{runner.Section}: stopped.");
            case UdpServiceState.Starting:
            case UdpServiceState.Serving when service is null:
                return HealthCheckResult.Degraded($"{runner.Section}: starting (binding sockets).");
        }
        if (Gone(service!) is { } gone)
            return HealthCheckResult.Unhealthy($"{service}: {gone}");
        XdpStatistics now;
        try
        {
            now = UdpServiceRunner.ReadStatistics(service!);
        }
        catch (AfXdpException e)
        {
            return HealthCheckResult.Unhealthy($"{service}: its sockets cannot be read: {e.Message}", e);
        }
        var data = new Dictionary<string, object>
        {
            [$"{runner.Section}.rx_dropped"] = now.RxDropped,
            [$"{runner.Section}.rx_ring_full"] = now.RxRingFull,
            [$"{runner.Section}.rx_fill_ring_empty_descs"] = now.RxFillRingEmptyDescriptors,
        };
        StrongBox<XdpStatistics> previous = _previous.GetValue(service!, _ => new StrongBox<XdpStatistics>());
        XdpStatistics before;
        lock (previous)
            (before, previous.Value) = (previous.Value, now);
        var climbing = new List<string>();
        if (now.RxDropped > before.RxDropped)
            climbing.Add($"rx_dropped +{now.RxDropped - before.RxDropped}");
        if (now.RxRingFull > before.RxRingFull)
            climbing.Add($"rx_ring_full +{now.RxRingFull - before.RxRingFull}");
        if (now.RxFillRingEmptyDescriptors > before.RxFillRingEmptyDescriptors)
            climbing.Add($"rx_fill_ring_empty_descs +{now.RxFillRingEmptyDescriptors - before.RxFillRingEmptyDescriptors}");
        return climbing.Count == 0
            ? HealthCheckResult.Healthy($"{service}: serving on {service!.Engine.Queues.Count} queue(s).", data)
            : HealthCheckResult.Degraded($"{service}: the kernel drops frames for it since the last check ({string.Join(", ", climbing)}): the workers do not keep up (see the log's fix).", data: data);
    }

    /// <summary>What of the service's interface, queues, program and workers is gone, or null.</summary>
    static string? Gone(UdpService service)
    {
        if (service.Engine.Queues.FirstOrDefault(q => q.Fault is not null) is { } faulted)
            return $"the worker of queue {faulted.QueueId} ended: {faulted.Fault!.Message}";
        string name = service.Options.Interface;
        NetDevice device;
        try
        {
            device = NetDevice.Get(name);
        }
        catch (AfXdpException)
        {
            return $"the interface {name} is gone.";
        }
        if (device.Index != service.Engine.Queues[0].Socket.InterfaceIndex)
            return $"the interface {name} is gone (another of that name has index {device.Index}).";
        uint active = device.QueryActiveQueues();
        if (service.Engine.Queues.FirstOrDefault(q => q.QueueId >= active) is { } lost)
            return $"queue {lost.QueueId} is gone: {name} has {active} active queue(s) now.";
        if (service.Program is { } program && !program.Link.IsAttached())
            return $"its program {program.Program.Name} (id {program.Program.Id}) is no longer attached to {name}.";
        return null;
    }
}
