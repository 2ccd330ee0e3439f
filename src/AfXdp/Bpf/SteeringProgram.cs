using System.Buffers.Binary;
using System.Net.Sockets;
using static AfXdp.Bpf.Register;

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
            Throw.Argument(nameof(anyOf), "SteeringProgram.Spec(no filters)", "a steering program needs at least one filter.", "give one filter per kind of frame to redirect.");
        var asm = new Assembler()
            .Mov64(R6, R1)
            .Load(AccessSize.Word, R2, R6, XdpMd.Data)
            .Load(AccessSize.Word, R3, R6, XdpMd.DataEnd);
        for (int i = 0; i < anyOf.Count; i++)
        {
            ArgumentNullException.ThrowIfNull(anyOf[i]);
            bool last = i == anyOf.Count - 1;
            string prefix = anyOf.Count == 1 ? "" : $"f{i}_";
            new FilterEmitter(asm, anyOf[i], prefix, mismatch: last ? Pass : $"f{i + 1}_start").Emit(first: i == 0, last);
        }

        asm.Label(Match)
            .RedirectToQueueSocket(R6, xskMap)
            .Mov64(R8, R0)
            .Mov64(R7, (int)SteeringVerdict.Redirected)
            .JumpIf(JumpCondition.Equal, R0, XDP_REDIRECT, Count)
            .Mov64(R7, (int)SteeringVerdict.NoSocket)
            .Jump(Count)
            .Label(Pass)
            .Mov64(R8, XDP_PASS)
            .Mov64(R7, (int)SteeringVerdict.NotMatched)
            .Label(Count)
            .Store(AccessSize.Word, R10, -4, R7)
            .Mov64(R2, R10)
            .Alu64(AluOperation.Add, R2, -4)
            .LoadMap(R1, counters)
            .Call(BpfHelper.MapLookupElem)
            .JumpIf(JumpCondition.Equal, R0, 0, Done)
            // This CPU's own copy: a plain increment is enough.
            .Load(AccessSize.DoubleWord, R1, R0, 0)
            .Alu64(AluOperation.Add, R1, 1)
            .Store(AccessSize.DoubleWord, R0, 0, R1)
            .Label(Done)
            .Mov64(R0, R8)
            .Exit();
        return ProgramSpec.FromAssembler(name, asm);
    }

    /// <summary>The code of one filter: falls through to <see cref="Match"/> when the frame matches, jumps to <c>mismatch</c> when not.</summary>
    readonly struct FilterEmitter(Assembler asm, PacketFilter filter, string prefix, string mismatch)
    {
        public void Emit(bool first, bool last)
        {
            if (filter.PlainIpv4 && filter.EtherType != PacketFilter.EtherTypeIpv4)
                Throw.Argument("anyOf", $"filter {filter}", "PlainIpv4 describes IPv4 headers, but the filter does not ask for EtherType IPv4.", "set EtherType = PacketFilter.EtherTypeIpv4 too (the text form \"ip plain\" does).");
            bool arp = filter.EtherType == PacketFilter.EtherTypeArp;
            if (filter.ArpOperation is not null && !arp || arp && filter.Destination is { AddressFamily: not AddressFamily.InterNetwork })
                Throw.Argument("anyOf", $"filter {filter}", "ArpOperation and an ARP target need EtherType ARP, and an ARP target is an IPv4 address.", "set EtherType = PacketFilter.EtherTypeArp and an IPv4 Destination (the text forms \"arp op request\", \"arp dst ADDR\" do).");
            if (filter.IcmpType is not null && !(filter.EtherType == PacketFilter.EtherTypeIpv4 && filter.Protocol == PacketFilter.ProtocolIcmp
                || filter.EtherType == PacketFilter.EtherTypeIpv6 && filter.Protocol == PacketFilter.ProtocolIcmpv6))
                Throw.Argument("anyOf", $"filter {filter}", "IcmpType needs ICMP over IPv4 or ICMPv6 over IPv6.", "set EtherType and Protocol to match (the text forms \"icmp type N\", \"icmp6 type N\" do).");
            if (!first)
                asm.Label(prefix + "start");
            asm.Mov64(R4, R2)
                .Alu64(AluOperation.Add, R4, EthernetHeader)
                .JumpIf(JumpCondition.GreaterThan, R4, R3, mismatch)
                .Load(AccessSize.HalfWord, R0, R2, 12);
            if (filter.Vlan)
                EmitVlan();

            string next = ReadsTransport ? prefix + Transport : Match;
            if (filter.InspectsIpv4 && filter.InspectsIpv6)
            {
                asm.JumpIf(JumpCondition.Equal, R0, Network(PacketFilter.EtherTypeIpv4), prefix + Ipv4)
                    .JumpIf(JumpCondition.NotEqual, R0, Network(PacketFilter.EtherTypeIpv6), mismatch);
                EmitIpv6(next);
                asm.Label(prefix + Ipv4);
                EmitIpv4(next);
            }
            else if (filter.InspectsIpv4)
            {
                asm.JumpIf(JumpCondition.NotEqual, R0, Network(PacketFilter.EtherTypeIpv4), mismatch);
                EmitIpv4(next);
            }
            else if (filter.InspectsIpv6)
            {
                asm.JumpIf(JumpCondition.NotEqual, R0, Network(PacketFilter.EtherTypeIpv6), mismatch);
                EmitIpv6(next);
            }
            else if (filter.EtherType is { } type)
            {
                asm.JumpIf(JumpCondition.NotEqual, R0, Network(type), mismatch);
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
            asm.JumpIf(JumpCondition.Equal, R0, Network(0x8100), prefix + "tagged") // 802.1Q
                .JumpIf(JumpCondition.NotEqual, R0, Network(0x88a8), mismatch)         // 802.1ad
                .Label(prefix + "tagged");
            NeedBytes(VlanTag);
            if (filter.VlanId is { } id)
                asm.Load(AccessSize.HalfWord, R1, R4, 0)
                    .ToBigEndian(R1, 16)
                    .Alu64(AluOperation.And, R1, 0x0fff) // TCI: priority 3 bits, DEI 1 bit, VLAN id 12 bits
                    .JumpIf(JumpCondition.NotEqual, R1, id, mismatch);
            asm.Load(AccessSize.HalfWord, R0, R4, 2)
                .Alu64(AluOperation.Add, R4, VlanTag);
        }

        /// <summary>The filter looks past the IP header: at the UDP/TCP ports or the ICMP type.</summary>
        bool ReadsTransport => filter.DestinationPort is not null || filter.IcmpType is not null;

        void EmitArp()
        {
            if (filter.ArpOperation is null && filter.Destination is null)
                return;
            NeedBytes(ArpHeader);
            if (filter.ArpOperation is { } operation)
                asm.Load(AccessSize.HalfWord, R1, R4, 6).JumpIf(JumpCondition.NotEqual, R1, Network(operation), mismatch);
            if (filter.Destination is { } target)
                asm.Load(AccessSize.Word, R1, R4, 24) // the target protocol address
                    .JumpIf32(JumpCondition.NotEqual, R1, BinaryPrimitives.ReadInt32LittleEndian(target.GetAddressBytes()), mismatch);
        }

        void EmitIpv4(string next)
        {
            NeedBytes(Ipv4Header);
            if (filter.PlainIpv4)
                asm.Load(AccessSize.Byte, R1, R4, 0)
                    .JumpIf(JumpCondition.NotEqual, R1, 0x45, mismatch)                     // version 4, IHL 5: no options
                    .Load(AccessSize.HalfWord, R1, R4, 6)
                    .JumpIf(JumpCondition.AnyBitSet, R1, Network(0x3fff), mismatch);        // more-fragments flag or an offset: a fragment
            if (filter.Destination is { AddressFamily: AddressFamily.InterNetwork } destination)
                asm.Load(AccessSize.Word, R1, R4, 16)
                    .JumpIf32(JumpCondition.NotEqual, R1, BinaryPrimitives.ReadInt32LittleEndian(destination.GetAddressBytes()), mismatch);
            if (filter.Protocol is { } protocol)
                asm.Load(AccessSize.Byte, R1, R4, 9).JumpIf(JumpCondition.NotEqual, R1, protocol, mismatch);
            if (ReadsTransport && filter.PlainIpv4)
                asm.Alu64(AluOperation.Add, R4, Ipv4Header);
            else if (ReadsTransport)
                asm.Load(AccessSize.HalfWord, R1, R4, 6)
                    .Alu64(AluOperation.And, R1, Network(0x1fff)) // a later fragment carries no UDP/TCP/ICMP header
                    .JumpIf(JumpCondition.NotEqual, R1, 0, mismatch)
                    .Load(AccessSize.Byte, R1, R4, 0)
                    .Alu64(AluOperation.And, R1, 0x0f)           // IHL, in 4-byte words
                    .Alu64(AluOperation.ShiftLeft, R1, 2)
                    .JumpIf(JumpCondition.LessThan, R1, Ipv4Header, mismatch)
                    .Alu64(AluOperation.Add, R4, R1);
            asm.Jump(next);
        }

        void EmitIpv6(string next)
        {
            NeedBytes(Ipv6Header);
            if (filter.Destination is { AddressFamily: AddressFamily.InterNetworkV6 } destination)
            {
                byte[] address = destination.GetAddressBytes();
                for (int word = 0; word < 4; word++)
                    asm.Load(AccessSize.Word, R1, R4, (short)(24 + 4 * word))
                        .JumpIf32(JumpCondition.NotEqual, R1, BinaryPrimitives.ReadInt32LittleEndian(address.AsSpan(4 * word)), mismatch);
            }
            if (filter.Protocol is { } protocol)
                asm.Load(AccessSize.Byte, R1, R4, 6).JumpIf(JumpCondition.NotEqual, R1, protocol, mismatch);
            if (ReadsTransport)
                asm.Alu64(AluOperation.Add, R4, Ipv6Header);
            asm.Jump(next);
        }

        void EmitTransport()
        {
            asm.Label(prefix + Transport);
            if (filter.DestinationPort is { } range)
            {
                NeedBytes(4); // source and destination port, the same place in UDP and TCP
                asm.Load(AccessSize.HalfWord, R1, R4, 2).ToBigEndian(R1, 16);
                if (range.First == range.Last)
                    asm.JumpIf(JumpCondition.NotEqual, R1, range.First, mismatch);
                else
                    asm.JumpIf(JumpCondition.LessThan, R1, range.First, mismatch).JumpIf(JumpCondition.GreaterThan, R1, range.Last, mismatch);
            }
            if (filter.IcmpType is { } type)
            {
                NeedBytes(IcmpHeader);
                asm.Load(AccessSize.Byte, R1, R4, 0).JumpIf(JumpCondition.NotEqual, R1, type, mismatch);
            }
        }

        /// <summary>Gives up on the frame unless <paramref name="count"/> bytes from r4 are inside it (the verifier insists).</summary>
        void NeedBytes(int count) =>
            asm.Mov64(R5, R4).Alu64(AluOperation.Add, R5, count).JumpIf(JumpCondition.GreaterThan, R5, R3, mismatch);
    }

    /// <summary>A 16-bit field as a little-endian load of its network-order bytes reads it.</summary>
    static int Network(ushort value) => BinaryPrimitives.ReverseEndianness(value);
}
