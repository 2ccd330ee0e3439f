using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using AfXdp.Interop;
using AfXdp.Xsk;

namespace AfXdp.Engine;

/// <summary>
/// One queue of an <see cref="XdpEngine"/>: its socket, its share of frames and the worker thread
/// that moves them. Frame ownership: every frame has a home queue (the one whose FILL ring it was
/// first given to); a frame that ends its trip on another queue (forwarded, then completed there)
/// goes home through the home's return queue, so forwarding in one direction never starves a queue.
/// </summary>
public sealed unsafe class XdpQueue
{
    readonly XdpEngine _engine;
    readonly FillRing _fill;
    readonly CompletionRing _completion;
    readonly RxRing _rx;
    readonly TxRing _tx;
    readonly uint _batch;
    readonly ulong _frameSize;
    readonly ulong _chunkMask;
    readonly ulong _firstAddress;
    readonly ulong _endAddress;
    readonly uint _copyReserve;
    readonly ulong[] _free;
    readonly Packet[] _packets;
    readonly EventFd _wake = new();
    readonly SocketSleep _sleep;
    readonly AdaptiveWait _wait;
    uint _freeCount;
    uint _outstanding;
    int _sleeping;
    int _threadId;
    IPacketHandler? _handler;
    XskLiveness? _liveness;

    internal XdpQueue(XdpEngine engine, int index, RxTxSocket socket, ulong firstAddress, XdpEngineOptions options, int? core)
    {
        try
        {
            _sleep = new SocketSleep(socket.Fd, _wake.Fd);
        }
        catch
        {
            _wake.Dispose();
            throw;
        }
        _engine = engine;
        Index = index;
        Socket = socket;
        Core = core;
        _fill = socket.Fill;
        _completion = socket.Completion;
        _rx = socket.Rx;
        _tx = socket.Tx;
        _batch = options.BatchSize;
        _frameSize = options.FrameSize;
        _chunkMask = ~(_frameSize - 1);
        _firstAddress = firstAddress;
        _endAddress = firstAddress + options.FramesPerQueue * _frameSize;
        // With a UMEM per queue, a forwarded packet is copied into a frame of the target: keep a batch of frames out of the FILL ring for that.
        _copyReserve = options.Umem == UmemLayout.PerQueue ? options.BatchSize : 0;
        _free = new ulong[options.FramesPerQueue];
        for (uint i = 0; i < options.FramesPerQueue; i++)
            _free[_freeCount++] = firstAddress + (options.FramesPerQueue - 1 - i) * _frameSize;
        _packets = new Packet[options.BatchSize];
        _wait = new AdaptiveWait(Stopwatch.Frequency, Stopwatch.GetTimestamp(), options.SpinTime, options.Coalesce);
        Forwards = new FrameQueue((int)options.RingSize);
        Returns = new FrameQueue((int)BitOperations.RoundUpToPowerOf2(options.FramesPerQueue));
        Refill();
    }

    /// <summary>Position of this queue in <see cref="XdpEngine.Queues"/>.</summary>
    public int Index { get; }

    /// <summary>The interface's queue id the socket is bound to.</summary>
    public uint QueueId => Socket.QueueId;

    /// <summary>The CPU the worker is pinned to, or null.</summary>
    public int? Core { get; }

    /// <summary>The AF_XDP socket bound to this queue.</summary>
    public RxTxSocket Socket { get; }

    /// <summary>The UMEM the socket's frames live in (shared by all queues, or this queue's own).</summary>
    public Umem Umem => Socket.Umem;

    /// <summary>The engine this queue belongs to.</summary>
    public XdpEngine Engine => _engine;

    /// <summary>What this queue moved: its socket's counters (also published as metrics).</summary>
    public XskCounters Counters => Socket.Counters;

    /// <summary>The exception that ended the worker, or null.</summary>
    public Exception? Fault { get; private set; }

    /// <summary>Descriptors other queues forward to this queue's TX ring.</summary>
    internal FrameQueue Forwards { get; }

    /// <summary>This queue's frames coming home from other queues.</summary>
    internal FrameQueue Returns { get; }

    /// <summary>Sends a held packet out of this queue (its worker thread only). False when the TX ring was full and the frame was recycled.</summary>
    public bool Transmit(in Packet packet)
    {
        CheckThread();
        return SendOrDrop(packet.Address, (uint)packet.Length);
    }

