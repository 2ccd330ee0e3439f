using System.Buffers.Binary;
using System.Net.Sockets;

namespace AfXdp.Bpf;

/// <summary>What a steering program did with a frame: the index of its counter.</summary>
public enum SteeringVerdict
{
    /// <summary>The frame did not match the filter and passed to the kernel stack.</summary>
    NotMatched = 0,
    /// <summary>The frame matched and went to the AF_XDP socket of its queue.</summary>
    Redirected = 1,
    /// <summary>The frame matched, but no socket was registered for its queue: it passed to the kernel stack.</summary>
    NoSocket = 2,
}

/// <summary>Frames per verdict since the program was loaded, summed over all CPUs.</summary>
public readonly record struct SteeringCounters(ulong NotMatched, ulong Redirected, ulong NoSocket)
{
    /// <summary>Every frame the program saw.</summary>
    public ulong Total => NotMatched + Redirected + NoSocket;

    /// <summary>"redirected=N not_matched=N no_socket=N".</summary>
    public override string ToString() => $"redirected={Redirected} not_matched={NotMatched} no_socket={NoSocket}";
}

/// <summary>
/// Generates the steering program for a <see cref="PacketFilter"/>: it parses the frame (Ethernet,
/// one VLAN tag, ARP, IPv4 or IPv6, the UDP/TCP ports or the ICMP type) with a bounds check before every read, redirects
/// a matching frame to XSKMAP[its queue], passes the rest to the kernel (XDP_PASS), and counts each
/// verdict in a per-CPU array.
/// </summary>
public static class SteeringProgram
{
    /// <summary>The name `bpftool prog show` and `ip link` print.</summary>
    public const string ProgramName = "afxdp_steer";

    /// <summary>The per-CPU counters map: one u64 per <see cref="SteeringVerdict"/>.</summary>
    public const string CountersName = "afxdp_verdicts";

    /// <summary>Entries of the counters map, one per <see cref="SteeringVerdict"/>.</summary>
    public const uint CounterCount = 3;

    const int XDP_PASS = (int)XdpAction.Pass, XDP_REDIRECT = (int)XdpAction.Redirect;
    // RFC 826 for ARP over Ethernet and IPv4 (28 bytes); RFC 792 and 4443: every ICMP message starts with an 8-byte header.
    const int EthernetHeader = 14, VlanTag = 4, Ipv4Header = 20, Ipv6Header = 40, ArpHeader = 28, IcmpHeader = 8;
    const string Pass = "pass", Match = "match", Count = "count", Done = "done", Ipv4 = "ipv4", Transport = "transport";

    /// <summary>
    /// The program's instructions. Registers: r6 the context, r2 data, r3 data_end, r4 the header
    /// being looked at, r5 the end of the bytes about to be read, r0 the EtherType, r1 scratch;
    /// after the verdict r7 its counter index and r8 the XDP action.
    /// </summary>
    public static ProgramSpec Spec(PacketFilter filter, IBpfMapReference xskMap, IBpfMapReference counters)
    {
        ArgumentNullException.ThrowIfNull(filter);
        return Spec([filter], xskMap, counters);
    }

