namespace AfXdp.Xsk;

/// <summary>How a socket moves frames between the driver and the UMEM.</summary>
public enum XdpBindMode
{
    /// <summary>Zero-copy when the driver supports it, else copy (the kernel decides at bind).</summary>
    Auto,
    /// <summary>XDP_COPY: the kernel copies every frame; works on every device.</summary>
    Copy,
    /// <summary>XDP_ZEROCOPY: the driver DMAs into the UMEM; fails with EOPNOTSUPP where unsupported (e.g. veth).</summary>
    ZeroCopy,
}

/// <summary>
/// Options of one AF_XDP socket. Each value is checked when it is set (a ring size that is not a power
/// of two throws right there); how they fit together is checked when a socket is built, before any syscall.
/// </summary>
public sealed record XskSocketOptions
{
    /// <summary>RX ring entries (a power of two); a <see cref="TxSocket"/> has none and ignores it.</summary>
    public uint RxRingSize { get; init => field = RingSize.Checked(nameof(RxRingSize), value, zeroAllowed: true); } = 2048;

    /// <summary>TX ring entries (a power of two); an <see cref="RxSocket"/> has none and ignores it.</summary>
    public uint TxRingSize { get; init => field = RingSize.Checked(nameof(TxRingSize), value, zeroAllowed: true); } = 2048;

    /// <summary>Copy, zero-copy, or whichever the driver offers (<see cref="XdpBindMode"/>).</summary>
    public XdpBindMode BindMode
    {
        get;
        init => field = Enum.IsDefined(value) ? value
            : throw new ArgumentOutOfRangeException(nameof(value), Throw.Message($"XskSocketOptions.BindMode = {(int)value}", "not an XdpBindMode.", "use XdpBindMode.Auto, Copy or ZeroCopy."));
    } = XdpBindMode.Auto;

    /// <summary>XDP_USE_NEED_WAKEUP: the kernel says when it needs a syscall, so none is made otherwise.</summary>
    public bool NeedWakeup { get; init; } = true;

    /// <summary>XDP_USE_SG: frames larger than one chunk arrive as chains (XDP_PKT_CONTD).</summary>
    public bool MultiBuffer { get; init; }

    /// <summary>FILL/COMPLETION ring sizes when this socket needs rings of its own (a shared UMEM on another queue).</summary>
    public uint FillRingSize { get; init => field = RingSize.Checked(nameof(FillRingSize), value); } = 2048;

    /// <inheritdoc cref="FillRingSize"/>
    public uint CompletionRingSize { get; init => field = RingSize.Checked(nameof(CompletionRingSize), value); } = 2048;

    /// <summary>
    /// Copy mode: descriptors one TX wakeup (sendto) may send, XDP_MAX_TX_SKB_BUDGET (Linux 6.17+),
    /// from 32 (the kernel's default) to <see cref="TxRingSize"/>. 0 keeps the kernel's default.
    /// A larger budget means fewer syscalls per frame.
    /// </summary>
    public uint TxBudget { get; init; }

    /// <summary>
    /// Copy mode: bytes of sent-but-not-completed frames the socket may hold (SO_SNDBUF; SO_SNDBUFFORCE
    /// with CAP_NET_ADMIN, beyond net.core.wmem_max). Each copied frame is an skb charged here until the
    /// device frees it; when full, sendto sends nothing (EAGAIN). 0 keeps net.core.wmem_default.
    /// </summary>
    public int SendBufferSize
    {
        get;
        init => field = value >= 0 ? value
            : throw new ArgumentOutOfRangeException(nameof(value), Throw.Message($"XskSocketOptions.SendBufferSize = {value}", "a buffer size cannot be negative.", "use 0 for the system default."));
    }

    /// <summary>
    /// How long bind retries on EBUSY: a queue stays held for about a second after its previous
    /// socket closed. Zero to fail at once.
    /// </summary>
    public TimeSpan BusyRetryTimeout
    {
        get;
        init => field = value >= TimeSpan.Zero ? value
            : throw new ArgumentOutOfRangeException(nameof(value), Throw.Message($"XskSocketOptions.BusyRetryTimeout = {value}", "a timeout cannot be negative.", "use TimeSpan.Zero to fail at once."));
    } = TimeSpan.FromSeconds(3);

    /// <summary>Checks how the values fit a socket of shape <paramref name="shape"/> with the given rings.</summary>
    internal void Validate(bool rx, bool tx, string shape)
    {
        if (rx && RxRingSize == 0)
            Throw.Argument(nameof(RxRingSize), $"{shape} with XskSocketOptions.RxRingSize = 0", "a socket that receives needs an RX ring.", "set RxRingSize to a power of two, e.g. 2048, or use a TxSocket.");
        if (tx && TxRingSize == 0)
            Throw.Argument(nameof(TxRingSize), $"{shape} with XskSocketOptions.TxRingSize = 0", "a socket that sends needs a TX ring.", "set TxRingSize to a power of two, e.g. 2048, or use an RxSocket.");
        if (TxBudget != 0 && (!tx || TxBudget < 32 || TxBudget > TxRingSize))
            Throw.OutOfRange(nameof(TxBudget), $"XskSocketOptions.TxBudget = {TxBudget}", tx ? $"the kernel accepts a TX budget from 32 to the TX ring size ({TxRingSize})." : $"a {shape} has no TX ring to budget.",
                "use 0 for the kernel's default, or a value in that range.");
    }
}

/// <summary>The six XDP_STATISTICS counters of a socket (since boot of the socket).</summary>
public readonly record struct XdpStatistics(
    ulong RxDropped,
    ulong RxInvalidDescriptors,
    ulong TxInvalidDescriptors,
    ulong RxRingFull,
    ulong RxFillRingEmptyDescriptors,
    ulong TxRingEmptyDescriptors);

/// <summary>A socket's busy-poll options: SO_PREFER_BUSY_POLL, SO_BUSY_POLL (µs), SO_BUSY_POLL_BUDGET (packets).</summary>
public readonly record struct BusyPollSettings(bool Preferred, int TimeoutMicroseconds, int Budget);
