using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace AfXdp.Bpf;

/// <summary>An inclusive range of port numbers; one port when <see cref="First"/> equals <see cref="Last"/>.</summary>
public readonly record struct PortRange(ushort First, ushort Last)
{
    /// <summary>"9" for one port, "8000-8100" for a range, as the grammar writes it.</summary>
    public override string ToString() => First == Last ? First.ToString(CultureInfo.InvariantCulture) : $"{First}-{Last}";
}

/// <summary>
/// Which frames a steering program (<see cref="SteeringProgram"/>) redirects to the AF_XDP socket;
/// every other frame passes to the kernel stack. All clauses must hold. The grammar, a small
/// subset of tcpdump's:
/// <code>
/// filter = clause { "and" clause }
/// clause = "vlan" [ID]                          an 802.1Q or 802.1ad tag (the outer one), VLAN id 0-4095
///        | "ether" "proto" TYPE                 EtherType: 0x88b5, 2048, arp, ip or ip6
///        | "arp" ["dst" IPV4 | "op" OP]              ARP (RFC 826): the target protocol address; the operation, request, reply or a number
///        | "ip" ["dst" IPV4] | "ip6" ["dst" IPV6]
///        | "ip" "plain"                         IPv4 without options (IHL 5) that is not a fragment (MF 0, offset 0)
///        | ("ip" | "ip6") "proto" PROTO         IP protocol: a number, udp, tcp, icmp or icmp6
///        | ("udp" | "tcp") ["dst" "port" PORT["-"PORT]]
///        | ("icmp" | "icmp6") ["type" TYPE]      the ICMP type: a number, or echo-request (8; ICMPv6 128)
/// </code>
/// Examples: "udp dst port 4791", "tcp dst port 8000-8100", "ip dst 10.99.0.2 and udp",
/// "ip6 dst fd00::2", "vlan 100 and udp dst port 9", "ether proto 0x88b5", "arp op request and arp dst 10.99.0.2",
/// "icmp type echo-request". Without "vlan",
/// tagged frames do not match. "udp" and "tcp" alone match over IPv4 and IPv6. IPv6 extension
/// headers are not followed (such frames pass), nor are later IPv4 fragments matched by port.
/// "ip plain" leaves fragments and IPv4 options to the kernel, which reassembles and interprets them:
/// what a UDP service that reads headers at fixed offsets wants ("ip dst 10.0.0.2 and ip plain and udp dst port 53").
/// </summary>
public sealed record PacketFilter
{
    /// <summary>The EtherType of IPv4, which "ip" matches.</summary>
    public const ushort EtherTypeIpv4 = 0x0800;
    /// <summary>The EtherType of IPv6, which "ip6" matches.</summary>
    public const ushort EtherTypeIpv6 = 0x86dd;
    /// <summary>The EtherType of ARP, which "arp" matches.</summary>
    public const ushort EtherTypeArp = 0x0806;
    /// <summary>IP protocol number of ICMP.</summary>
    public const byte ProtocolIcmp = 1;
    /// <summary>IP protocol number of TCP.</summary>
    public const byte ProtocolTcp = 6;
    /// <summary>IP protocol number of UDP.</summary>
    public const byte ProtocolUdp = 17;
    /// <summary>IP protocol number of ICMPv6.</summary>
    public const byte ProtocolIcmpv6 = 58;
    /// <summary>The ARP operation of a request (RFC 826), which "arp op request" matches.</summary>
    public const ushort ArpRequest = 1;
    /// <summary>The ARP operation of a reply (RFC 826), which "arp op reply" matches.</summary>
    public const ushort ArpReply = 2;
    /// <summary>The ICMP type of an echo request (RFC 792), which "icmp type echo-request" matches.</summary>
    public const byte IcmpEchoRequest = 8;
    /// <summary>The ICMPv6 type of an echo request (RFC 4443), which "icmp6 type echo-request" matches.</summary>
    public const byte Icmpv6EchoRequest = 128;

    /// <summary>The frame must carry a VLAN tag.</summary>
    public bool Vlan { get; init; }

    /// <summary>The tag's VLAN id (with <see cref="Vlan"/>); null for any.</summary>
    public ushort? VlanId { get; init; }

    /// <summary>The EtherType (after the VLAN tag, if any); null for any.</summary>
    public ushort? EtherType { get; init; }

    /// <summary>The destination IPv4 or IPv6 address (with EtherType ARP: the target protocol address, IPv4); null for any.</summary>
    public IPAddress? Destination { get; init; }

