using AfXdp.Bpf;
using AfXdp.Device;
using AfXdp.Metrics;
using AfXdp.Xsk;

namespace AfXdp.Engine;

/// <summary>
/// AF_XDP at the scale of a NIC: one socket per queue of an interface (on one shared UMEM or one
/// UMEM per queue), one redirect program for all of them, and one worker thread per queue
/// (optionally pinned to a core) that hands batches of received packets to an
/// <see cref="IPacketHandler"/> and carries out its verdicts: drop, send back, forward to another
/// queue's TX ring, or hold. The data path allocates nothing and makes syscalls only when the
/// kernel asks for them (need_wakeup) or the worker goes to sleep.
/// </summary>
/// <example>
/// <code>
/// using var engine = new XdpEngine(new XdpEngineOptions { Interface = "eth0", Cores = [0, 1] });
/// engine.Start(queue => new Echo());   // one handler per queue, on the queue's own thread
/// ...
/// sealed class Echo : IPacketHandler
/// {
///     public void Handle(XdpQueue queue, Span&lt;Packet&gt; packets)
///     {
///         foreach (ref Packet p in packets)
///         {
///             EthernetFrame.TryCreate(p.Data, out var frame);
///             frame.SwapMacs();
///             p.Transmit();
///         }
///     }
/// }
/// </code>
/// </example>
public sealed class XdpEngine : IDisposable
{
    readonly List<Umem> _umems = [];
    readonly List<RxTxSocket> _sockets = [];
    readonly List<IDisposable> _metrics = [];
    readonly List<Thread> _workers = [];
    readonly ulong _bytesPerQueue;
    readonly CancellationTokenSource _workerFailed = new();
    volatile bool _stopping;
    int _disposed;

    /// <summary>
    /// Creates the UMEM(s), binds one socket per queue and attaches the redirect program. Call it on
    /// a thread in the interface's network namespace; the workers may be started from any thread.
    /// </summary>
    public XdpEngine(XdpEngineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        NetDevice device = NetDevice.Get(options.Interface);
        // Every active queue by default: a device may allocate more than it uses (a default veth: 2 and 1).
        IReadOnlyList<uint> queueIds = options.Queues ?? Enumerable.Range(0, (int)device.QueryActiveQueues()).Select(q => (uint)q).ToList();
        foreach (uint queue in queueIds)
            device.CheckQueueInUse(queue, $"XdpEngineOptions.Queues: {queue}");
        if (options.Cores is not null && options.Queues is null && options.Cores.Count != queueIds.Count)
            Throw.Config($"XdpEngineOptions.Cores = [{string.Join(", ", options.Cores)}]", $"{device.Name} has {queueIds.Count} queues and {options.Cores.Count} cores were given.", "give one core per queue, or list the Queues.");
        _bytesPerQueue = (ulong)options.FramesPerQueue * options.FrameSize;
        var socketConfig = new XskSocketOptions
        {
            RxRingSize = options.RingSize,
            TxRingSize = options.RingSize,
            FillRingSize = options.RingSize,
            CompletionRingSize = options.RingSize,
            BindMode = options.BindMode,
            NeedWakeup = options.NeedWakeup,
        };
        var queues = new List<XdpQueue>();
        try
        {
            Umem? shared = options.Umem == UmemLayout.Shared ? NewUmem((uint)queueIds.Count) : null;
            for (int i = 0; i < queueIds.Count; i++)
            {
                Umem umem = shared ?? NewUmem(1);
                var socket = new RxTxSocket(umem, device.Index, queueIds[i], socketConfig);
                _sockets.Add(socket);
                if (options.BusyPoll is { } busyPoll)
                    socket.EnableBusyPoll(busyPoll.TimeoutMicroseconds, busyPoll.Budget);
                ulong first = shared is null ? 0 : (ulong)i * _bytesPerQueue;
                var queue = new XdpQueue(this, i, socket, first, options, options.Cores?[i]);
                queues.Add(queue);
                _metrics.Add(AfXdpMetrics.Track(socket));
            }
            Queues = queues;
            if (options.AttachProgram)
            {
                Program = XskRedirectProgram.Attach(device, options.AttachMode);
                foreach (XskSocket socket in _sockets)
                    Program.Register(socket);
            }
        }
        catch
        {
            Queues = queues;
            Dispose();
            throw;
        }
    }