    /// <summary>Sends a held packet out of <paramref name="target"/> (this queue's worker thread only). False when the target had no room.</summary>
    public bool Forward(in Packet packet, XdpQueue target)
    {
        ArgumentNullException.ThrowIfNull(target);
        CheckThread();
        return ForwardTo(target, packet.Address, (uint)packet.Length);
    }

    /// <summary>
    /// Takes a free frame of this queue to build a new packet in (this queue's worker thread only): length 0,
    /// the whole frame as capacity. Send it with <see cref="Transmit"/> or give it back with <see cref="Release"/>.
    /// False when every frame is in use.
    /// </summary>
    public bool TryTakeFrame(out Packet packet)
    {
        CheckThread();
        if (_freeCount == 0)
        {
            packet = default;
            return false;
        }
        ulong address = _free[--_freeCount];
        packet = new Packet(Umem.Pointer + address, address, 0, (uint)_frameSize);
        return true;
    }

    /// <summary>Gives a held packet's frame back (this queue's worker thread only).</summary>
    public void Release(in Packet packet)
    {
        CheckThread();
        Recycle(packet.Address);
    }

    /// <summary>Interface, queue id and CPU, for messages.</summary>
    public override string ToString() => $"XdpQueue({Socket.InterfaceName} queue {QueueId}{(Core is { } c ? $" on CPU {c}" : "")})";

    internal Thread StartWorker(IPacketHandler handler)
    {
        _handler = handler;
        _liveness = new XskLiveness(Socket, _engine.Program?.Link);
        var thread = new Thread(Run) { IsBackground = true, Name = $"afxdp {Socket.InterfaceName} q{QueueId}" };
        thread.Start();
        return thread;
    }

    /// <summary>Wakes the worker if it sleeps in poll (stop, or work from another queue).</summary>
    internal void Wake()
    {
        if (Interlocked.Exchange(ref _sleeping, 0) != 0)
            _wake.Signal();
    }

    internal void DisposeWakeup()
    {
        _sleep.Dispose();
        _wake.Dispose();
    }

    void Run()
    {
        _threadId = Environment.CurrentManagedThreadId;
        try
        {
            if (Core is { } core)
                Affinity.PinCurrentThread(core);
            // Timers of this thread fire within 1 µs of their time, not the default 50 µs later (prctl(2),
            // PR_SET_TIMERSLACK): that slack would stretch every coalescing window by up to 50 µs.
            if (Sys.Prctl(Sys.PR_SET_TIMERSLACK, 1000, 0, 0, 0) != 0)
                Throw.Errno("prctl(PR_SET_TIMERSLACK, 1000)", Sys.LastErrno);
            Loop();
        }
        catch (Exception e)
        {
            Fault = e;
            _engine.OnWorkerFailed();
        }
    }

    void Loop()
    {
        bool busyPoll = _engine.Options.BusyPoll is not null;
        long idleTicks = (long)(_engine.Options.IdleTimeout.TotalSeconds * Stopwatch.Frequency);
        long idleSince = 0, lastIdleCall = Stopwatch.GetTimestamp();
        uint taken = 0; // packets since the last sleep, for the wait policy
        bool flowing = false;
        while (!_engine.Stopping)
        {
            bool worked = ReapCompletions() | DrainReturns() | DrainForwards();
            uint received = Receive();
            taken += received;
            worked |= received != 0;
            flowing |= received != 0;
            Refill();
            KickTx();
            if (worked)
            {
                idleSince = 0;
                continue;
            }
            long now = Stopwatch.GetTimestamp();
            _liveness!.Check(now);
            if (idleSince == 0)
                idleSince = now;
            long spinTicks = _wait.SpinTicks, coalesceNs = _wait.CoalesceNanoseconds;
            // Busy polling spins in the syscall and an endless spin never sleeps: neither coalesces.
            if (flowing && coalesceNs != 0 && !busyPoll && spinTicks != long.MaxValue)
            {
                // Coalescing while frames flow: a timed sleep collects the next batch with one wakeup instead
                // of two (poll's and the wait after it). The first sleep that brings nothing ends the flow.
                flowing = false;
                _handler!.Idle(this);
                _wait.Record(now, taken);
                taken = 0;
                Counters.Wakeups++;
                Sys.Nanosleep(coalesceNs);
                idleSince = 0;
            }
            else if (!busyPoll && now - idleSince >= spinTicks)
            {
                _wait.Record(now, taken);
                taken = 0;
                flowing = false;
                Sleep();
                (idleSince, lastIdleCall) = (0, Stopwatch.GetTimestamp());
            }
            else if (now - lastIdleCall >= idleTicks)
            {
                // A worker that never sleeps still tells the handler it is idle, once per IdleTimeout.
                _handler!.Idle(this);
                lastIdleCall = now;
            }
        }
    }

