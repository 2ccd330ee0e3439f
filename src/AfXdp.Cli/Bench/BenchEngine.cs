using System.Diagnostics;
using System.Net;
using System.Runtime.CompilerServices;
using AfXdp.Bpf;
using AfXdp.Device;
using AfXdp.Net;
using AfXdp.Xsk;

namespace AfXdp.Cli.Bench;

/// <summary>Counters the hot loop writes and the reporter thread reads once a second.</summary>
internal sealed class BenchCounters
{
    public long RxPackets;
    public long TxPackets;
    public long Kicks;
    /// <summary>Stopwatch timestamp of the first packet (rx modes) or of the start (txonly); 0 before.</summary>
    public long StartTimestamp;
}

/// <summary>
/// The xdpsock-style benchmark over the library's rings. Setup allocates; the loops do not: one
/// UMEM of 2 x ring frames (lower half for the FILL ring, upper half for prebuilt TX frames), one
/// socket, and the default redirect program when the mode receives.
/// Every ring operation is one of the library's batch verbs (Receive, Recycle, Transmit, Send, Kick,
/// Completion.Recycle/Drain), so the wakeup and full-ring policies are the library's: a TX syscall only
/// when the kernel asked for it and descriptors are pending, a FILL wakeup only when its flag is set.
/// </summary>
internal sealed class BenchEngine : IDisposable
{
    readonly BenchOptions _options;
    readonly Umem _umem;
    readonly XskSocket _socket;
    readonly XskRedirectProgram? _program;
    readonly CompletionRing _completion;
    readonly RxRing? _rx;
    readonly TxRing? _tx;
    readonly XdpDescriptor[] _txFrames = [];
    readonly uint _batch;
    readonly uint _ring;
    readonly int _pollMs;
    readonly XskLiveness _liveness;
    readonly TxPacer? _pacer;
    uint _outstanding;
    uint _txCursor;
    volatile bool _stop;

