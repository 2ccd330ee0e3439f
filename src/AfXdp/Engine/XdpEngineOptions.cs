using AfXdp.Device;
using AfXdp.Interop;
using AfXdp.Xsk;

namespace AfXdp.Engine;

/// <summary>Where the frames of an engine's queues live.</summary>
public enum UmemLayout
{
    /// <summary>
    /// One UMEM for all queues (XDP_SHARED_UMEM; every socket has its own FILL and COMPLETION rings):
    /// forwarding to another queue passes the frame itself, no copy.
    /// </summary>
    Shared,
    /// <summary>One UMEM per queue: nothing shared between queues; forwarding copies the packet.</summary>
    PerQueue,
}

/// <summary>Preferred busy polling for every socket of an engine (see <see cref="XskSocket.EnableBusyPoll"/>).</summary>
public sealed record BusyPollOptions(int TimeoutMicroseconds = 20, int Budget = 64);

/// <summary>How an <see cref="XdpEngine"/> is built; <see cref="Validate"/> runs before any syscall.</summary>
public sealed record XdpEngineOptions
{
    /// <summary>The interface whose queues the engine opens.</summary>
    public required string Interface { get; init; }

    /// <summary>Queue ids to open, one socket and one worker thread each; null for all of the interface's queues.</summary>
    public IReadOnlyList<uint>? Queues { get; init; }

    /// <summary>
    /// The CPU each worker is pinned to, by position in <see cref="Queues"/> (sched_setaffinity); null
    /// leaves the scheduler free. Pin a queue's worker to the core that handles the queue's interrupt
    /// (or, on veth, the core the sender runs on) to keep its packets in one cache.
    /// </summary>
    public IReadOnlyList<int>? Cores { get; init; }

    /// <summary>One UMEM shared by all queues (frames move between queues without a copy), or one per queue.</summary>
    public UmemLayout Umem { get; init; } = UmemLayout.Shared;

    /// <summary>Frames owned by each queue: enough for a full FILL ring plus a full TX ring.</summary>
    public uint FramesPerQueue { get; init; } = 4096;

    /// <summary>Bytes per UMEM frame: 2048 or 4096.</summary>
    public uint FrameSize { get; init; } = 4096;

    /// <summary>Entries of each of the four rings of every queue (a power of two).</summary>
    public uint RingSize { get; init; } = 2048;

    /// <summary>Most packets handed to the handler at once.</summary>
    public uint BatchSize { get; init; } = 64;

    /// <summary>How the redirect program attaches: skb, drv, or whichever the driver supports (Auto).</summary>
    public XdpAttachMode AttachMode { get; init; } = XdpAttachMode.Auto;

    /// <summary>Copy or zero-copy sockets; Auto takes zero-copy where the driver has it.</summary>
    public XdpBindMode BindMode { get; init; } = XdpBindMode.Auto;

    /// <summary>XDP_USE_NEED_WAKEUP: syscalls only when the kernel asks for them.</summary>
    public bool NeedWakeup { get; init; } = true;

    /// <summary>
    /// How long an idle worker keeps polling its rings before it sleeps in poll(2): the latency of the
    /// first packet after a pause against a core's worth of CPU. Null (the default) lets the worker choose
    /// from the rate it sees: it sleeps at once, and spins a few mean gaps only
    /// while packets come closer than a sleep and a wakeup cost (about 5 µs). <see cref="Timeout.InfiniteTimeSpan"/>
    /// never sleeps (lowest latency, one core per queue at 100 %); zero always sleeps at once.
    /// </summary>
    public TimeSpan? SpinTime { get; init; }

    /// <summary>
    /// Interrupt moderation in software, like a NIC's rx-usecs: a worker woken from its sleep by a frame
    /// waits this long before it takes the batch, and while frames keep coming it sleeps this long between
    /// batches instead of waiting in poll(2); the first such sleep that brings nothing sends it back to
    /// poll(2). One wakeup and one TX kick then serve every frame that arrived meanwhile: less CPU per packet
    /// at moderate rates, at the price of up to this much latency. Null (the default) lets the worker choose,
    /// as net_dim does for a NIC: a window of 0 to 64 µs that widens only while it brings significantly more
    /// frames per wakeup (docs/dns-cpu.md); zero takes each frame at once. Applies only to workers
    /// that sleep (not with busy polling or an infinite <see cref="SpinTime"/>).
    /// </summary>
    public TimeSpan? Coalesce { get; init; }