    /// <summary>What the engine was created with.</summary>
    public XdpEngineOptions Options { get; }

    /// <summary>The queues, in the order of <see cref="XdpEngineOptions.Queues"/>.</summary>
    public IReadOnlyList<XdpQueue> Queues { get; }

    /// <summary>The redirect program (null when <see cref="XdpEngineOptions.AttachProgram"/> is false: register the sockets yourself).</summary>
    public XskRedirectProgram? Program { get; }

    /// <summary>True between Start and Stop (or Dispose).</summary>
    public bool IsRunning => _workers.Count != 0 && !_stopping;

    /// <summary>Signalled when a worker ends with an exception (e.g. <see cref="XskGoneException"/>); <see cref="Stop"/> then throws it.</summary>
    public CancellationToken WorkerFailed => _workerFailed.Token;

    internal bool Stopping => _stopping;

    /// <summary>Starts one worker per queue with a handler of its own (the factory runs on the calling thread).</summary>
    public void Start(Func<XdpQueue, IPacketHandler> handlerFactory)
    {
        ArgumentNullException.ThrowIfNull(handlerFactory);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (_workers.Count != 0)
            throw new InvalidOperationException("the engine is already started; an engine runs once.");
        List<IPacketHandler> handlers = Queues.Select(handlerFactory).ToList();
        for (int i = 0; i < Queues.Count; i++)
            _workers.Add(Queues[i].StartWorker(handlers[i]));
    }

    /// <summary>Starts one worker per queue, all with the same handler (which must then be safe to call from every queue's thread at once).</summary>
    public void Start(IPacketHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        Start(_ => handler);
    }

    /// <summary>Stops and joins the workers; throws the first worker's exception, if one failed (a library error as it is).</summary>
    public void Stop()
    {
        _stopping = true;
        foreach (XdpQueue queue in Queues)
            queue.Wake();
        foreach (Thread worker in _workers)
            worker.Join();
        if (Queues.Select(q => q.Fault).FirstOrDefault(f => f is not null) is { } fault)
        {
            if (fault is AfXdpException)
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(fault);
            throw new AfXdpException($"{this}", 0, $"a worker failed: {fault.Message}", "see the inner exception.", fault);
        }
    }

    /// <summary>A worker ended with <see cref="XdpQueue.Fault"/>.</summary>
    internal void OnWorkerFailed() => _workerFailed.Cancel();

    /// <summary>Stops the workers, detaches the program, closes the sockets and unmaps the UMEM(s). Idempotent.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _stopping = true;
        foreach (XdpQueue queue in Queues ?? [])
            queue.Wake();
        foreach (Thread worker in _workers)
            worker.Join();
        _metrics.ForEach(m => m.Dispose());
        Program?.Dispose();
        _sockets.ForEach(s => s.Dispose());
        _umems.ForEach(u => u.Dispose());
        foreach (XdpQueue queue in Queues ?? [])
            queue.DisposeWakeup();
        _workerFailed.Dispose();
    }

    /// <summary>The interface and queue ids, for messages.</summary>
    public override string ToString() => $"XdpEngine({Options.Interface}, queues {string.Join(",", (Queues ?? []).Select(q => q.QueueId))})";

    /// <summary>The queue a frame of the shared UMEM belongs to.</summary>
    internal XdpQueue HomeOf(ulong chunk) => Queues[(int)(chunk / _bytesPerQueue)];

    Umem NewUmem(uint queues)
    {
        var umem = new Umem(new UmemOptions
        {
            FrameCount = queues * Options.FramesPerQueue,
            FrameSize = Options.FrameSize,
            FillRingSize = Options.RingSize,
            CompletionRingSize = Options.RingSize,
        });
        _umems.Add(umem);
        return umem;
    }
}