    public BenchEngine(BenchOptions options)
    {
        _options = options;
        _batch = options.Batch;
        _ring = options.Ring;
        _pollMs = options.Poll ? 100 : 0;
        _pacer = options.Rate is { } rate ? new TxPacer(rate, options.Batch) : null;
        _umem = new Umem(new UmemOptions
        {
            FrameCount = 2 * options.Ring,
            FrameSize = options.FrameSize,
            FillRingSize = options.Ring,
            CompletionRingSize = options.Ring,
            UnalignedChunks = options.Unaligned,
        });
        PhaseReport.Write("umem");
        try
        {
            var config = new XskSocketOptions
            {
                RxRingSize = options.Ring,
                TxRingSize = options.Ring,
                BindMode = options.Bind,
                NeedWakeup = options.NeedWakeup,
                TxBudget = options.WantsTx ? options.TxBudget ?? (XskSocket.KernelHasTxBudget() ? options.Ring : 0) : 0,
                SendBufferSize = options.SendBuffer ?? 0,
            };
            (_socket, _rx, _tx) = (options.WantsRx, options.WantsTx) switch
            {
                (true, true) => new RxTxSocket(_umem, options.Interface, options.Queue, config) is var s ? (s, s.Rx, s.Tx) : default,
                (true, false) => new RxSocket(_umem, options.Interface, options.Queue, config) is var s ? (s, s.Rx, null) : default,
                _ => new TxSocket(_umem, options.Interface, options.Queue, config) is var s ? ((XskSocket)s, (RxRing?)null, s.Tx) : default,
            };
            PhaseReport.Write("socket");
            if (options.BusyPoll)
                _socket.EnableBusyPoll(20, (int)options.Batch);
            _completion = _socket.Completion;
            if (options.WantsRx)
            {
                if (options.XskMap is { } source)
                {
                    using XskMap map = source.Open(options.Interface);
                    map.Register(_socket);
                    XskMapId = map.Id;
                }
                else
                {
                    _program = XskRedirectProgram.Attach(NetDevice.Get(_socket.InterfaceIndex), options.Attach, filter: options.Filter);
                    if (PhaseReport.Enabled)
                        PhaseReport.Write($"program {_program.Program.Id} maps {string.Join(',', _program.Program.GetInfo().MapIds)} link {_program.Link.LinkId}");
                    _program.Register(_socket);
                }
                // The lower half of the UMEM receives; txonly's prebuilt frames live in the upper half.
                _socket.Fill.Populate(0, Math.Min(_ring, _socket.Fill.Size));
                PhaseReport.Write("attached");
            }
            if (options.Mode == BenchMode.TxOnly)
                _txFrames = PrebuildTxFrames();
            _liveness = new XskLiveness(_socket, _program?.Link);
            // Once before the measured loop: the first check's one-time costs (the runtime binding its calls) are setup's.
            _liveness.CheckNow();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public BenchCounters Counters { get; } = new();

    public XskSocket Socket => _socket;

    public XskRedirectProgram? Program => _program;

    /// <summary>The id of the device plugin's XSKMAP the socket was registered in (--xskmap); null when we attached our own program.</summary>
    public uint? XskMapId { get; }

    /// <summary>
    /// Bytes allocated by the measured loop's thread while it ran, after <see cref="AllocationWarmup"/> (the
    /// whole run when it ends sooner).
    /// </summary>
    public long AllocatedBytes { get; private set; }

    /// <summary>
    /// How long after the clock starts (the first packet; for txonly, the loop's start) the spinning and polling
    /// modes begin to count <see cref="AllocatedBytes"/>. The start has a one-time cost that is not the loop's: in
    /// about 1 % of txonly runs under load (JIT build) the count grew by 6192 bytes in the first TxRing.Send call,
    /// within 5 ms, with no GC and before Send's first line: most likely the runtime's work for a first call
    /// (docs/reliability/alloc-probe-20261130.txt). Every path of the loop is taken within a few ms.
    /// </summary>
    public static readonly TimeSpan AllocationWarmup = TimeSpan.FromMilliseconds(100);

    /// <summary>Asks the loop to end (Ctrl-C, SIGTERM).</summary>
    public void Stop() => _stop = true;

    public void Dispose()
    {
        _program?.Dispose();
        _socket?.Dispose();
        _umem.Dispose();
    }

    /// <summary>Runs the mode until the duration has passed since the first packet, or Stop.</summary>
    public void Run()
    {
        PhaseReport.Write("receiving");
        if (_options.Async)
        {
            RxDropAwaitingAsync().GetAwaiter().GetResult();
            return;
        }
        long ticksPerSecond = Stopwatch.Frequency;
        long duration = (long)(_options.Duration * ticksPerSecond);
        long firstPacketTimeout = (long)(_options.FirstPacketTimeout * ticksPerSecond);
        long setupDone = Stopwatch.GetTimestamp();
        BenchCounters counters = Counters;
        if (_options.Mode == BenchMode.TxOnly)
            Volatile.Write(ref counters.StartTimestamp, setupDone);

        long warmup = (long)(AllocationWarmup.TotalSeconds * ticksPerSecond);
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        bool warm = false;
        uint iteration = 0;
        // With -p an idle iteration waits up to 100 ms in poll: the clock is read every time, or 32 of them would pass unchecked.
        uint clockMask = _options.Poll ? 0u : 31u;
        while (!_stop)
        {
            switch (_options.Mode)
            {
                case BenchMode.RxDrop: RxDrop(); break;
                case BenchMode.TxOnly: TxOnly(); break;
                default: L2Fwd(); break;
            }
            // The clock is read every 32 iterations: a vDSO call, but still not per batch.
            if ((++iteration & clockMask) != 0)
                continue;
            long now = Stopwatch.GetTimestamp();
            _liveness.Check(now);
            long start = counters.StartTimestamp;
            if (start == 0)
            {
                if (counters.RxPackets != 0 || counters.TxPackets != 0)
                    Volatile.Write(ref counters.StartTimestamp, now);
                else if (now - setupDone > firstPacketTimeout)
                    throw NoPacketArrived();
                continue;
            }
            if (now - start >= duration)
                break;
            if (!warm && now - start >= warmup)
                (warm, allocatedBefore) = (true, GC.GetAllocatedBytesForCurrentThread());
        }
        AllocatedBytes = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
    }

    /// <summary>
    /// rxdrop with awaited batches (--async): XskAsyncReceiver polls the ring briefly, then waits on
    /// epoll, and this loop continues on pool threads. AllocatedBytes adds up what the loop allocated on
    /// each thread it ran on from the first packet on, from resuming to giving the thread back (not the
    /// epoll thread, the pool's dispatch or the progress thread).
    /// </summary>
    async Task RxDropAwaitingAsync()
    {
        BenchCounters counters = Counters;
        using var receiver = new XskAsyncReceiver(_rx!, new XskAsyncReceiverOptions { MaxBatch = _batch });
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(_options.FirstPacketTimeout));
        XskGoneException? gone = null;
        // Stop() only sets a flag, and a gone interface only looks idle: look a few times a second.
        using var watch = new Timer(_ =>
        {
            try
            {
                _liveness.Check();
            }
            catch (XskGoneException e)
            {
                gone = e;
                cancel.Cancel();
            }
            if (_stop)
                cancel.Cancel();
        }, null, 100, 100);
        long allocated = 0, mark = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            while (true)
            {
                ValueTask<RxBatch> receive = receiver.ReceiveAsync(cancel.Token);
                bool suspends = !receive.IsCompleted;
                if (suspends)
                    allocated += GC.GetAllocatedBytesForCurrentThread() - mark;
                RxBatch batch = await receive;
                if (suspends)
                    mark = GC.GetAllocatedBytesForCurrentThread(); // maybe another thread now
                if (counters.StartTimestamp == 0)
                {
                    Volatile.Write(ref counters.StartTimestamp, Stopwatch.GetTimestamp());
                    cancel.CancelAfter(TimeSpan.FromSeconds(_options.Duration));
                    // The measured window starts here, as the duration does: the first wait's set-up is not the loop's cost.
                    (allocated, mark) = (0, GC.GetAllocatedBytesForCurrentThread());
                }
                batch.Recycle();
                counters.RxPackets += batch.Count;
                counters.Kicks = _socket.Counters.Wakeups;
            }
        }
        catch (OperationCanceledException) when (gone is not null)
        {
            throw gone;
        }
        catch (OperationCanceledException) when (counters.StartTimestamp == 0 && !_stop)
        {
            throw NoPacketArrived();
        }
        catch (OperationCanceledException)
        {
        }
        AllocatedBytes = allocated;
    }

