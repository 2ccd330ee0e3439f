using System.Diagnostics;
using AfXdp.Engine;
using AfXdp.Net;

namespace AfXdp.Udp;

/// <summary>Whether <see cref="UdpSender.TrySend"/> sent the datagram, and if not, why.</summary>
public enum UdpSendResult
{
    /// <summary>On the TX ring.</summary>
    Sent,
    /// <summary>The kernel has no MAC address for the destination yet; it was asked to resolve it (ARP, or NDP for IPv6), so a later send may succeed.</summary>
    Unresolved,
    /// <summary>Every frame or TX slot of the queue was in use.</summary>
    NoRoom,
}

/// <summary>
/// Sends new datagrams from one queue of a <see cref="UdpService"/> to any IPv4 or IPv6 endpoint on the link:
/// the destination MAC comes from the kernel's neighbour table (<see cref="NeighbourTable"/>), cached for
/// <see cref="UdpServiceOptions.NeighbourLifetime"/>. Only on its queue's worker thread: from
/// <see cref="IUdpHandler.Handle"/> or <see cref="IUdpHandler.Idle"/>.
/// </summary>
public sealed class UdpSender
{
    const int CacheCapacity = 1024;

    readonly XdpQueue _queue;
    readonly NeighbourTable _neighbours;
    readonly MacAddress _mac;
    readonly Dictionary<UInt128, HostPolicy> _hosts;
    readonly UdpServiceCounters _counters;
    readonly long _lifetimeTicks;
    readonly Dictionary<UInt128, (MacAddress Mac, long Expires)> _cache = new(CacheCapacity);
    NeighbourState _unresolvedState;

    internal UdpSender(XdpQueue queue, NeighbourTable neighbours, IReadOnlyList<HostPolicy> hosts, UdpEndpoint source, int maxFrameLength, TimeSpan neighbourLifetime, UdpServiceCounters counters)
    {
        _queue = queue;
        _neighbours = neighbours;
        _mac = hosts[0].Mac;
        Source = source;
        // Keyed as endpoints hold addresses: IPv6, or IPv4-mapped.
        _hosts = hosts.ToDictionary(h => h.Ipv6Address != UInt128.Zero ? h.Ipv6Address : Ipv6Address.MapIpv4(h.Address));
        MaxFrameLength = maxFrameLength;
        _lifetimeTicks = (long)(neighbourLifetime.TotalSeconds * Stopwatch.Frequency);
        _counters = counters;
    }

    /// <summary>The queue whose frames and TX ring this sender uses.</summary>
    public XdpQueue Queue => _queue;

    /// <summary>Where datagrams come from unless told otherwise: the first served endpoint.</summary>
    public UdpEndpoint Source { get; }

    /// <summary>The largest payload an IPv4 datagram carries here (the MTU less the IPv4 and UDP headers).</summary>
    public int MaxPayloadLength => MaxFrameLength - UdpFrame.HeadersLength;

    /// <summary>The largest payload an IPv6 datagram carries here (the MTU less the 40-byte IPv6 and the UDP header): <see cref="MaxPayloadLength"/> less 20.</summary>
    public int MaxIpv6PayloadLength => MaxFrameLength - UdpFrame.Ipv6HeadersLength;

    internal int MaxFrameLength { get; }

    /// <summary>
    /// Sends <paramref name="payload"/> to <paramref name="to"/> from <see cref="Source"/>; throws
    /// <see cref="NeighbourUnresolvedException"/> when the kernel has no MAC for it yet (and asks the kernel to resolve it).
    /// Returns false when every frame or TX slot was in use.
    /// </summary>
    public bool Send(UdpEndpoint to, ReadOnlySpan<byte> payload) => Send(to, payload, Source);

    /// <summary>Like <see cref="Send(UdpEndpoint, ReadOnlySpan{byte})"/>, from <paramref name="from"/>: an endpoint on one of the served addresses (any port).</summary>
    public bool Send(UdpEndpoint to, ReadOnlySpan<byte> payload, UdpEndpoint from)
    {
        UdpSendResult result = TrySend(to, payload, from);
        if (result == UdpSendResult.Unresolved)
            throw new NeighbourUnresolvedException(_neighbours.InterfaceName, Ipv6Address.ToIPAddress(to.Address), _unresolvedState);
        return result == UdpSendResult.Sent;
    }