    /// <summary>Longest sleep of an idle worker; it calls <see cref="IPacketHandler.Idle"/> at least this often.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Preferred busy polling on every socket; null for none. Workers then spin (the syscall is the poll).</summary>
    public BusyPollOptions? BusyPoll { get; init; }

    /// <summary>Attach the default redirect program and register every socket; false when the application brings its own.</summary>
    public bool AttachProgram { get; init; } = true;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first bad option, before any syscall.</summary>
    public void Validate()
    {
        ArgumentException.ThrowIfNullOrEmpty(Interface);
        if (Queues is { Count: 0 })
            Throw.Argument(nameof(Queues), "XdpEngineOptions.Queues = []", "an engine needs at least one queue.", "leave Queues null for all queues, or list some.");
        if (Queues is not null && Queues.Distinct().Count() != Queues.Count)
            Throw.Argument(nameof(Queues), $"XdpEngineOptions.Queues = [{string.Join(", ", Queues)}]", "a queue is listed twice; each queue takes one socket.", "list every queue once.");
        if (Cores is not null && Queues is not null && Cores.Count != Queues.Count)
            Throw.Argument(nameof(Cores), $"XdpEngineOptions.Cores = [{string.Join(", ", Cores)}]", $"there are {Queues.Count} queues and {Cores.Count} cores.", "give one core per queue, in the order of Queues.");
        if (Cores?.Where(c => c is < 0 or >= Affinity.MaxCpus).Select(c => (int?)c).FirstOrDefault() is int bad)
            Throw.OutOfRange(nameof(Cores), $"XdpEngineOptions.Cores: {bad}", $"a CPU number lies between 0 and {Affinity.MaxCpus - 1}.", "use the numbers `nproc` / `lscpu` show.");
        Xsk.RingSize.Validate(nameof(RingSize), RingSize);
        if (BatchSize is 0 || BatchSize > RingSize)
            Throw.OutOfRange(nameof(BatchSize), $"XdpEngineOptions.BatchSize = {BatchSize}", $"a batch holds 1 to RingSize ({RingSize}) packets.", "use e.g. 64.");
        if (FramesPerQueue < RingSize + BatchSize)
            Throw.OutOfRange(nameof(FramesPerQueue), $"XdpEngineOptions.FramesPerQueue = {FramesPerQueue}",
                "a queue needs a full FILL ring of frames plus a batch for sending or it stalls.", $"use at least RingSize + BatchSize ({RingSize + BatchSize}), e.g. 2 x RingSize.");
        ValidateWaits("XdpEngineOptions", SpinTime, Coalesce);
        if (IdleTimeout <= TimeSpan.Zero || IdleTimeout > TimeSpan.FromSeconds(10))
            Throw.OutOfRange(nameof(IdleTimeout), $"XdpEngineOptions.IdleTimeout = {IdleTimeout}", "the idle timeout lies between 1 ms and 10 s.", "use e.g. 100 ms.");
        new UmemOptions { FrameCount = FramesPerQueue, FrameSize = FrameSize, FillRingSize = RingSize, CompletionRingSize = RingSize }.Validate();
    }

    /// <summary>The checks of <see cref="SpinTime"/> and <see cref="Coalesce"/>, for this record and for the options of a service on the engine, named by <paramref name="owner"/>.</summary>
    internal static void ValidateWaits(string owner, TimeSpan? spinTime, TimeSpan? coalesce)
    {
        if (spinTime < TimeSpan.Zero && spinTime != Timeout.InfiniteTimeSpan)
            Throw.OutOfRange("SpinTime", $"{owner}.SpinTime = {spinTime}", "a spin time cannot be negative.", "use TimeSpan.Zero, a few microseconds, or Timeout.InfiniteTimeSpan.");
        if (coalesce < TimeSpan.Zero || coalesce > TimeSpan.FromMilliseconds(10))
            Throw.OutOfRange("Coalesce", $"{owner}.Coalesce = {coalesce}", "the wait for more frames lies between 0 and 10 ms; it adds that much latency.", "use TimeSpan.Zero, or e.g. 200 µs.");
    }
}