    /// <summary>
    /// The program for several filters: a frame that matches any of them is redirected. Each filter is
    /// tried in turn from the Ethernet header on (r2 and r3 survive a mismatch), so the cost grows with
    /// the number of filters a frame fails before it matches. <paramref name="name"/> is what `bpftool prog show`
    /// prints, so that an application's program (e.g. echo's) is told apart from a plain steering program.
    /// </summary>
    public static ProgramSpec Spec(IReadOnlyList<PacketFilter> anyOf, IBpfMapReference xskMap, IBpfMapReference counters, string name = ProgramName)
    {
        ArgumentNullException.ThrowIfNull(anyOf);
        if (anyOf.Count == 0)
            Throw.Config("SteeringProgram.Spec(no filters)", "a steering program needs at least one filter.", "give one filter per kind of frame to redirect.");
        var asm = new Asm()
            .Mov64(Reg.R6, Reg.R1)
            .Load(Size.W, Reg.R2, Reg.R6, XdpMd.Data)
            .Load(Size.W, Reg.R3, Reg.R6, XdpMd.DataEnd);
        for (int i = 0; i < anyOf.Count; i++)
        {
            ArgumentNullException.ThrowIfNull(anyOf[i]);
            bool last = i == anyOf.Count - 1;
            string prefix = anyOf.Count == 1 ? "" : $"f{i}_";
            new FilterEmitter(asm, anyOf[i], prefix, mismatch: last ? Pass : $"f{i + 1}_start").Emit(first: i == 0, last);
        }

        asm.Label(Match)
            .RedirectToQueueSocket(Reg.R6, xskMap)
            .Mov64(Reg.R8, Reg.R0)
            .Mov64(Reg.R7, (int)SteeringVerdict.Redirected)
            .JumpIf(JumpOp.Eq, Reg.R0, XDP_REDIRECT, Count)
            .Mov64(Reg.R7, (int)SteeringVerdict.NoSocket)
            .Jump(Count)
            .Label(Pass)
            .Mov64(Reg.R8, XDP_PASS)
            .Mov64(Reg.R7, (int)SteeringVerdict.NotMatched)
            .Label(Count)
            .Store(Size.W, Reg.R10, -4, Reg.R7)
            .Mov64(Reg.R2, Reg.R10)
            .Alu64(AluOp.Add, Reg.R2, -4)
            .LoadMap(Reg.R1, counters)
            .Call(Helper.MapLookupElem)
            .JumpIf(JumpOp.Eq, Reg.R0, 0, Done)
            // This CPU's own copy: a plain increment is enough.
            .Load(Size.DW, Reg.R1, Reg.R0, 0)
            .Alu64(AluOp.Add, Reg.R1, 1)
            .Store(Size.DW, Reg.R0, 0, Reg.R1)
            .Label(Done)
            .Mov64(Reg.R0, Reg.R8)
            .Exit();
        return ProgramSpec.FromAsm(name, asm);
    }