    /// <summary>IPv4 only, and only headers without options (IHL 5) of datagrams that are not fragmented (MF 0, offset 0).</summary>
    public bool PlainIpv4 { get; init; }

    /// <summary>The IP protocol (IPv6: next header); null for any.</summary>
    public byte? Protocol { get; init; }

    /// <summary>The UDP or TCP destination port(s); null for any.</summary>
    public PortRange? DestinationPort { get; init; }

    /// <summary>The ARP operation (with EtherType ARP), e.g. <see cref="ArpRequest"/>; null for any.</summary>
    public ushort? ArpOperation { get; init; }

    /// <summary>The ICMP or ICMPv6 type (with that protocol), e.g. <see cref="IcmpEchoRequest"/>; null for any.</summary>
    public byte? IcmpType { get; init; }

    /// <summary>IPv4 headers are inspected: the filter asks for IPv4, or for an IP protocol without saying which IP.</summary>
    public bool InspectsIpv4 => EtherType == EtherTypeIpv4 || (EtherType is null && Protocol is not null);

    /// <summary>IPv6 headers are inspected (see <see cref="InspectsIpv4"/>).</summary>
    public bool InspectsIpv6 => EtherType == EtherTypeIpv6 || (EtherType is null && Protocol is not null);

    /// <summary>The canonical text, which <see cref="Parse"/> reads back to an equal filter.</summary>
    public override string ToString()
    {
        var clauses = new List<string>();
        if (Vlan)
            clauses.Add(VlanId is { } id ? $"vlan {id}" : "vlan");
        string ip = EtherType == EtherTypeIpv6 ? "ip6" : "ip";
        switch (EtherType)
        {
            case EtherTypeIpv4 or EtherTypeIpv6:
                if (Destination is not null || !PlainIpv4)
                    clauses.Add(Destination is null ? ip : $"{ip} dst {Destination}");
                if (PlainIpv4)
                    clauses.Add("ip plain");
                break;
            case EtherTypeArp:
                if (Destination is null && ArpOperation is null)
                    clauses.Add("arp");
                if (Destination is not null)
                    clauses.Add($"arp dst {Destination}");
                if (ArpOperation is { } operation)
                    clauses.Add(operation switch { ArpRequest => "arp op request", ArpReply => "arp op reply", _ => $"arp op {operation}" });
                break;
            case { } other:
                clauses.Add($"ether proto 0x{other:x4}");
                break;
        }
        if (Protocol is { } protocol)
        {
            string? name = protocol switch
            {
                ProtocolUdp => "udp",
                ProtocolTcp => "tcp",
                ProtocolIcmp when EtherType == EtherTypeIpv4 => "icmp",
                ProtocolIcmpv6 when EtherType == EtherTypeIpv6 => "icmp6",
                _ => null,
            };
            clauses.Add(name is null ? $"{ip} proto {protocol}"
                : DestinationPort is { } port ? $"{name} dst port {port}"
                : IcmpType is { } type ? $"{name} type {(type == (protocol == ProtocolIcmp ? IcmpEchoRequest : Icmpv6EchoRequest) ? "echo-request" : type)}"
                : name);
        }
        return string.Join(" and ", clauses);
    }

