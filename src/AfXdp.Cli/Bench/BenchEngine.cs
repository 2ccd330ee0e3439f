using System.Diagnostics;
using System.Net;
using System.Runtime.CompilerServices;
using AfXdp.Bpf;
using AfXdp.Net;
using AfXdp.Xsk;

namespace AfXdp.Cli.Bench;

/// <summary>Counters the hot loop writes and the reporter thread reads once a second.</summary>
public sealed class BenchCounters
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
/// Wakeup policy: a TX syscall only when the kernel asked for it (need_wakeup) and the TX ring
/// holds descriptors the kernel has not taken yet; a FILL wakeup only when its flag is set.
/// </summary>
public sealed class BenchEngine : IDisposable
{
    readonly BenchOptions _options;
    readonly Umem _umem;
    readonly XskSocket _socket;
    readonly XskRedirectProgram? _program;
    readonly FillRing _fill;
    readonly CompletionRing _completion;
    readonly RxRing? _rx;
    readonly TxRing? _tx;
    readonly uint _batch;
    readonly uint _ring;
    readonly bool _alwaysKick;
    readonly bool _busyPoll;
    readonly XskLiveness _liveness;
    uint _outstanding;
    ulong _txCursor;
    volatile bool _stop;

    public BenchEngine(BenchOptions options)
    {
        _options = options;
        _batch = options.Batch;
        _ring = options.Ring;
        _alwaysKick = !options.NeedWakeup;
        _busyPoll = options.BusyPoll;
        _umem = new Umem(new UmemConfig
        {
            FrameCount = 2 * options.Ring,
            FrameSize = options.FrameSize,
            FillRingSize = options.Ring,
            CompletionRingSize = options.Ring,
            UnalignedChunks = options.Unaligned,
        });
        try
        {
            _socket = new XskSocket(_umem, options.Interface, options.Queue, new XskSocketConfig
            {
                RxRingSize = options.WantsRx ? options.Ring : 0,
                TxRingSize = options.WantsTx ? options.Ring : 0,
                BindMode = options.Bind,
                NeedWakeup = options.NeedWakeup,
                TxBudget = options.WantsTx ? options.TxBudget ?? (XskSocket.KernelHasTxBudget() ? options.Ring : 0) : 0,
                SendBufferSize = options.SendBuffer ?? 0,
            });
            if (options.BusyPoll)
                _socket.EnableBusyPoll(20, (int)options.Batch);
            _fill = _socket.Fill;
            _completion = _socket.Completion;
            _rx = _socket.Rx;
            _tx = _socket.Tx;
            if (options.WantsRx)
            {
                _program = XskRedirectProgram.Attach(NetDevice.Get(_socket.InterfaceIndex), options.Attach, filter: options.Filter);
                _program.Register(_socket);
                FillLowerHalf();
            }
            if (options.Mode == BenchMode.TxOnly)
                PrebuildTxFrames();
            _liveness = new XskLiveness(_socket, _program?.Link);
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

    /// <summary>Bytes allocated by the measured loop's thread while it ran.</summary>
    public long AllocatedBytes { get; private set; }

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

        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        uint iteration = 0;
        while (!_stop)
        {
            switch (_options.Mode)
            {
                case BenchMode.RxDrop: RxDrop(); break;
                case BenchMode.TxOnly: TxOnly(); break;
                default: L2Fwd(); break;
            }
            // The clock is read every 32 iterations: a vDSO call, but still not per batch.
            if ((++iteration & 31) != 0)
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
        }
        AllocatedBytes = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
    }

    /// <summary>
    /// rxdrop with awaited batches (--async): XskAsyncReceiver polls the ring briefly, then waits on
    /// epoll, and this loop continues on pool threads. AllocatedBytes adds up what the loop allocated on
    /// each thread it ran on, from resuming to giving the thread back (not the epoll thread, the pool's
    /// dispatch or the progress thread).
    /// </summary>
    async Task RxDropAwaitingAsync()
    {
        BenchCounters counters = Counters;
        using var receiver = new XskAsyncReceiver(_socket, new XskAsyncReceiverOptions { MaxBatch = _batch });
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
                }
                receiver.Recycle(batch);
                counters.RxPackets += batch.Count;
                counters.Kicks = receiver.Counters.Wakeups;
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
            $"no packet arrived within {_options.FirstPacketTimeout:0} s.",
            $"send traffic to the interface (`afxdp doctor` checks the setup), and check that it reaches queue {_options.Queue}.");

    void FillLowerHalf()
    {
        uint count = Math.Min(_ring, _fill.Size);
        if (_fill.Reserve(count, out uint index) != count)
            throw new InvalidOperationException("a new FILL ring has no room");
        for (uint i = 0; i < count; i++)
            _fill[index + i] = _umem.FrameAddress(i);
        _fill.Submit(count);
    }

    void PrebuildTxFrames()
    {
        MacAddress source = _options.SourceMac ?? new MacAddress(NetDevice.Get(_socket.InterfaceIndex).HardwareAddress);
        var builder = new UdpFrameBuilder(source, _options.DestinationMac,
            new IPEndPoint(_options.SourceIp, _options.SourcePort), new IPEndPoint(_options.DestinationIp, _options.DestinationPort));
        for (uint i = 0; i < _ring; i++)
            builder.WriteOfLength(_umem.GetFrame(_umem.FrameAddress(_ring + i), (int)_umem.FrameSize), _options.PacketSize);
    }

