using System.Buffers.Binary;

namespace AfXdp.Interop;

/// <summary>
/// The neighbour (ARP, and NDP for IPv6) requests: RTM_GETNEIGH for one IPv4 or IPv6 address, and RTM_NEWNEIGH with
/// NTF_USE to have the kernel resolve one; and RTM_GETADDR for an interface's IPv4 or IPv6 addresses.
/// </summary>
internal sealed partial class NetlinkRoute
{
    const ushort RTM_NEWNEIGH = 28;
    const ushort RTM_GETNEIGH = 30;
    const ushort RTM_NEWADDR = 20;
    const ushort RTM_GETADDR = 22;
    const ushort NLM_F_DUMP = 0x300;
    const int IfaddrmsgSize = 8;
    const ushort IFA_LOCAL = 2;
    const ushort NLM_F_CREATE = 0x400;
    const int NdmsgSize = 12;
    const byte AF_INET = 2;
    const byte AF_INET6 = 10;
    const ushort IFA_ADDRESS = 1;
    const byte NTF_USE = 0x01;
    const ushort NDA_DST = 1;
    const ushort NDA_LLADDR = 2;

    /// <summary>
    /// The kernel's entry for <paramref name="address"/> (4 bytes of IPv4 or 16 of IPv6, in network order) on <paramref name="ifindex"/>:
    /// its NUD state and link-layer address (empty when it has none). False when there is no entry (ENOENT).
    /// </summary>
    public bool TryGetNeighbour(int ifindex, ReadOnlySpan<byte> address, out ushort state, out byte[] linkAddress)
    {
        int length = StartNeighbourMessage(RTM_GETNEIGH, NLM_F_REQUEST, ifindex, 0, address);
        ushort foundState = 0;
        byte[] found = [];
        try
        {
            Exchange(length, $"RTM_GETNEIGH(ifindex {ifindex}, {new System.Net.IPAddress(address)})", (type, payload) =>
            {
                if (type != RTM_NEWNEIGH || payload.Length < NdmsgSize)
                    return;
                foundState = BinaryPrimitives.ReadUInt16LittleEndian(payload[8..]);
                found = ParseAttributes(payload[NdmsgSize..]).TryGetValue(NDA_LLADDR, out byte[]? mac) ? mac : [];
            });
        }
        catch (NetlinkException e) when (e.Errno == Errno.ENOENT)
        {
            (state, linkAddress) = (0, []);
            return false;
        }
        (state, linkAddress) = (foundState, found);
        return true;
    }

    /// <summary>Creates the entry if need be and lets the kernel resolve it (ARP), as if it had a packet to send there (NTF_USE).</summary>
    public void UseNeighbour(int ifindex, ReadOnlySpan<byte> address) =>
        Exchange(StartNeighbourMessage(RTM_NEWNEIGH, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE, ifindex, NTF_USE, address),
            $"RTM_NEWNEIGH(ifindex {ifindex}, {new System.Net.IPAddress(address)}, NTF_USE)", static (_, _) => { });

    /// <summary>The IPv4 addresses of <paramref name="ifindex"/> (most significant byte first) with their prefix lengths.</summary>
    public List<(uint Address, int PrefixLength)> GetIpv4Addresses(int ifindex)
    {
        int length = StartMessage(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, IfaddrmsgSize);
        Buffer[NlmsghdrSize] = AF_INET; // struct ifaddrmsg: family, prefixlen, flags, scope, index
        var addresses = new List<(uint, int)>();
        Exchange(length, $"RTM_GETADDR(ifindex {ifindex})", (type, payload) =>
        {
            if (type != RTM_NEWADDR || payload.Length < IfaddrmsgSize || BinaryPrimitives.ReadInt32LittleEndian(payload[4..]) != ifindex)
                return;
            if (ParseAttributes(payload[IfaddrmsgSize..]).TryGetValue(IFA_LOCAL, out byte[]? local) && local.Length == 4)
                addresses.Add((BinaryPrimitives.ReadUInt32BigEndian(local), payload[1]));
        });
        return addresses;
    }

    /// <summary>
    /// The IPv6 addresses of <paramref name="ifindex"/> (most significant byte first) with their prefix lengths.
    /// </summary>
    public List<(UInt128 Address, int PrefixLength)> GetIpv6Addresses(int ifindex)
    {
        int length = StartMessage(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, IfaddrmsgSize);
        Buffer[NlmsghdrSize] = AF_INET6;
        var addresses = new List<(UInt128, int)>();
        Exchange(length, $"RTM_GETADDR(AF_INET6, ifindex {ifindex})", (type, payload) =>
        {
            if (type != RTM_NEWADDR || payload.Length < IfaddrmsgSize || payload[0] != AF_INET6 || BinaryPrimitives.ReadInt32LittleEndian(payload[4..]) != ifindex)
                return;
            // IPv6 addresses come as IFA_ADDRESS; IFA_LOCAL only on point-to-point links, where IFA_ADDRESS is the peer's (if_addr.h).
            Dictionary<ushort, byte[]> attributes = ParseAttributes(payload[IfaddrmsgSize..]);
            if ((attributes.TryGetValue(IFA_LOCAL, out byte[]? address) || attributes.TryGetValue(IFA_ADDRESS, out address)) && address.Length == 16)
                addresses.Add((BinaryPrimitives.ReadUInt128BigEndian(address), payload[1]));
        });
        return addresses;
    }

    int StartNeighbourMessage(ushort type, ushort flags, int ifindex, byte ndmFlags, ReadOnlySpan<byte> address)
    {
        int length = StartMessage(type, flags, NdmsgSize);
        // struct ndmsg: family (u8), pad, pad (u16), ifindex (s32), state (u16), flags (u8), type (u8).
        Span<byte> ndmsg = Buffer.AsSpan(NlmsghdrSize, NdmsgSize);
        ndmsg[0] = address.Length == 16 ? AF_INET6 : AF_INET;
        BinaryPrimitives.WriteInt32LittleEndian(ndmsg[4..], ifindex);
        ndmsg[10] = ndmFlags;
        return PutAttribute(length, NDA_DST, address);
    }
}