    /// <summary>
    /// Sleeps in epoll_wait on the socket (EPOLLIN) and the wakeup eventfd (<see cref="SocketSleep"/>: both
    /// registered once, so a sleep adds and removes no wait-queue entries as poll(2) would). The flag is set
    /// before the last look at the inbound queues, and producers read it after their enqueue (both full
    /// fences), so an item enqueued while we fall asleep always wakes us (the Dekker pattern).
    /// </summary>
    void Sleep()
    {
        _handler!.Idle(this);
        Interlocked.Exchange(ref _sleeping, 1);
        if (Forwards.HasItems || Returns.HasItems || _rx.Available != 0 || _engine.Stopping)
        {
            Volatile.Write(ref _sleeping, 0);
            return;
        }
        // Frames the kernel has not taken yet (a copy-mode kick sends at most its TX budget): kick once more before
        // sleeping (Kick makes the call only while frames are pending). poll(2) did that itself (xsk_poll drives
        // copy-mode TX on every call); epoll_wait does not, and without this kick the rest of a batch of replies
        // waited for the next wakeup, up to the 1 ms below.
        _tx.Kick();
        // Come back soon (completions do not raise EPOLLIN) while the kernel has not taken every sent frame (it takes
        // at most 32 per kick in copy mode) or while a batch of frames or more is out; a few frames out wait for the
        // next wakeup: a 1 ms timer for them cost a second wakeup per datagram at 2k datagrams/s (docs/dns-cpu.md).
        int timeout = _tx.Pending != 0 || _outstanding >= _batch ? 1 : (int)_engine.Options.IdleTimeout.TotalMilliseconds;
        Counters.Wakeups++;
        SocketSleep.Ready ready = _sleep.Wait(timeout);
        Volatile.Write(ref _sleeping, 0);
        if ((ready & SocketSleep.Ready.Wakeup) != 0)
            _wake.Drain();
        // Woken by a frame: let more arrive (up to a batch) so that they share this wakeup and one TX kick.
        if ((ready & SocketSleep.Ready.Socket) != 0 && _wait.CoalesceNanoseconds is var coalesceNs and not 0 && _rx.Available < _batch)
        {
            _wait.RecordWindow();
            Sys.Nanosleep(coalesceNs);
        }
    }

    /// <summary>Takes a batch from the RX ring to the handler; the number of packets.</summary>
    uint Receive()
    {
        RxBatch batch = _rx.Receive(_batch);
        if (batch.IsEmpty)
            return 0;
        uint received = batch.Count;
        Packet[] packets = _packets;
        byte* umem = Umem.Pointer;
        int i = 0;
        foreach (RxFrame frame in batch)
        {
            ulong offset = frame.Address & ~_chunkMask;
            packets[i++] = new Packet(umem + frame.Address, frame.Address, (uint)frame.Length, (uint)(_frameSize - offset));
        }
        // The engine keeps the frames (its own free lists say where each goes next): the RX slots go back to the kernel before the handler runs.
        batch.Release();
        _handler!.Handle(this, packets.AsSpan(0, (int)received));
        ApplyVerdicts(packets.AsSpan(0, (int)received));
        return received;
    }

    void ApplyVerdicts(Span<Packet> packets)
    {
        Span<XdpDescriptor> transmits = stackalloc XdpDescriptor[packets.Length];
        int count = 0;
        foreach (ref readonly Packet p in packets)
        {
            switch (p.Verdict)
            {
                case PacketVerdict.Drop:
                    Recycle(p.Address);
                    break;
                case PacketVerdict.Transmit:
                    transmits[count++] = new XdpDescriptor { Address = p.Address, Length = (uint)p.Length };
                    break;
                case PacketVerdict.Forward:
                    ForwardTo(_engine.Queues[p.TargetQueue], p.Address, (uint)p.Length);
                    break;
            }
        }
        SendOrDrop(transmits[..count]);
    }