    AfXdpException NoPacketArrived() =>
        new($"bench {_options.ModeName}{(_options.Async ? " --async" : "")} on {_options.Interface} queue {_options.Queue}", 0,
            $"no packet arrived in {_options.FirstPacketTimeout:0.#} s (the wait for the first packet: --wait, by default as long as -d), so nothing was measured; the {_options.Duration:0.#} s of -d count from the first packet.",
            $"send traffic to {_options.Interface} and check that it reaches queue {_options.Queue} (`ethtool -S {_options.Interface}`, or --filter/-q to match where it lands); " +
            $"`afxdp doctor -i {_options.Interface}` checks the setup; --wait SECONDS waits longer for a generator that starts later.");

    /// <summary>Writes the test frame into every frame of the UMEM's upper half; returns their descriptors, sent round-robin.</summary>
    XdpDescriptor[] PrebuildTxFrames()
    {
        MacAddress source = _options.SourceMac ?? new MacAddress(NetDevice.Get(_socket.InterfaceIndex).HardwareAddress);
        var builder = new UdpFrameBuilder(source, _options.DestinationMac,
            new IPEndPoint(_options.SourceIp, _options.SourcePort), new IPEndPoint(_options.DestinationIp, _options.DestinationPort));
        var frames = new XdpDescriptor[_ring];
        for (uint i = 0; i < _ring; i++)
        {
            ulong address = _umem.FrameAddress(_ring + i);
            builder.WriteOfLength(_umem.GetFrame(address, (int)_umem.FrameSize), _options.PacketSize);
            frames[i] = new XdpDescriptor { Address = address, Length = (uint)_options.PacketSize };
        }
        return frames;
    }

    void RxDrop()
    {
        RxBatch batch = _rx!.Receive(_batch, _pollMs);
        batch.Recycle();
        Counters.RxPackets += batch.Count;
        Counters.Kicks = _socket.Counters.Wakeups;
    }

    void TxOnly()
    {
        TxRing tx = _tx!;
        // A batch never runs past the end of the prebuilt frames (a batch size that does not divide the ring, a paced batch).
        uint batch = Math.Min(_batch, _ring - _txCursor);
        if (_pacer is not null)
            batch = _pacer.Take(batch);
        // Completions are reaped only when frames are needed, in bulk: every read of the COMPLETION
        // ring's producer index pulls a cache line the device's core writes for every frame (or while a paced sender waits).
        if (_outstanding + batch > _ring || batch == 0)
        {
            uint done = _completion.Drain();
            _outstanding -= done;
            Counters.TxPackets += done;
        }
        if (batch != 0 && _outstanding + batch <= _ring)
        {
            // TX frames are prebuilt in the upper half of the UMEM and never modified; the ring has room for them (outstanding <= ring).
            uint sent = (uint)tx.Send(_txFrames.AsSpan((int)_txCursor, (int)batch));
            _txCursor = (_txCursor + sent) & (_ring - 1);
            _outstanding += sent;
        }
        else if (_options.Poll)
        {
            _socket.Counters.Wakeups++;
            _socket.PollTx(100);
        }
        else
        {
            tx.Kick();
        }
        if (_rx is not null)
            _rx.Receive(_batch).Recycle();
        Counters.Kicks = _socket.Counters.Wakeups;
    }

    void L2Fwd()
    {
        if (_outstanding != 0)
        {
            uint done = _completion.Recycle();
            _outstanding -= done;
            Counters.TxPackets += done;
        }
        RxBatch batch = _rx!.Receive(_batch, _pollMs);
        if (batch.IsEmpty)
        {
            _tx!.Kick();
            Counters.Kicks = _socket.Counters.Wakeups;
            return;
        }
        foreach (RxFrame frame in batch)
        {
            if (EthernetFrame.TryCreate(frame.Data, out EthernetFrame ethernet))
                ethernet.SwapMacs();
        }
        _outstanding += batch.Transmit(_tx!);
        Counters.RxPackets += batch.Count;
        Counters.Kicks = _socket.Counters.Wakeups;
    }
}
