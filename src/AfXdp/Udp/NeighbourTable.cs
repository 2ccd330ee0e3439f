using System.Buffers.Binary;
using System.Net;
using AfXdp.Interop;
using AfXdp.Net;

namespace AfXdp.Udp;

/// <summary>A neighbour entry's state (NUD_*, include/uapi/linux/neighbour.h).</summary>
[Flags]
public enum NeighbourState : ushort
{
    /// <summary>No entry.</summary>
    None = 0,
    /// <summary>Being resolved: an ARP request is out.</summary>
    Incomplete = 0x01,
    /// <summary>Confirmed recently.</summary>
    Reachable = 0x02,
    /// <summary>Known, not confirmed lately; usable (the kernel confirms it on use).</summary>
    Stale = 0x04,
    /// <summary>Waiting for confirmation from traffic before probing.</summary>
    Delay = 0x08,
    /// <summary>Being confirmed by ARP.</summary>
    Probe = 0x10,
    /// <summary>Resolution failed: no answer.</summary>
    Failed = 0x20,
    /// <summary>A device without ARP.</summary>
    NoArp = 0x40,
    /// <summary>Set by an administrator.</summary>
    Permanent = 0x80,
}

/// <summary>The kernel has no usable link-layer address for an IPv4 address on an interface, so a frame cannot be addressed to it.</summary>
public sealed class NeighbourUnresolvedException(string interfaceName, IPAddress address, NeighbourState state)
    : AfXdpException($"neighbour {address} on {interfaceName}", 0,
        state == NeighbourState.None
            ? $"the kernel's neighbour table has no entry for {address} on {interfaceName}: no ARP exchange with it has happened yet."
            : $"the kernel's neighbour entry for {address} on {interfaceName} is {state}, without a usable MAC address.",
        $"send again once it is resolved (the lookup asked the kernel to resolve it), check that {address} is on {interfaceName}'s link (`ip neigh show dev {interfaceName}`), or add it: `ip neigh replace {address} lladdr MAC dev {interfaceName}`.")
{
    /// <summary>The interface the address was looked up on.</summary>
    public string InterfaceName { get; } = interfaceName;

    /// <summary>The unresolved address.</summary>
    public IPAddress Address { get; } = address;

    /// <summary>The entry's state; <see cref="NeighbourState.None"/> when there is no entry.</summary>
    public NeighbourState State { get; } = state;
}

/// <summary>
/// The MAC address of an IPv4 neighbour on one interface, from the kernel's neighbour (ARP) table
/// over netlink (RTM_GETNEIGH), for frames sent without the kernel's stack. Each lookup is a syscall:
/// callers cache. Holds a netlink socket of the calling thread's network namespace; one thread at a time.
/// </summary>
public sealed class NeighbourTable : IDisposable
{
    /// <summary>States in which the entry's address may be used (the kernel itself sends to them, confirming STALE ones as it goes).</summary>
    public const NeighbourState Usable = NeighbourState.Reachable | NeighbourState.Stale | NeighbourState.Delay | NeighbourState.Probe | NeighbourState.Permanent | NeighbourState.NoArp;

    readonly NetlinkRoute _netlink = new();

    /// <summary>The table of the interface with index <paramref name="interfaceIndex"/>, named <paramref name="interfaceName"/> in messages.</summary>
    public NeighbourTable(int interfaceIndex, string interfaceName)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(interfaceIndex);
        InterfaceIndex = interfaceIndex;
        InterfaceName = interfaceName;
    }

    /// <summary>The interface whose neighbours are looked up.</summary>
    public int InterfaceIndex { get; }

    /// <summary>Its name, for messages.</summary>
    public string InterfaceName { get; }

    /// <summary>
    /// The MAC of <paramref name="address"/> (most significant byte first) when the kernel has a usable entry;
    /// otherwise false, with the entry's <paramref name="state"/> (<see cref="NeighbourState.None"/> for no entry).
    /// </summary>
    public bool TryLookup(uint address, out MacAddress mac, out NeighbourState state)
    {
        mac = default;
        try
        {
            if (!_netlink.TryGetNeighbour(InterfaceIndex, address, out ushort nud, out byte[] linkAddress))
            {
                state = NeighbourState.None;
                return false;
            }
            state = (NeighbourState)nud;
            if ((state & Usable) == 0 || linkAddress.Length != MacAddress.Length)
                return false;
            mac = new MacAddress(linkAddress);
            return true;
        }
        catch (NetlinkException e)
        {
            Throw.Errno(e.Call, e.Errno);
            throw;
        }
    }

    /// <summary>The MAC of <paramref name="address"/>; when unresolved, asks the kernel to resolve it (<see cref="Solicit"/>) and throws <see cref="NeighbourUnresolvedException"/>.</summary>
    public MacAddress Lookup(uint address)
    {
        if (TryLookup(address, out MacAddress mac, out NeighbourState state))
            return mac;
        if ((state & (NeighbourState.Incomplete | NeighbourState.Permanent)) == 0)
            Solicit(address);
        throw new NeighbourUnresolvedException(InterfaceName, Ipv4Address.ToIPAddress(address), state);
    }

    /// <inheritdoc cref="Lookup(uint)"/>
    public MacAddress Lookup(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
            Throw.Argument(nameof(address), $"address {address}", "only IPv4 neighbours are looked up.", "give an IPv4 address.");
        return Lookup(Ipv4Address.ToUInt32(address));
    }

    /// <summary>Has the kernel resolve <paramref name="address"/> (an ARP request), as it does before sending to it itself (RTM_NEWNEIGH with NTF_USE).</summary>
    public void Solicit(uint address)
    {
        try
        {
            _netlink.UseNeighbour(InterfaceIndex, address);
        }
        catch (NetlinkException e)
        {
            Throw.Errno(e.Call, e.Errno);
        }
    }

    /// <summary>Closes the netlink socket.</summary>
    public void Dispose() => _netlink.Dispose();
}