    /// <summary>Sends the frames (the TX ring's retry policy applies); those that found no room are dropped and recycled.</summary>
    int SendOrDrop(ReadOnlySpan<XdpDescriptor> frames)
    {
        if (frames.IsEmpty)
            return 0;
        int sent = _tx.Send(frames);
        _outstanding += (uint)sent;
        foreach (XdpDescriptor dropped in frames[sent..])
        {
            Counters.TxDropped++;
            Recycle(dropped.Address);
        }
        return sent;
    }

    bool SendOrDrop(ulong address, uint length) => SendOrDrop([new XdpDescriptor { Address = address, Length = length }]) == 1;

    bool ForwardTo(XdpQueue target, ulong address, uint length)
    {
        if (target == this)
            return SendOrDrop(address, length);
        if (target.Forwards.TryEnqueue(address, length, (ushort)Index))
        {
            if (Volatile.Read(ref target._sleeping) != 0)
                target.Wake();
            return true;
        }
        Counters.TxDropped++;
        Recycle(address);
        return false;
    }

    /// <summary>A frame this queue is done with: to the free stack if it lives here, else home.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    void Recycle(ulong address)
    {
        ulong chunk = address & _chunkMask;
        if (chunk >= _firstAddress && chunk < _endAddress)
        {
            _free[_freeCount++] = chunk;
            return;
        }
        SendHome(chunk);
    }

    void SendHome(ulong chunk)
    {
        XdpQueue home = _engine.HomeOf(chunk);
        // Cannot fail: the return queue holds as many entries as the home has frames.
        home.Returns.TryEnqueue(chunk, 0, (ushort)Index);
        if (Volatile.Read(ref home._sleeping) != 0)
            home.Wake();
    }

    bool ReapCompletions()
    {
        if (_outstanding == 0)
            return false;
        Span<ulong> completed = stackalloc ulong[64];
        int done, total = 0;
        while ((done = _completion.Take(completed)) != 0)
        {
            foreach (ulong address in completed[..done])
                Recycle(address);
            total += done;
        }
        _outstanding -= (uint)total;
        return total != 0;
    }

    bool DrainReturns()
    {
        bool any = false;
        while (Returns.TryDequeue(out ulong chunk, out _, out _))
        {
            _free[_freeCount++] = chunk;
            any = true;
        }
        return any;
    }

    /// <summary>Descriptors other queues forward here, onto our TX ring: the frame itself on a shared UMEM, a copy otherwise.</summary>
    bool DrainForwards()
    {
        if (!Forwards.HasItems)
            return false;
        // Only as many as the TX ring has room for now: the rest wait in the queue, nothing is dropped.
        uint room = Math.Min(_batch, _tx.FreeCount(_batch));
        Span<XdpDescriptor> frames = stackalloc XdpDescriptor[(int)room];
        int used = 0;
        bool copies = _engine.Options.Umem == UmemLayout.PerQueue;
        while (used < room && (!copies || _freeCount != 0) && Forwards.TryDequeue(out ulong address, out uint length, out ushort source))
        {
            if (copies)
            {
                XdpQueue origin = _engine.Queues[source];
                ulong copy = _free[--_freeCount];
                new ReadOnlySpan<byte>(origin.Umem.Pointer + address, (int)length).CopyTo(new Span<byte>(Umem.Pointer + copy, (int)length));
                origin.Returns.TryEnqueue(address & _chunkMask, 0, (ushort)Index);
                if (Volatile.Read(ref origin._sleeping) != 0)
                    origin.Wake();
                address = copy;
            }
            frames[used++] = new XdpDescriptor { Address = address, Length = length };
        }
        return SendOrDrop(frames[..used]) != 0;
    }

    /// <summary>Hands free frames to the FILL ring, as many as it has room for, in one Recycle.</summary>
    void Refill()
    {
        if (_freeCount <= _copyReserve)
            return;
        uint spare = _freeCount - _copyReserve;
        uint count = Math.Min(spare, _fill.FreeCount(spare));
        if (count == 0)
            return;
        // The free stack's top entries, in one Recycle: the ring has room for them (FreeCount above).
        _freeCount -= count;
        _fill.Recycle(_free.AsSpan((int)_freeCount, (int)count));
    }

    /// <summary>sendto() only when it can do work (<see cref="TxRing.Kick"/>), and only while frames are out.</summary>
    void KickTx()
    {
        if (_outstanding != 0)
            _tx.Kick();
    }

    void CheckThread()
    {
        if (Environment.CurrentManagedThreadId != _threadId)
            throw new InvalidOperationException($"{this}: held packets go back through the queue's own worker thread (from IPacketHandler.Handle or Idle).");
    }
}
