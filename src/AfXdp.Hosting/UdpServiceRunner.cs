using AfXdp.Bpf;
using AfXdp.Engine;
using AfXdp.Udp;
using AfXdp.Xsk;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AfXdp.Hosting;

/// <summary>Where a hosted <see cref="UdpService"/> is in its life.</summary>
public enum UdpServiceState
{
    /// <summary>Binding the sockets and attaching the program, on the runner's thread.</summary>
    Starting,
    /// <summary>The workers serve.</summary>
    Serving,
    /// <summary>Stopped on shutdown.</summary>
    Stopped,
    /// <summary>The settings or the kernel refused the service, or a worker ended: see <see cref="UdpServiceRunner.Fault"/>.</summary>
    Failed,
}

/// <summary>
/// Runs a <see cref="UdpService"/> with the host (registered by <c>AddUdpService</c>): the service is built and
/// served on a thread of its own, so sockets and program are set up without holding up the host's start; shutdown
/// (SIGTERM, Ctrl-C) stops the workers within <see cref="UdpServiceSettings.StopTimeout"/>. A refused start or a
/// worker's end is logged, sets <see cref="Environment.ExitCode"/> (2 and 1) and stops the host.
/// </summary>
public sealed class UdpServiceRunner : IHostedService, IDisposable
{
    // How often the drop counters are looked at, to tell each reason once: far from the data path, a getsockopt per queue.
    static readonly TimeSpan DropCheckPeriod = TimeSpan.FromSeconds(1);

    readonly Func<UdpServiceSettings> _settings;
    readonly Func<UdpSender, IUdpHandler> _handlers;
    readonly ILogger _logger;
    readonly IHostApplicationLifetime _lifetime;
    readonly CancellationTokenSource _stop = new();
    readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    TimeSpan _stopTimeout = new UdpServiceSettings().StopTimeout;
    Thread? _thread;
    volatile UdpService? _service;
    volatile Exception? _fault;
    volatile UdpServiceState _state;

    internal UdpServiceRunner(string section, Func<UdpServiceSettings> settings, Func<UdpSender, IUdpHandler> handlers, ILogger<UdpServiceRunner> logger, IHostApplicationLifetime lifetime)
    {
        Section = section;
        _settings = settings;
        _handlers = handlers;
        _logger = logger;
        _lifetime = lifetime;
    }

    /// <summary>The configuration section (or the name) the settings come from, e.g. "AfXdp".</summary>
    public string Section { get; }

    /// <summary>Where the service is in its life.</summary>
    public UdpServiceState State => _state;

    /// <summary>The service while it is <see cref="UdpServiceState.Serving"/>, else null.</summary>
    public UdpService? Service => _service;

    /// <summary>Why the state is <see cref="UdpServiceState.Failed"/>.</summary>
    public Exception? Fault => _fault;