    void RxDrop()
    {
        if (!RecycleReceived())
            WaitForRx();
    }

    void TxOnly()
    {
        TxRing tx = _tx!;
        uint batch = _batch;
        // Completions are reaped only when frames are needed, in bulk: every read of the COMPLETION
        // ring's producer index pulls a cache line the device's core writes for every frame.
        if (_outstanding + batch > _ring)
            CompleteTx(recycle: false);
        if (_outstanding + batch <= _ring && tx.Reserve(batch, out uint txIndex) == batch)
        {
            ulong frameSize = _umem.FrameSize;
            uint mask = _ring - 1;
            uint length = (uint)_options.PacketSize;
            RingSlots<XdpDescriptor> slots = tx.Slots;
            for (uint i = 0; i < batch; i++)
            {
                ref XdpDescriptor descriptor = ref slots[txIndex + i];
                // TX frames are prebuilt in the upper half of the UMEM and never modified.
                descriptor.Address = (_ring + (uint)(_txCursor++ & mask)) * frameSize;
                descriptor.Length = length;
                descriptor.Options = 0;
            }
            tx.Submit(batch);
            _outstanding += batch;
        }
        else if (_options.Poll)
        {
            Counters.Kicks++;
            _socket.PollTx(100);
        }
        KickTx();
        if (_rx is not null)
            RecycleReceived();
    }

    void L2Fwd()
    {
        CompleteTx(recycle: true);
        RxRing rx = _rx!;
        uint received = rx.Peek(_batch, out uint rxIndex);
        if (received == 0)
        {
            KickTx();
            WaitForRx();
            return;
        }
        TxRing tx = _tx!;
        uint txIndex;
        while (tx.Reserve(received, out txIndex) != received)
        {
            if (_stop)
            {
                rx.Cancel(received);
                return;
            }
            KickTx();
            CompleteTx(recycle: true);
        }
        RingEntries<XdpDescriptor> rxEntries = rx.Entries;
        RingSlots<XdpDescriptor> txSlots = tx.Slots;
        for (uint i = 0; i < received; i++)
        {
            XdpDescriptor descriptor = rxEntries[rxIndex + i];
            if (EthernetFrame.TryCreate(_umem.GetFrame(descriptor), out EthernetFrame frame))
                frame.SwapMacs();
            txSlots[txIndex + i] = descriptor;
        }
        tx.Submit(received);
        rx.Release(received);
        _outstanding += received;
        Counters.RxPackets += received;
        KickTx();
    }

    /// <summary>Hands every received frame straight back to the FILL ring; false when none had arrived.</summary>
    bool RecycleReceived()
    {
        RxRing rx = _rx!;
        uint received = rx.Peek(_batch, out uint rxIndex);
        if (received == 0)
            return false;
        uint fillIndex = ReserveFill(received);
        RingSlots<ulong> fillSlots = _fill.Slots;
        RingEntries<XdpDescriptor> rxEntries = rx.Entries;
        for (uint i = 0; i < received; i++)
            fillSlots[fillIndex + i] = rxEntries[rxIndex + i].Address;
        _fill.Submit(received);
        rx.Release(received);
        Counters.RxPackets += received;
        return true;
    }

    /// <summary>Reaps sent frames; l2fwd hands them back to the FILL ring.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    void CompleteTx(bool recycle)
    {
        if (_outstanding == 0)
            return;
        CompletionRing completion = _completion;
        uint done = completion.Peek(_ring, out uint index);
        if (done == 0)
            return;
        if (recycle)
        {
            uint fillIndex = ReserveFill(done);
            RingSlots<ulong> fillSlots = _fill.Slots;
            RingEntries<ulong> completed = completion.Entries;
            for (uint i = 0; i < done; i++)
                fillSlots[fillIndex + i] = completed[index + i];
            _fill.Submit(done);
        }
        completion.Release(done);
        _outstanding -= done;
        Counters.TxPackets += done;
    }

    /// <summary>
    /// sendto() only when it can do work: the kernel asked (need_wakeup, always so in copy mode)
    /// and the TX ring holds descriptors it has not consumed. xdpsock also kicks while only
    /// completions are outstanding, a syscall that sends nothing. With the TX budget raised to the
    /// ring size (XDP_MAX_TX_SKB_BUDGET, Linux 6.17+) one wakeup sends everything pending instead
    /// of at most 32 frames.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    void KickTx()
    {
        TxRing tx = _tx!;
        if ((_alwaysKick || tx.NeedsWakeup) && tx.Pending != 0)
        {
            Counters.Kicks++;
            _socket.WakeupTx();
        }
    }

    void WaitForRx()
    {
        if (_options.Poll)
        {
            Counters.Kicks++;
            _socket.PollRx(100);
        }
        else if (_busyPoll || (_options.NeedWakeup && _fill.NeedsWakeup))
        {
            Counters.Kicks++;
            _socket.WakeupRx();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    uint ReserveFill(uint count)
    {
        uint index;
        while (_fill.Reserve(count, out index) != count)
        {
            if (_fill.NeedsWakeup)
            {
                Counters.Kicks++;
                _socket.WakeupRx();
            }
        }
        return index;
    }
}