    /// <summary>Parses the filter grammar above; a mistake is an <see cref="ArgumentException"/> naming the word and what was expected.</summary>
    public static PacketFilter Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return new Parser(text).Parse();
    }

    /// <summary>Like <see cref="Parse"/>, with the mistake as <paramref name="error"/> instead of an exception.</summary>
    public static bool TryParse(string text, out PacketFilter? filter, out string error)
    {
        try
        {
            filter = Parse(text);
            error = "";
            return true;
        }
        catch (SyntaxException e)
        {
            filter = null;
            error = e.Cause;
            return false;
        }
    }

    sealed class Parser(string text)
    {
        internal const string Grammar = "write clauses joined by \"and\": vlan [ID] | ether proto TYPE | arp [dst ADDR | op request|reply|N] | ip [dst ADDR] | ip plain | ip6 [dst ADDR] | ip proto N | " +
            "udp|tcp [dst port N[-M]] | icmp|icmp6 [type echo-request|N], e.g. \"udp dst port 4791\" or \"vlan 100 and ip dst 10.0.0.2 and tcp dst port 8000-8100\".";

        readonly string[] _words = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        int _next;
        PacketFilter _filter = new();

        public PacketFilter Parse()
        {
            if (_words.Length == 0)
                Fail("the filter is empty.");
            while (true)
            {
                Clause();
                if (_next == _words.Length)
                    break;
                if (!Word().Equals("and", StringComparison.OrdinalIgnoreCase))
                    Fail($"expected \"and\" or the end after a clause, found '{_words[_next - 1]}' (word {_next}).");
            }
            if (_filter.EtherType is { } type && type != EtherTypeIpv4 && type != EtherTypeIpv6 && (_filter.Protocol is not null || (_filter.Destination is not null && type != EtherTypeArp)))
                Fail($"IP clauses need EtherType IPv4 or IPv6, but the filter asks for EtherType 0x{type:x4}.");
            return _filter;
        }

        void Clause()
        {
            string keyword = Word().ToLowerInvariant();
            switch (keyword)
            {
                case "vlan":
                    _filter = _filter with { Vlan = true };
                    if (_next < _words.Length && char.IsAsciiDigit(_words[_next][0]))
                        SetVlanId(Number(Word(), 4095, "a VLAN id"));
                    break;
                case "ether":
                    Expect("proto");
                    SetEtherType(EtherTypeOf(Word()));
                    break;
                case "arp":
                    SetEtherType(EtherTypeArp);
                    if (TryWord("dst"))
                        SetDestination(Address(Word(), AddressFamily.InterNetwork, arp: true));
                    else if (TryWord("op"))
                        SetArpOperation(Word() is var op && op.Equals("request", StringComparison.OrdinalIgnoreCase) ? ArpRequest
                            : op.Equals("reply", StringComparison.OrdinalIgnoreCase) ? ArpReply : Number(op, 0xffff, "an ARP operation: request, reply or a number"));
                    break;
                case "ip" or "ip6":
                    SetEtherType(keyword == "ip" ? EtherTypeIpv4 : EtherTypeIpv6);
                    if (TryWord("dst"))
                        SetDestination(Address(Word(), keyword == "ip" ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6));
                    else if (keyword == "ip" && TryWord("plain"))
                        _filter = _filter with { PlainIpv4 = true };
                    else if (TryWord("proto"))
                        SetProtocol(ProtocolOf(Word()));
                    break;
                case "udp" or "tcp":
                    SetProtocol(keyword == "udp" ? ProtocolUdp : ProtocolTcp);
                    if (TryWord("dst"))
                    {
                        Expect("port");
                        SetPorts(Ports(Word()));
                    }
                    else if (TryWord("port") || TryWord("src"))
                        Fail($"only destination ports can be matched: write \"{keyword} dst port N\".");
                    break;
                case "icmp" or "icmp6":
                    SetEtherType(keyword == "icmp" ? EtherTypeIpv4 : EtherTypeIpv6);
                    SetProtocol(keyword == "icmp" ? ProtocolIcmp : ProtocolIcmpv6);
                    if (TryWord("type"))
                        SetIcmpType(Word() is var type && type.Equals("echo-request", StringComparison.OrdinalIgnoreCase)
                            ? keyword == "icmp" ? IcmpEchoRequest : Icmpv6EchoRequest
                            : (byte)Number(type, 255, "an ICMP type: echo-request or a number"));
                    break;
                case "src":
                    Fail("only destinations can be matched (dst port, ip dst), not sources.");
                    break;
                default:
                    Fail($"'{_words[_next - 1]}' (word {_next}) is not a clause.");
                    break;
            }
        }

        string Word()
        {
            if (_next == _words.Length)
                Fail($"the filter ends after '{_words[^1]}', where more was expected.");
            return _words[_next++];
        }

        bool TryWord(string word)
        {
            if (_next < _words.Length && _words[_next].Equals(word, StringComparison.OrdinalIgnoreCase))
            {
                _next++;
                return true;
            }
            return false;
        }

        void Expect(string word)
        {
            string found = Word();
            if (!found.Equals(word, StringComparison.OrdinalIgnoreCase))
                Fail($"expected \"{word}\" after '{_words[_next - 2]}', found '{found}' (word {_next}).");
        }

        ushort Number(string word, int max, string what)
        {
            bool hex = word.StartsWith("0x", StringComparison.OrdinalIgnoreCase);
            if (!int.TryParse(hex ? word[2..] : word, hex ? NumberStyles.AllowHexSpecifier : NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value > max)
                Fail($"'{word}' (word {_next}) is not {what} (0 to {max}).");
            return (ushort)value;
        }

        ushort EtherTypeOf(string word)
        {
            switch (word.ToLowerInvariant())
            {
                case "ip": return EtherTypeIpv4;
                case "ip6": return EtherTypeIpv6;
                case "arp": return EtherTypeArp;
            }
            ushort type = Number(word, 0xffff, "an EtherType");
            if (type is 0x8100 or 0x88a8)
                Fail($"0x{type:x4} is a VLAN tag, not the payload's EtherType: write \"vlan\" (or \"vlan ID\").");
            if (type < 0x0600)
                Fail($"{word} is below 0x0600: an 802.3 length, not an EtherType.");
            return type;
        }

        byte ProtocolOf(string word) => word.ToLowerInvariant() switch
        {
            "udp" => ProtocolUdp,
            "tcp" => ProtocolTcp,
            "icmp" => ProtocolIcmp,
            "icmp6" => ProtocolIcmpv6,
            _ => (byte)Number(word, 255, "an IP protocol number"),
        };

        IPAddress Address(string word, AddressFamily family, bool arp = false)
        {
            if (!IPAddress.TryParse(word, out IPAddress? address) || address.AddressFamily != family || word.Contains('/') || (family == AddressFamily.InterNetworkV6 && address.ScopeId != 0))
                Fail(family == AddressFamily.InterNetwork
                    ? $"'{word}' (word {_next}) is not an IPv4 address{(!word.Contains(':') ? "" : arp ? "; IPv6 has no ARP (NDP is ICMPv6: write \"icmp6\")" : "; write \"ip6 dst\" for IPv6")}."
                    : $"'{word}' (word {_next}) is not an IPv6 address{(word.Contains('.') && !word.Contains(':') ? "; write \"ip dst\" for IPv4" : "")}.");
            return address!;
        }

        PortRange Ports(string word)
        {
            string[] parts = word.Split('-');
            if (parts.Length > 2)
                Fail($"'{word}' (word {_next}) is not a port or a range like 8000-8100.");
            ushort first = Number(parts[0], 65535, "a port"), last = parts.Length == 2 ? Number(parts[1], 65535, "a port") : first;
            if (last < first)
                Fail($"the port range {word} is backwards: write {last}-{first}.");
            return new PortRange(first, last);
        }

        void SetVlanId(ushort id) => _filter = _filter with { VlanId = Same(_filter.VlanId, id, "VLAN ids", v => v.ToString(CultureInfo.InvariantCulture)) };

        void SetEtherType(ushort type) => _filter = _filter with { EtherType = Same(_filter.EtherType, type, "EtherTypes", t => $"0x{t:x4}") };

        void SetProtocol(byte protocol) => _filter = _filter with { Protocol = Same(_filter.Protocol, protocol, "IP protocols", p => p.ToString(CultureInfo.InvariantCulture)) };

        void SetArpOperation(ushort operation) => _filter = _filter with { ArpOperation = Same(_filter.ArpOperation, operation, "ARP operations", o => o.ToString(CultureInfo.InvariantCulture)) };

        void SetIcmpType(byte type) => _filter = _filter with { IcmpType = Same(_filter.IcmpType, type, "ICMP types", t => t.ToString(CultureInfo.InvariantCulture)) };

        void SetDestination(IPAddress address)
        {
            if (_filter.Destination is { } old && !old.Equals(address))
                Fail($"two destination addresses ({old} and {address}): a frame has one.");
            _filter = _filter with { Destination = address };
        }

        void SetPorts(PortRange ports)
        {
            if (_filter.DestinationPort is { } old && old != ports)
                Fail($"two destination port clauses ({old} and {ports}): write one range.");
            _filter = _filter with { DestinationPort = ports };
        }

        T Same<T>(T? old, T value, string what, Func<T, string> show) where T : struct
        {
            if (old is { } o && !o.Equals(value))
                Fail($"conflicting {what} ({show(o)} and {show(value)}): a frame has one, so the filter could never match.");
            return value;
        }

        [System.Diagnostics.CodeAnalysis.DoesNotReturn]
        void Fail(string cause) => throw new SyntaxException(text, cause);
    }

    /// <summary>A mistake in the filter's text: an <see cref="ArgumentException"/> for Parse, whose cause TryParse hands back.</summary>
    sealed class SyntaxException(string text, string cause)
        : ArgumentException(Throw.Message($"filter \"{text}\"", cause, Parser.Grammar), nameof(text))
    {
        public string Cause { get; } = cause;
    }
}