    /// <summary>Starts the runner's thread and returns at once: the service binds its sockets there.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        // A thread of its own: the constructor makes syscalls that block, and the workers' threads inherit its network namespace.
        _thread = new Thread(Serve) { Name = $"afxdp-udp {Section}", IsBackground = true };
        _thread.Start();
        return Task.CompletedTask;
    }

    /// <summary>Stops the workers and waits for them, the program's detach and the sockets' close, at most <see cref="UdpServiceSettings.StopTimeout"/>.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _stop.Cancel();
        if (_thread is null)
            return;
        try
        {
            await _ended.Task.WaitAsync(_stopTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            UdpServiceLog.StopTimedOut(_logger, Section, _stopTimeout);
        }
    }

    /// <summary>Stops the workers if they still run.</summary>
    public void Dispose() => _stop.Cancel();

    void Serve()
    {
        UdpService? service = null;
        XskMap? map = null;
        DevicePlugin.XskMapSource? source = null;
        try
        {
            UdpServiceSettings settings = _settings();
            _stopTimeout = settings.StopTimeout;
            (UdpServiceOptions options, source) = settings.ToOptions(Section);
            map = source?.Open(options.Interface);
            service = new UdpService(options with { XskMap = map, Log = report => UdpServiceLog.Report(_logger, report) });
        }
        catch (Exception e)
        {
            map?.Dispose();
            StartFailed(e);
            return;
        }
        _service = service;
        _state = UdpServiceState.Serving;
        LogStarted(service, map is null ? null : $"{map.Id} from {source!.PathFor(service.Options.Interface)} (the device plugin's)");
        var drops = new DropWatch(service, _logger);
        var watch = new Timer(_ => drops.Check(), null, DropCheckPeriod, DropCheckPeriod);
        try
        {
            service.Run(_handlers, _stop.Token);
            _state = UdpServiceState.Stopped;
            UdpServiceLog.Stopped(_logger, service.Options.Interface, service.ReadCounters().ToString(), service.ReadPassedToKernel());
        }
        catch (Exception e)
        {
            _fault = e;
            _state = UdpServiceState.Failed;
            UdpServiceLog.WorkerFaulted(_logger, service.ToString(), e.Message, e);
            Environment.ExitCode = 1;
            _lifetime.StopApplication();
        }
        finally
        {
            // The last drop check must not read a closed socket.
            using (var done = new ManualResetEvent(false))
            {
                if (watch.Dispose(done))
                    done.WaitOne();
            }
            _service = null;
            service.Dispose();
            map?.Dispose();
            _ended.TrySetResult();
        }
    }

    void StartFailed(Exception e)
    {
        _fault = e;
        _state = UdpServiceState.Failed;
        switch (e)
        {
            case OptionsValidationException invalid:
                foreach (string failure in invalid.Failures)
                    UdpServiceLog.StartFailed(_logger, failure, null);
                break;
            // The configuration binder's "Failed to convert configuration value 'x' at 'AfXdp:BatchSize' to type ...", and the library's refusals, say it all in a line.
            case AfXdpException or InvalidOperationException:
                UdpServiceLog.StartFailed(_logger, e.Message, null);
                break;
            default:
                UdpServiceLog.StartFailed(_logger, $"the UDP service of {Section} failed to start: {e.Message}", e);
                break;
        }
        Environment.ExitCode = 2;
        _ended.TrySetResult();
        _lifetime.StopApplication();
    }

    void LogStarted(UdpService service, string? pluginMap)
    {
        XskRedirectProgram? program = service.Program;
        UdpServiceLog.Started(_logger,
            string.Join(", ", service.Endpoints),
            service.Options.Interface,
            service.Engine.Queues.Count,
            string.Join(",", service.Engine.Queues.Select(q => q.QueueId)),
            program is null ? "none loaded (the XSKMAP's owner decides what arrives)" : $"{program.Program.Name} id {program.Program.Id}",
            program is null ? "-" : program.Link.Mode.ToString().ToLowerInvariant(),
            pluginMap ?? $"{program!.XskMap.Id} (the service's own)");
    }

    /// <summary>The kernel's XDP_STATISTICS of all the service's sockets, summed.</summary>
    internal static XdpStatistics ReadStatistics(UdpService service)
    {
        ulong dropped = 0, invalidRx = 0, invalidTx = 0, full = 0, fillEmpty = 0, txEmpty = 0;
        foreach (XdpQueue queue in service.Engine.Queues)
        {
            XdpStatistics s = queue.Socket.Statistics;
            (dropped, invalidRx, invalidTx) = (dropped + s.RxDropped, invalidRx + s.RxInvalidDescriptors, invalidTx + s.TxInvalidDescriptors);
            (full, fillEmpty, txEmpty) = (full + s.RxRingFull, fillEmpty + s.RxFillRingEmptyDescriptors, txEmpty + s.TxRingEmptyDescriptors);
        }
        return new XdpStatistics(dropped, invalidRx, invalidTx, full, fillEmpty, txEmpty);
    }

    /// <summary>Tells each drop reason an operator can act on the first time its counter moves, with the fix.</summary>
    sealed class DropWatch(UdpService service, ILogger logger)
    {
        bool _rxDropped, _ringFull, _fillEmpty, _txFull;

        public void Check()
        {
            string name = service.ToString(), iface = service.Options.Interface;
            XdpStatistics kernel;
            try
            {
                kernel = ReadStatistics(service);
            }
            catch (AfXdpException)
            {
                // The socket is going (interface deleted): the worker's fault is what gets told.
                return;
            }
            if (Once(ref _rxDropped, kernel.RxDropped > 0))
                UdpServiceLog.KernelRxDrops(logger, name, iface);
            if (Once(ref _ringFull, kernel.RxRingFull > 0))
                UdpServiceLog.RxRingFull(logger, name, iface);
            if (Once(ref _fillEmpty, kernel.RxFillRingEmptyDescriptors > 0))
                UdpServiceLog.FillRingEmpty(logger, name, iface);
            if (Once(ref _txFull, service.Engine.Queues.Any(q => q.Counters.TxDropped > 0)))
                UdpServiceLog.TxRingFull(logger, name, iface);
        }

        static bool Once(ref bool told, bool happened)
        {
            if (told || !happened)
                return false;
            told = true;
            return true;
        }
    }
}
