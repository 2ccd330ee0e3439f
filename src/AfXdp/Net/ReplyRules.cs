namespace AfXdp.Net;

/// <summary>
/// Whom a correct host answers (RFC 1122), in one place for every responder of the library (applied frame
/// by frame by <see cref="HostPolicy"/>, for echo and the UDP service): not a source address that names no single host (0/8,
/// loopback, multicast, class E and the limited broadcast, the host's own address, the subnet's
/// broadcast and network address; 3.2.1.3, 3.3.6), not a frame from a group MAC address, and no datagram from a reflector
/// service port, so that two responders can never answer each other forever. Pure functions on
/// addresses most significant byte first.
/// </summary>
public static class ReplyRules
{
    /// <summary>
    /// True when a reply to <paramref name="source"/> may be sent by the host <paramref name="local"/>;
    /// <paramref name="subnetBroadcast"/> and <paramref name="subnetNetwork"/> are the local subnet's broadcast
    /// and network addresses (<see cref="SubnetBroadcast"/>, <see cref="SubnetNetwork"/>), or 0 when there are none.
    /// </summary>
    public static bool IsAnswerableSource(uint source, uint local, uint subnetBroadcast = 0, uint subnetNetwork = 0) =>
        (source >> 24) is not (0 or 127) // "this network" and loopback
        && source < 0xE000_0000          // multicast (224/4), class E (240/4) and 255.255.255.255
        && source != local
        && (subnetBroadcast == 0 || source != subnetBroadcast)
        && (subnetNetwork == 0 || source != subnetNetwork);

    /// <summary>
    /// True when a reply to the IPv6 <paramref name="source"/> may be sent by the host <paramref name="local"/> (both
    /// most significant byte first, <see cref="Ipv6Address"/>): not the unspecified address :: (RFC 4291 2.5.2), not the
    /// loopback ::1 (2.5.3), not multicast ff00::/8 (2.7, RFC 4443 2.4 (e.3)), not IPv4-mapped (2.5.5.2: never on the
    /// wire; Linux's ip6_rcv_core drops such sources and multicast ones), not the host's own address.
    /// </summary>
    public static bool IsAnswerableSource(UInt128 source, UInt128 local) =>
        source > UInt128.One                       // :: and ::1
        && source >> 120 != 0xFF                   // multicast
        && !Ipv6Address.IsIpv4Mapped(source)
        && source != local;

    /// <summary>True for a frame's source MAC a reply can go to: not broadcast, not multicast.</summary>
    public static bool IsAnswerableSourceMac(MacAddress source) => !source.IsMulticast;

    /// <summary>
    /// True for port 0, which no sender uses (RFC 768: "no reply expected"), and for the source ports of
    /// services that send a datagram in response to whatever reaches them: a datagram from one may itself
    /// be an answer, and answering it back starts a loop (two responders never stop).
    /// </summary>
    public static bool IsReflectorPort(ushort port) => port is
        0       // no reply expected
        or 7    // echo (RFC 862): sends every datagram back, so two echoes answer each other forever
        or 9    // discard (RFC 863): answers nothing, but is the classic partner of echo in loop attacks
        or 11   // systat (RFC 866): answers any datagram with the list of users
        or 13   // daytime (RFC 867): answers any datagram with the time
        or 17   // quote of the day (RFC 865): answers any datagram with a quote
        or 19   // chargen (RFC 864): answers any datagram with up to 512 bytes, the classic echo/chargen loop
        or 37   // time (RFC 868): answers any datagram with the time
        or 69;  // TFTP (RFC 1350): answers any datagram, at least with an error packet

    /// <summary>
    /// True for the ports of request/response services whose answers to spoofed requests are many times
    /// larger (the classic amplifiers). A responder that sends back what it received (echo) must not answer
    /// a datagram from one: it would bounce attacker-chosen bytes, say a query, at that service, whose large
    /// answer then comes back to it. A service that only answers its own requests (DNS on 53) need not refuse them.
    /// </summary>
    public static bool IsAmplifierPort(ushort port) => port is
        53      // DNS: answers up to ~50 times larger (ANY, DNSSEC)
        or 111  // portmapper (RFC 1833): dumps many times larger than the request
        or 123  // NTP: monlist and mode 7 answers hundreds of times larger
        or 137  // NetBIOS name service: answers any name query
        or 161  // SNMP: GetBulk answers many times larger
        or 389  // CLDAP: answers up to ~70 times larger
        or 520  // RIP: answers requests with the routing table
        or 1900 // SSDP: answers M-SEARCH with several datagrams
        or 3702 // WS-Discovery: answers probes with large XML
        or 5353 // mDNS: answers queries, also unicast ones
        or 11211; // memcached: answers get with values up to 1 MB (up to ~50,000 times larger)

    /// <summary>The broadcast address of <paramref name="address"/>'s subnet of <paramref name="prefixLength"/> bits; 0 for /31 and /32, which have none (RFC 3021).</summary>
    public static uint SubnetBroadcast(uint address, int prefixLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, 32);
        return prefixLength >= 31 ? 0 : address | (uint.MaxValue >> prefixLength);
    }

    /// <summary>
    /// The network address of <paramref name="address"/>'s subnet of <paramref name="prefixLength"/> bits (host
    /// bits all zero): no host's address, but the old 4.2BSD form of the subnet's broadcast, which RFC 1122 3.3.6
    /// asks hosts to accept as one. 0 for /31 and /32, whose every address is a host (RFC 3021), and for /0.
    /// </summary>
    public static uint SubnetNetwork(uint address, int prefixLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, 32);
        return prefixLength is 0 or >= 31 ? 0 : address & ~(uint.MaxValue >> prefixLength);
    }
}