    /// <summary>Like <see cref="Send(UdpEndpoint, ReadOnlySpan{byte}, UdpEndpoint)"/>, with the outcome as a value instead of an exception.</summary>
    public UdpSendResult TrySend(UdpEndpoint to, ReadOnlySpan<byte> payload, UdpEndpoint from)
    {
        int maxPayload = to.IsIpv6 ? MaxIpv6PayloadLength : MaxPayloadLength;
        if (payload.Length > maxPayload)
            throw new ArgumentOutOfRangeException(nameof(payload), payload.Length, $"a datagram to {to} carries at most {maxPayload} bytes here (the MTU).");
        if (!_hosts.TryGetValue(from.Address, out HostPolicy host))
            Throw.Argument(nameof(from), $"UdpSender.Send(from {from})", "datagrams go out from an address the service serves, never another host's.", $"send from {Source} or another served address.");
        if (to.IsIpv6 != from.IsIpv6)
            Throw.Argument(nameof(to), $"UdpSender.Send(to {to}, from {from})", "a datagram goes from and to addresses of one family, IPv4 or IPv6.", $"send from a served address of {to}'s family.");
        // The same rules as for answering: a datagram to a group or a reflector could start a loop or a flood.
        if (to.IsIpv6 ? !host.IsAnswerableSource(to.Address) : !host.IsAnswerableSource((uint)to.Address))
            Throw.Argument(nameof(to), $"UdpSender.Send(to {to})", to.IsIpv6
                ? $"{Ipv6Address.ToIPAddress(to.Address)} names no single unicast host (RFC 4291: it is ::, loopback, multicast, IPv4-mapped, or the sender's own address)."
                : $"{Ipv6Address.ToIPAddress(to.Address)} names no single unicast host seen from {Ipv6Address.ToIPAddress(from.Address)}/{host.PrefixLength} (RFC 1122 3.2.1.3: it is in 0/8, loopback, multicast or class E, a broadcast, the subnet's network address, or the sender's own address).", "send to one unicast host.");
        if (ReplyRules.IsReflectorPort(to.Port))
            Throw.Argument(nameof(to), $"UdpSender.Send(to {to})", $"port {to.Port} is a reflector port (ReplyRules.IsReflectorPort: port 0 or a service that answers any datagram), so a datagram there could start a loop or a flood.", "send to a port ReplyRules.IsReflectorPort does not list.");
        if (!TryResolve(to.Address, out MacAddress mac))
            return UdpSendResult.Unresolved;
        if (!_queue.TryTakeFrame(out Packet packet))
            return UdpSendResult.NoRoom;
        Span<byte> frame = packet.FrameData(MaxFrameLength);
        payload.CopyTo(frame[(to.IsIpv6 ? UdpFrame.Ipv6HeadersLength : UdpFrame.HeadersLength)..]);
        packet.Length = UdpFrame.WriteHeaders(frame, _mac, mac, from, to, payload.Length);
        if (!_queue.Transmit(packet))
            return UdpSendResult.NoRoom;
        _counters.Sent++;
        return UdpSendResult.Sent;
    }

    bool TryResolve(UInt128 address, out MacAddress mac)
    {
        long now = Stopwatch.GetTimestamp();
        if (_cache.TryGetValue(address, out var entry) && entry.Expires > now)
        {
            mac = entry.Mac;
            return true;
        }
        if (!_neighbours.TryLookup(address, out mac, out NeighbourState state))
        {
            if ((state & (NeighbourState.Incomplete | NeighbourState.Permanent)) == 0)
                _neighbours.Solicit(address);
            _unresolvedState = state;
            return false;
        }
        if (_cache.Count == CacheCapacity)
            _cache.Clear(); // bounded, and never grows its storage on the datagram path
        _cache[address] = (mac, now + _lifetimeTicks);
        return true;
    }
}
