using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DnsResponder;

/// <summary>
/// The run as a whole, in both modes: stops the host after <see cref="DnsSettings.DurationSeconds"/>, and logs the summary
/// line of every serving thread's counters when the host stops. Registered before the server, so that it stops after
/// it (the host stops its services in reverse order): the counters are final by then.
/// </summary>
public sealed partial class DnsRun(IOptions<DnsSettings> settings, IHostApplicationLifetime lifetime, ILogger<DnsRun> logger) : IHostedService, IDisposable
{
    /// <summary>The event id of the summary line (tests and the benchmark script read it).</summary>
    public const int AnsweredEvent = 2401;

    readonly List<DnsCounters> _counters = [];
    readonly Stopwatch _clock = new();
    Timer? _end;

    /// <summary>Counters for one serving thread (a queue's handler, or a socket's thread); the clock starts with the first.</summary>
    public DnsCounters NewCounters()
    {
        var counters = new DnsCounters();
        lock (_counters)
        {
            if (_counters.Count == 0)
                _clock.Start();
            _counters.Add(counters);
        }
        return counters;
    }

    /// <inheritdoc/>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (settings.Value.DurationSeconds > 0)
            _end = new Timer(_ => lifetime.StopApplication(), null, TimeSpan.FromSeconds(settings.Value.DurationSeconds), Timeout.InfiniteTimeSpan);
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task StopAsync(CancellationToken cancellationToken)
    {
        _end?.Dispose();
        lock (_counters)
        {
            // Nothing served (the server refused to start): no summary.
            if (_counters.Count != 0)
                Answered(logger, DnsCounters.Sum(_counters).Summary(settings.Value.Kernel ? "kernel" : "xdp", _clock));
        }
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public void Dispose() => _end?.Dispose();

    [LoggerMessage(AnsweredEvent, LogLevel.Information, "{Summary}")]
    static partial void Answered(ILogger logger, string summary);
}
