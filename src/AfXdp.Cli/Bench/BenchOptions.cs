using System.Net;
using AfXdp.Bpf;
using AfXdp.Device;
using AfXdp.DevicePlugin;
using AfXdp.Net;
using AfXdp.Xsk;

namespace AfXdp.Cli.Bench;

internal enum BenchMode
{
    /// <summary>Receive and recycle every frame to the FILL ring.</summary>
    RxDrop,
    /// <summary>Send a prebuilt UDP frame as fast as possible (and drain RX unless NoRx).</summary>
    TxOnly,
    /// <summary>Swap MACs and send every received frame back on the same socket.</summary>
    L2Fwd,
}

/// <summary>Everything `afxdp bench` takes, with the kernel xdpsock sample's defaults.</summary>
internal sealed record BenchOptions
{
    public required string Interface { get; init; }
    public BenchMode Mode { get; init; } = BenchMode.RxDrop;
    public uint Queue { get; init; }
    public XdpAttachMode Attach { get; init; } = XdpAttachMode.Auto;
    /// <summary>Steer only matching frames to the socket (the steering program); null for all.</summary>
    public PacketFilter? Filter { get; init; }
    /// <summary>Register in the XSKMAP the device plugin serves instead of attaching a program; null to attach our own.</summary>
    public XskMapSource? XskMap { get; init; }
    public XdpBindMode Bind { get; init; } = XdpBindMode.Auto;
    public uint Batch { get; init; } = 64;
    public uint Ring { get; init; } = 2048;
    public uint FrameSize { get; init; } = 4096;
    public int PacketSize { get; init; } = 64;
    public bool NeedWakeup { get; init; } = true;
    /// <summary>XDP_MAX_TX_SKB_BUDGET; null = the ring size where the kernel has the option (6.17+), else its default of 32.</summary>
    public uint? TxBudget { get; init; }
    /// <summary>SO_SNDBUF(FORCE) of the socket; null = 0 (net.core.wmem_default).</summary>
    public int? SendBuffer { get; init; }
    public bool Poll { get; init; }
    public bool BusyPoll { get; init; }
    /// <summary>rxdrop: await batches (XskAsyncReceiver) instead of spinning.</summary>
    public bool Async { get; init; }
    public double Duration { get; init; } = 10;
    /// <summary>txonly: frames per second to pace to (<see cref="TxPacer"/>); null sends as fast as possible.</summary>
    public double? Rate { get; init; }
    public bool NoRx { get; init; }
    public bool Unaligned { get; init; }
    public MacAddress? SourceMac { get; init; }
    public MacAddress DestinationMac { get; init; } = MacAddress.Broadcast;
    public IPAddress SourceIp { get; init; } = IPAddress.Parse("10.77.0.1");
    public IPAddress DestinationIp { get; init; } = IPAddress.Parse("10.77.0.2");
    public ushort SourcePort { get; init; } = 9;
    public ushort DestinationPort { get; init; } = 9;
    /// <summary>Rx modes give up when no packet arrives within this many seconds (--wait); null: the duration.</summary>
    public double? Wait { get; init; }

    /// <summary>
    /// How long rx modes wait for their first packet: --wait, else the duration, so that `-d 3` with no traffic
    /// ends in about 3 s, as a user of a benchmark expects, instead of a fixed wait far longer than the run asked for.
    /// </summary>
    public double FirstPacketTimeout => Wait ?? Duration;

    public bool WantsRx => Mode != BenchMode.TxOnly || !NoRx;
    public bool WantsTx => Mode != BenchMode.RxDrop;

    public string ModeName => Mode.ToString().ToLowerInvariant();
}