    /// <summary>The code of one filter: falls through to <see cref="Match"/> when the frame matches, jumps to <c>mismatch</c> when not.</summary>
    readonly struct FilterEmitter(Asm asm, PacketFilter filter, string prefix, string mismatch)
    {
        public void Emit(bool first, bool last)
        {
            if (filter.PlainIpv4 && filter.EtherType != PacketFilter.EtherTypeIpv4)
                Throw.Config($"filter {filter}", "PlainIpv4 describes IPv4 headers, but the filter does not ask for EtherType IPv4.", "set EtherType = PacketFilter.EtherTypeIpv4 too (the text form \"ip plain\" does).");
            bool arp = filter.EtherType == PacketFilter.EtherTypeArp;
            if (filter.ArpOperation is not null && !arp || arp && filter.Destination is { AddressFamily: not AddressFamily.InterNetwork })
                Throw.Config($"filter {filter}", "ArpOperation and an ARP target need EtherType ARP, and an ARP target is an IPv4 address.", "set EtherType = PacketFilter.EtherTypeArp and an IPv4 Destination (the text forms \"arp op request\", \"arp dst ADDR\" do).");
            if (filter.IcmpType is not null && !(filter.EtherType == PacketFilter.EtherTypeIpv4 && filter.Protocol == PacketFilter.ProtocolIcmp
                || filter.EtherType == PacketFilter.EtherTypeIpv6 && filter.Protocol == PacketFilter.ProtocolIcmpv6))
                Throw.Config($"filter {filter}", "IcmpType needs ICMP over IPv4 or ICMPv6 over IPv6.", "set EtherType and Protocol to match (the text forms \"icmp type N\", \"icmp6 type N\" do).");
            if (!first)
                asm.Label(prefix + "start");
            asm.Mov64(Reg.R4, Reg.R2)
                .Alu64(AluOp.Add, Reg.R4, EthernetHeader)
                .JumpIf(JumpOp.Gt, Reg.R4, Reg.R3, mismatch)
                .Load(Size.H, Reg.R0, Reg.R2, 12);
            if (filter.Vlan)
                EmitVlan();

            string next = ReadsTransport ? prefix + Transport : Match;
            if (filter.InspectsIpv4 && filter.InspectsIpv6)
            {
                asm.JumpIf(JumpOp.Eq, Reg.R0, Network(PacketFilter.EtherTypeIpv4), prefix + Ipv4)
                    .JumpIf(JumpOp.Ne, Reg.R0, Network(PacketFilter.EtherTypeIpv6), mismatch);
                EmitIpv6(next);
                asm.Label(prefix + Ipv4);
                EmitIpv4(next);
            }
            else if (filter.InspectsIpv4)
            {
                asm.JumpIf(JumpOp.Ne, Reg.R0, Network(PacketFilter.EtherTypeIpv4), mismatch);
                EmitIpv4(next);
            }
            else if (filter.InspectsIpv6)
            {
                asm.JumpIf(JumpOp.Ne, Reg.R0, Network(PacketFilter.EtherTypeIpv6), mismatch);
                EmitIpv6(next);
            }
            else if (filter.EtherType is { } type)
            {
                asm.JumpIf(JumpOp.Ne, Reg.R0, Network(type), mismatch);
                if (arp)
                    EmitArp();
            }

            if (ReadsTransport)
                EmitTransport();
            if (!last)
                asm.Jump(Match);
        }

        void EmitVlan()
        {
            asm.JumpIf(JumpOp.Eq, Reg.R0, Network(0x8100), prefix + "tagged") // 802.1Q
                .JumpIf(JumpOp.Ne, Reg.R0, Network(0x88a8), mismatch)         // 802.1ad
                .Label(prefix + "tagged");
            NeedBytes(VlanTag);
            if (filter.VlanId is { } id)
                asm.Load(Size.H, Reg.R1, Reg.R4, 0)
                    .ToBigEndian(Reg.R1, 16)
                    .Alu64(AluOp.And, Reg.R1, 0x0fff) // TCI: priority 3 bits, DEI 1 bit, VLAN id 12 bits
                    .JumpIf(JumpOp.Ne, Reg.R1, id, mismatch);
            asm.Load(Size.H, Reg.R0, Reg.R4, 2)
                .Alu64(AluOp.Add, Reg.R4, VlanTag);
        }

        /// <summary>The filter looks past the IP header: at the UDP/TCP ports or the ICMP type.</summary>
        bool ReadsTransport => filter.DestinationPort is not null || filter.IcmpType is not null;

        void EmitArp()
        {
            if (filter.ArpOperation is null && filter.Destination is null)
                return;
            NeedBytes(ArpHeader);
            if (filter.ArpOperation is { } operation)
                asm.Load(Size.H, Reg.R1, Reg.R4, 6).JumpIf(JumpOp.Ne, Reg.R1, Network(operation), mismatch);
            if (filter.Destination is { } target)
                asm.Load(Size.W, Reg.R1, Reg.R4, 24) // the target protocol address
                    .JumpIf32(JumpOp.Ne, Reg.R1, BinaryPrimitives.ReadInt32LittleEndian(target.GetAddressBytes()), mismatch);
        }

        void EmitIpv4(string next)
        {
            NeedBytes(Ipv4Header);
            if (filter.PlainIpv4)
                asm.Load(Size.B, Reg.R1, Reg.R4, 0)
                    .JumpIf(JumpOp.Ne, Reg.R1, 0x45, mismatch)                     // version 4, IHL 5: no options
                    .Load(Size.H, Reg.R1, Reg.R4, 6)
                    .JumpIf(JumpOp.Set, Reg.R1, Network(0x3fff), mismatch);        // more-fragments flag or an offset: a fragment
            if (filter.Destination is { AddressFamily: AddressFamily.InterNetwork } destination)
                asm.Load(Size.W, Reg.R1, Reg.R4, 16)
                    .JumpIf32(JumpOp.Ne, Reg.R1, BinaryPrimitives.ReadInt32LittleEndian(destination.GetAddressBytes()), mismatch);
            if (filter.Protocol is { } protocol)
                asm.Load(Size.B, Reg.R1, Reg.R4, 9).JumpIf(JumpOp.Ne, Reg.R1, protocol, mismatch);
            if (ReadsTransport && filter.PlainIpv4)
                asm.Alu64(AluOp.Add, Reg.R4, Ipv4Header);
            else if (ReadsTransport)
                asm.Load(Size.H, Reg.R1, Reg.R4, 6)
                    .Alu64(AluOp.And, Reg.R1, Network(0x1fff)) // a later fragment carries no UDP/TCP/ICMP header
                    .JumpIf(JumpOp.Ne, Reg.R1, 0, mismatch)
                    .Load(Size.B, Reg.R1, Reg.R4, 0)
                    .Alu64(AluOp.And, Reg.R1, 0x0f)           // IHL, in 4-byte words
                    .Alu64(AluOp.Lsh, Reg.R1, 2)
                    .JumpIf(JumpOp.Lt, Reg.R1, Ipv4Header, mismatch)
                    .Alu64(AluOp.Add, Reg.R4, Reg.R1);
            asm.Jump(next);
        }

        void EmitIpv6(string next)
        {
            NeedBytes(Ipv6Header);
            if (filter.Destination is { AddressFamily: AddressFamily.InterNetworkV6 } destination)
            {
                byte[] address = destination.GetAddressBytes();
                for (int word = 0; word < 4; word++)
                    asm.Load(Size.W, Reg.R1, Reg.R4, (short)(24 + 4 * word))
                        .JumpIf32(JumpOp.Ne, Reg.R1, BinaryPrimitives.ReadInt32LittleEndian(address.AsSpan(4 * word)), mismatch);
            }
            if (filter.Protocol is { } protocol)
                asm.Load(Size.B, Reg.R1, Reg.R4, 6).JumpIf(JumpOp.Ne, Reg.R1, protocol, mismatch);
            if (ReadsTransport)
                asm.Alu64(AluOp.Add, Reg.R4, Ipv6Header);
            asm.Jump(next);
        }

        void EmitTransport()
        {
            asm.Label(prefix + Transport);
            if (filter.DestinationPort is { } range)
            {
                NeedBytes(4); // source and destination port, the same place in UDP and TCP
                asm.Load(Size.H, Reg.R1, Reg.R4, 2).ToBigEndian(Reg.R1, 16);
                if (range.First == range.Last)
                    asm.JumpIf(JumpOp.Ne, Reg.R1, range.First, mismatch);
                else
                    asm.JumpIf(JumpOp.Lt, Reg.R1, range.First, mismatch).JumpIf(JumpOp.Gt, Reg.R1, range.Last, mismatch);
            }
            if (filter.IcmpType is { } type)
            {
                NeedBytes(IcmpHeader);
                asm.Load(Size.B, Reg.R1, Reg.R4, 0).JumpIf(JumpOp.Ne, Reg.R1, type, mismatch);
            }
        }

        /// <summary>Gives up on the frame unless <paramref name="count"/> bytes from r4 are inside it (the verifier insists).</summary>
        void NeedBytes(int count) =>
            asm.Mov64(Reg.R5, Reg.R4).Alu64(AluOp.Add, Reg.R5, count).JumpIf(JumpOp.Gt, Reg.R5, Reg.R3, mismatch);
    }

    /// <summary>A 16-bit field as a little-endian load of its network-order bytes reads it.</summary>
    static int Network(ushort value) => BinaryPrimitives.ReverseEndianness(value);
}
